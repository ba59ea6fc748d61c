"""The transcripts ``stt-eval score`` accepts, in the forms users have them, paired by id.

- ``.trn`` (sclite): ``words (id)``.
- ``.txt``: one utterance a line, no ids: paired with the other file by line number, like
  jiwer's CLI (with a warning: a line added or lost shifts every pair after it).
- ``.jsonl`` / ``.json``: ours (``id``, ``text``) or NeMo / open_asr_leaderboard (no id: the
  ``audio_filepath`` stem; a hypotheses file's text is ``pred_text`` when present). ``speaker``
  (or ``spk``) and ``meta`` keys / other scalar fields give ``--by`` labels.
- ``.stm`` (references): one utterance per segment, labelled with its speaker.
- ``.ctm`` (hypotheses): timed words. Against an STM each word goes to the reference segment
  that holds its midpoint, a word between segments to the nearest one (the later one on a tie),
  so a file's words are scored segment by segment as ``sclite -h ctm`` does; against any other
  reference a file's words, in time order, are one utterance keyed by the file id.
  (sclite aligns a whole file by dynamic programming, so a word in a gap between segments may
  land in the other neighbour there: totals agree, a per-speaker split can differ.)
"""

from __future__ import annotations

import bisect
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stt_eval.datasets.annotations import (
    AnnotationError,
    check_ids_held,
    read_ctm,
    read_rttm,
    read_stm,
    read_uem,
)
from stt_eval.datasets.importers.stm import segment_id
from stt_eval.datasets.text import UnreadableText, json_lines, read_lines
from stt_eval.datasets.transcripts import TranscriptFileError, read_trn
from stt_eval.metrics.scorable import some_ids
from stt_eval.normalization.languages import (
    check_language,
    english_rules_warning,
    foreign_script,
)
from stt_eval.normalization.rules import uses_english_rules
from stt_eval.types import SpeakerSegment, SpeakerTurn, Word

SUFFIXES = (".trn", ".txt", ".jsonl", ".json", ".stm", ".ctm")


class LineMatchingWarning(UserWarning):
    """Plain-text transcripts were paired by line number, not by id."""


@dataclass(frozen=True)
class Utterances:
    """Texts by id from one file, with ``labels[id]`` (``spk``, ``meta.KEY``) for breakdowns;
    ``segments`` (STM) or ``words`` (CTM) by file id when the file carries times."""

    path: Path
    kind: str
    texts: dict[str, str]
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    segments: Mapping[str, tuple[SpeakerSegment, ...]] | None = None
    words: Mapping[str, tuple[Word, ...]] | None = None


def _jsonl(path: Path, hypotheses: bool) -> Utterances:
    texts: dict[str, str] = {}
    labels: dict[str, dict[str, str]] = {}
    for n, row, reason in json_lines(_lines(path)):
        if reason is not None:
            raise TranscriptFileError(f"{path}: line {n}: not valid JSON ({reason})")
        key = "pred_text" if hypotheses and isinstance(row, dict) and "pred_text" in row else "text"
        uid = _row_id(row)
        if uid is None or not isinstance(row.get(key), str):
            raise TranscriptFileError(
                f'{path}: line {n}: each row needs "id" (a string) and "{key}" (a string), or '
                'NeMo\'s "audio_filepath" and "text"/"pred_text"'
            )
        if uid in texts:
            raise TranscriptFileError(f"{path}: line {n}: duplicate id {uid!r}; ids must be unique")
        texts[uid] = row[key]
        labels[uid] = _labels(row)
    return Utterances(path, "jsonl", texts, labels)


def _row_id(row: Any) -> str | None:
    if not isinstance(row, dict):
        return None
    if "id" in row:
        return row["id"] if isinstance(row["id"], str) and row["id"] else None
    if isinstance(row.get("audio_filepath"), str):
        stem = Path(row["audio_filepath"]).stem
        offset = row.get("offset")
        return stem if offset is None else f"{stem}-{round(float(offset) * 1000):07d}"
    return None


def _labels(row: dict[str, Any]) -> dict[str, str]:
    out = {}
    speaker = row.get("speaker", row.get("spk"))
    if isinstance(speaker, (str, int)):
        out["spk"] = str(speaker)
    meta = row.get("meta") if isinstance(row.get("meta"), dict) else {}
    skip = {"id", "text", "pred_text", "audio_filepath", "meta", "speaker", "spk"}
    extra = {k: v for k, v in row.items() if k not in skip}
    for key, value in {**extra, **meta}.items():
        if isinstance(value, (str, int, float, bool)):
            out[f"meta.{key}"] = str(value)
    return out


def _lines(path: Path) -> list[str]:
    try:
        return read_lines(path)
    except UnreadableText as exc:
        raise TranscriptFileError(str(exc)) from None


def read_utterances(path: Path | str, *, hypotheses: bool = False) -> Utterances:
    """Read one transcript file by its suffix (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise TranscriptFileError(f"{path}: file not found")
    kind = path.suffix.lower()
    try:
        if kind == ".trn":
            return Utterances(path, "trn", read_trn(path))
        if kind == ".txt":
            lines = _lines(path)
            return Utterances(path, "txt", {str(n): t for n, t in enumerate(lines, start=1)})
        if kind in (".jsonl", ".json"):
            return _jsonl(path, hypotheses)
        if kind == ".stm":
            segs = read_stm(path)
            texts = {segment_id(f, s.start, s.end): s.text for f, ss in segs.items() for s in ss}
            labels = {
                segment_id(f, s.start, s.end): {"spk": s.speaker}
                for f, ss in segs.items()
                for s in ss
            }
            return Utterances(path, "stm", texts, labels, segments=segs)
        if kind == ".ctm":
            words = read_ctm(path)
            texts = {f: " ".join(w.text for w in ws) for f, ws in words.items()}
            return Utterances(path, "ctm", texts, words=words)
    except AnnotationError as exc:
        raise TranscriptFileError(str(exc)) from None
    raise TranscriptFileError(
        f"{path}: unsupported transcript file {path.suffix!r}; use one of {', '.join(SUFFIXES)}"
    )


def _nearest(segments: tuple[SpeakerSegment, ...], starts: list[float], t: float) -> int:
    """The segment holding time ``t``, else the nearest one (the later one on a tie)."""
    i = bisect.bisect_right(starts, t) - 1
    if i >= 0 and segments[i].start <= t <= segments[i].end:
        return i
    before = i if i >= 0 else None
    after = i + 1 if i + 1 < len(segments) else None
    if before is None:
        return after  # type: ignore[return-value]
    if after is None:
        return before
    return before if t - segments[before].end < segments[after].start - t else after


def assign_words(
    segments: Mapping[str, tuple[SpeakerSegment, ...]], words: Mapping[str, tuple[Word, ...]]
) -> dict[str, str]:
    """CTM words as hypotheses of STM segments (keyed like :func:`segment_id`): each word goes
    to the segment holding its midpoint, else to the nearest. A file in the CTM but not in the
    STM keeps its file id (a hypothesis with no reference); a segment with no word gets ``""``.
    """
    out: dict[str, list[str]] = {}
    for fid, segs in segments.items():
        for s in segs:
            out[segment_id(fid, s.start, s.end)] = []
    for fid, ws in words.items():
        segs = segments.get(fid)
        if not segs:
            out[fid] = [w.text for w in ws]
            continue
        starts = [s.start for s in segs]
        for w in ws:
            s = segs[_nearest(segs, starts, (w.start + w.end) / 2)]
            out[segment_id(fid, s.start, s.end)].append(w.text)
    return {uid: " ".join(ws) for uid, ws in out.items()}


def read_pair(
    references: Path | str, hypotheses: Path | str, normalizer: str, language: str
) -> tuple[Utterances, Utterances, dict[str, str], dict[str, str]]:
    """Both files read and their texts keyed alike (see :func:`pair`); an unknown language is
    refused first, and non-Latin references under English rules are warned about."""
    check_language(language)
    refs = read_utterances(references)
    hyps = read_utterances(hypotheses, hypotheses=True)
    ref_texts, hyp_texts = pair(refs, hyps)
    warn_foreign_script(ref_texts, refs.path, normalizer, language)
    return refs, hyps, ref_texts, hyp_texts


def _by_file(u: Utterances) -> dict[str, str]:
    """An STM's texts joined per file (in time order), to pair with per-file hypotheses."""
    return {f: " ".join(s.text for s in segs) for f, segs in (u.segments or {}).items()}


def pair(refs: Utterances, hyps: Utterances) -> tuple[dict[str, str], dict[str, str]]:
    """References and hypotheses keyed alike: by id, by line (text), or by time (STM × CTM)."""
    if (refs.kind == "txt") != (hyps.kind == "txt"):
        text, other = (refs, hyps) if refs.kind == "txt" else (hyps, refs)
        raise TranscriptFileError(
            f"{text.path} is plain text (no ids) but {other.path} has ids; give both as .txt "
            "(paired by line) or both with ids (.trn, .jsonl)"
        )
    if refs.kind == "txt":
        if len(refs.texts) != len(hyps.texts):
            raise TranscriptFileError(
                f"{refs.path} has {len(refs.texts)} lines but {hyps.path} has {len(hyps.texts)}; "
                "plain-text transcripts are paired by line, so they need one line per utterance "
                "each (an empty line for an empty transcript)"
            )
        warnings.warn(
            f"{refs.path} and {hyps.path} are plain text: paired by line number, not by id",
            LineMatchingWarning,
            stacklevel=3,
        )
        return refs.texts, hyps.texts
    if refs.kind == "stm" and hyps.kind == "ctm":
        return refs.texts, assign_words(refs.segments or {}, hyps.words or {})
    ref_texts = _by_file(refs) if refs.kind == "stm" else refs.texts
    hyp_texts = _by_file(hyps) if hyps.kind == "stm" else hyps.texts
    return ref_texts, hyp_texts


class ScriptWarning(UserWarning):
    """References in a non-Latin script are normalized with the English rules."""


def warn_foreign_script(
    refs: Mapping[str, str], path: Path, normalizer: str, language: str
) -> None:
    """Warn once, naming the file and some ids, when English rules meet non-Latin references."""
    if not uses_english_rules(normalizer, language):
        return
    foreign = [uid for uid, text in refs.items() if foreign_script(text)]
    if foreign:
        said = english_rules_warning(refs[foreign[0]], True)
        warnings.warn(f"{path}: {some_ids(foreign)}: {said}", ScriptWarning, stacklevel=3)


Turns = dict[str, tuple[SpeakerTurn, ...]]


def read_diarization(
    reference: Path | str, hypothesis: Path | str, uem: Path | str | None = None
) -> tuple[Turns, Turns, dict[str, tuple[tuple[float, float], ...]] | None]:
    """Reference and hypothesis turns (RTTM) and scoring regions (UEM) for DER, checked
    against the reference: it holds turns (else DER is undefined), the hypothesis and the UEM
    hold only its file ids, and the UEM has regions for each of them."""
    ref = read_rttm(reference)
    if not ref:
        raise AnnotationError(
            reference,
            None,
            "holds no SPEAKER turns, so DER is undefined (no reference speech to score)",
            "check it is the reference RTTM: 'SPEAKER <file> 1 <tbeg> <tdur> <NA> <NA> <name> "
            "<NA> <NA>' lines",
        )
    known = f"the reference {reference}"
    hyp = read_rttm(hypothesis, known_ids=set(ref), known_from=known)
    if not uem:
        return ref, hyp, None
    regions = read_uem(uem, known_ids=set(ref), known_from=known)
    check_ids_held(uem, "UEM", ref, regions)
    return ref, hyp, regions
