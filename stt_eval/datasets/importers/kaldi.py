"""Kaldi data directories: ``wav.scp`` (``recording-id path``), ``text`` (``utterance-id
words...``), optional ``segments`` (``utterance-id recording-id start end``, seconds) and
``utt2spk`` (``utterance-id speaker``).

Without ``segments`` every utterance is a whole recording (utterance id = recording id). With
it, each utterance is a slice: its audio is the recording and ``meta`` holds ``offset_s``,
``duration_s`` and ``recording`` (see :mod:`stt_eval.datasets.importers.common`).

``wav.scp`` entries that are commands (``rec sox a.sph -t wav - |``) or archive offsets
(``rec data.ark:123``) cannot be read as files: each such row is reported, with the fix (run
the command once to write a wav, and point ``wav.scp`` at it). Relative paths are tried against
the data directory, then against the recipe folder two levels up (where Kaldi scripts run,
``egs/<corpus>/s5``), then the working directory.
"""

from __future__ import annotations

from pathlib import Path

from stt_eval.datasets.importers.common import Row, collect, slice_meta
from stt_eval.datasets.manifest import Manifest, ManifestError, RowProblem
from stt_eval.datasets.text import UnreadableText, read_lines
from stt_eval.types import InvalidRecord, Sample

FILES = ("wav.scp", "text", "segments", "utt2spk")


def _table(path: Path, columns: int | None) -> dict[str, tuple[int, list[str]]]:
    """{first column: (line number, remaining columns)} of a Kaldi table file; with
    ``columns``, a line with another number of columns is an error naming it."""
    try:
        lines = read_lines(path)
    except UnreadableText as exc:
        raise ManifestError(path, f"{exc.where_problem} — {exc.fix}") from None
    out: dict[str, tuple[int, list[str]]] = {}
    for n, line in enumerate(lines, start=1):
        fields = line.split(maxsplit=1 if columns is None else -1)
        if not fields:
            continue
        if columns is not None and len(fields) != columns:
            raise ManifestError(
                path, f"line {n}: {len(fields)} columns, {path.name} needs {columns}"
            )
        if fields[0] in out:
            raise ManifestError(
                path, f"line {n}: id {fields[0]!r} is also on line {out[fields[0]][0]}"
            )
        out[fields[0]] = (n, fields[1:])
    return out


def _audio(value: str, folder: Path) -> Path:
    """The file a wav.scp entry names, or InvalidRecord when it is a command or archive."""
    if value.rstrip().endswith("|"):
        raise InvalidRecord(
            f"wav.scp entry is a command ({value.strip()!r}); stt-eval reads audio files: run "
            "it once to write a wav (e.g. '<command> > rec.wav', without the '|') and put that "
            "path in wav.scp"
        )
    if ".ark:" in value:
        raise InvalidRecord(
            f"wav.scp entry {value!r} is an offset into a Kaldi archive; extract the wavs "
            "(wav-copy scp:wav.scp ark,t:- or utils/data/extract_wav_segments_data_dir.sh)"
        )
    path = Path(value.strip())
    if path.is_absolute():
        return path
    for root in (folder, folder.parent.parent, Path.cwd()):
        if (root / path).is_file():
            return root / path
    return folder / path


def read_kaldi(path: Path | str, *, check_audio: bool = True) -> Manifest:
    """Samples of a Kaldi data dir; every bad utterance is a RowProblem (file ``text``, line)."""
    folder = Path(path)
    if not (folder / "wav.scp").is_file() or not (folder / "text").is_file():
        raise ManifestError(
            folder, "is not a Kaldi data dir: it needs wav.scp and text (segments, utt2spk too)"
        )
    wavs = {k: v[1][0] if v[1] else "" for k, v in _table(folder / "wav.scp", None).items()}
    texts = _table(folder / "text", None)
    segments = _table(folder / "segments", 4) if (folder / "segments").is_file() else None
    spk = _table(folder / "utt2spk", 2) if (folder / "utt2spk").is_file() else {}
    text_path = folder / "text"

    def build(utt: str, words: str) -> Sample:
        meta: dict = {}
        if segments is not None:
            if utt not in segments:
                raise InvalidRecord(f"utterance is not in {folder / 'segments'}; add its line")
            rec, start, end = segments[utt][1]
            try:
                start_s, end_s = float(start), float(end)
            except ValueError:
                raise InvalidRecord(f"segments times {start!r} {end!r} are not numbers") from None
            meta.update(slice_meta(start_s, round(end_s - start_s, 6), rec))
        else:
            rec = utt
        if rec not in wavs:
            raise InvalidRecord(f"recording {rec!r} is not in {folder / 'wav.scp'}; add it")
        if utt in spk:
            meta["speaker"] = spk[utt][1][0]
        return Sample(utt, _audio(wavs[rec], folder), words, meta=meta)

    def rows():
        for utt, (n, rest) in texts.items():
            if not rest or not rest[0].strip():
                yield RowProblem(text_path, n, utt, "no words; add the transcript or drop it")
                continue
            yield Row(text_path, n, utt, lambda utt=utt, w=rest[0]: build(utt, w))

    return collect(folder, rows(), check_audio=check_audio)
