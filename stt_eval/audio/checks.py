"""What decoding alone does not tell about a file: whether it holds all the audio its header
promises (what the decoded signal holds is :mod:`stt_eval.audio.signal`'s concern).

Decoders are lenient on purpose: libsndfile shortens a WAV whose data chunk runs past the end of
the file to what is there, and ffmpeg decodes what it can of a damaged file and carries on. For
an evaluation that leniency is the worst case, a plausible number computed on part of a
recording, so the audio module asks here:

- :func:`check_file`: a path that is no file, an empty file, or a file whose header promises
  more audio than it holds is an :class:`AudioError` (``stt_eval.audio.load`` re-exports it).
- :func:`declared_data`: the data size a WAV (RIFF, RIFX, RF64, Wave64), AIFF or NIST SPHERE
  header declares, next to the bytes the file really holds, so a cut-short copy is refused
  instead of scored on its start.
- :func:`ogg_ending`: whether an Ogg file ends with a whole end-of-stream page (Ogg headers hold
  no length, so a cut-short Opus or Vorbis file decodes without a complaint otherwise).
- :func:`mpeg_length_tagged`: whether an MP3 carries a Xing/Info/VBRI frame count. Without one,
  libsndfile's length is a guess from the first frame (a 4 s VBR file reads as 0.66 s), so MP3 is
  always decoded by ffmpeg and its length is only checked against the header when it is tagged.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    pass

from stt_eval.errors import SttEvalError

TRUNCATED_FIX = (
    "copy or export the recording again; to score only the part that exists, re-save it so its "
    "header matches what is there (e.g. ffmpeg -i <file> fixed.wav)"
)
"""The fix of every truncated-file AudioError."""

_UNKNOWN_SIZE = 0xFFFFFFFF
"""The data size a streaming writer leaves when it cannot seek back (length not known): no promise."""

_AIFC_PCM = (b"NONE", b"sowt", b"twos", b"in24", b"in32", b"fl32", b"fl64", b"FL32", b"FL64")
"""AIFC compression types that are plain samples (so bytes per second follow from COMM)."""

_MAX_CHUNKS = 64
"""Chunks walked before the data chunk; a header longer than this is left to the decoder."""


class AudioError(SttEvalError):
    """An audio file could not be used; the message names the file and the fix."""

    def __init__(self, path: Path | str, problem: str, fix: str) -> None:
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{path}: {problem}", fix)


@dataclass(frozen=True)
class DataChunk:
    """The audio bytes a file's header declares and the bytes the file holds after the header.

    ``bytes_per_second`` converts both to seconds for messages (None when the header does not
    give it, e.g. compressed AIFC).
    """

    declared: int
    present: int
    bytes_per_second: float | None

    def seconds(self, n_bytes: int) -> str:
        """``n_bytes`` as seconds when the rate is known, for messages."""
        return f" ({n_bytes / self.bytes_per_second:.2f} s)" if self.bytes_per_second else ""


def _aiff_rate(ext: bytes) -> float:
    """The 80-bit IEEE extended float AIFF stores its sample rate in."""
    exponent = ((ext[0] & 0x7F) << 8) | ext[1]
    mantissa = int.from_bytes(ext[2:10], "big")
    return mantissa * 2.0 ** (exponent - 16383 - 63) if mantissa else 0.0


def _walk(f: BinaryIO, endian: str, start: int, size_of_file: int, aiff: bool) -> DataChunk | None:
    """Walk the chunks from ``start`` to the data chunk, noting the byte rate on the way."""
    rate: float | None = None
    ds64: int | None = None
    pos = start
    for _ in range(_MAX_CHUNKS):
        f.seek(pos)
        head = f.read(8)
        if len(head) < 8:
            return None
        cid, size = head[:4], struct.unpack(endian + "I", head[4:])[0]
        body = pos + 8
        if cid == b"ds64":
            ds64 = struct.unpack("<Q", f.read(16)[8:16])[0]
        elif cid == b"fmt " and not aiff:
            fmt = f.read(16)
            if len(fmt) == 16:
                rate = float(struct.unpack(endian + "I", fmt[8:12])[0]) or None
        elif cid == b"COMM" and aiff:
            comm = f.read(min(size, 22))  # AIFC adds a 4-byte compression type to AIFF's 18
            if len(comm) >= 18 and (len(comm) < 22 or comm[18:22] in _AIFC_PCM):
                channels, _frames, bits = struct.unpack(">hIh", comm[:8])
                rate = _aiff_rate(comm[8:18]) * channels * math.ceil(bits / 8) or None
        elif cid == b"data" and not aiff:
            declared = ds64 if ds64 is not None and size == 0xFFFFFFFF else size
            if declared == _UNKNOWN_SIZE:
                return None
            return DataChunk(declared, max(0, size_of_file - body), rate)
        elif cid == b"SSND" and aiff:  # offset and block size (8 bytes) precede the samples
            return DataChunk(max(0, size - 8), max(0, size_of_file - body - 8), rate)
        pos = body + size + (size & 1)
    return None


def _walk_w64(f: BinaryIO, size_of_file: int) -> DataChunk | None:
    """Sony Wave64: RIFF's layout with 16-byte GUIDs, 8-byte sizes that count the 24-byte chunk
    header, and chunks aligned to 8 bytes."""
    rate: float | None = None
    pos = 40
    for _ in range(_MAX_CHUNKS):
        f.seek(pos)
        head = f.read(24)
        if len(head) < 24:
            return None
        guid, size = head[:4], struct.unpack("<Q", head[16:])[0]
        if guid == b"fmt ":
            fmt = f.read(16)
            rate = float(struct.unpack("<I", fmt[8:12])[0]) if len(fmt) == 16 else None
        elif guid == b"data":
            return DataChunk(max(0, size - 24), max(0, size_of_file - pos - 24), rate or None)
        if size < 24:
            return None
        pos += (size + 7) & ~7
    return None


def _nist(f: BinaryIO, size_of_file: int) -> DataChunk | None:
    """NIST SPHERE: a text header of ``name -type value`` lines whose size is on its second line;
    None for embedded-compressed data (shorten, wavpack), whose size the header does not give."""
    f.seek(0)
    lines = f.read(1024).split(b"\n")
    try:
        header_size = int(lines[1])
    except (IndexError, ValueError):
        return None
    f.seek(0)
    fields = {}
    for line in f.read(header_size).split(b"\n")[2:]:
        parts = line.split(None, 2)
        if len(parts) == 3:
            fields[parts[0]] = parts[2].strip()
    coding = fields.get(b"sample_coding", b"pcm")
    try:
        frames, channels, width = (
            int(fields[k]) for k in (b"sample_count", b"channel_count", b"sample_n_bytes")
        )
        rate = float(fields.get(b"sample_rate", b"0"))
    except (KeyError, ValueError):
        return None
    if b"embedded" in coding or b"shorten" in coding:
        return None
    block = channels * width
    return DataChunk(frames * block, max(0, size_of_file - header_size), rate * block or None)


def declared_data(path: Path) -> DataChunk | None:
    """The data chunk of a WAV (RIFF / RIFX / RF64 / Wave64), AIFF (AIFF / AIFC) or NIST SPHERE
    file, or None for any other format, or when the header leaves the length open (a streamed
    WAV) or is unreadable (then the decoder reports it)."""
    size_of_file = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(28)
        if len(head) < 12:
            return None
        kind, form = head[:4], head[8:12]
        if kind in (b"RIFF", b"RF64") and form == b"WAVE":
            return _walk(f, "<", 12, size_of_file, aiff=False)
        if kind == b"RIFX" and form == b"WAVE":
            return _walk(f, ">", 12, size_of_file, aiff=False)
        if kind == b"FORM" and form in (b"AIFF", b"AIFC"):
            return _walk(f, ">", 12, size_of_file, aiff=True)
        if kind == b"riff" and head[24:28] == b"wave":
            return _walk_w64(f, size_of_file)
        if head.startswith(b"NIST_1A"):
            return _nist(f, size_of_file)
    return None


def check_file(path: Path) -> None:
    """Refuse a path that is not a file with audio bytes, or whose header promises more audio
    than the file holds (libsndfile would quietly read the part that is there)."""
    if not path.exists():
        raise AudioError(
            path, "file not found", "check the path (manifest paths are relative to the manifest)"
        )
    if path.is_dir():
        raise AudioError(
            path, "is a directory, not an audio file", "point at the audio file itself"
        )
    if path.stat().st_size == 0:
        raise AudioError(path, "file is empty (0 bytes)", "re-export or re-download the recording")
    ending = ogg_ending(path)
    if ending:
        raise AudioError(path, f"is truncated: {ending}", TRUNCATED_FIX)
    chunk = declared_data(path)
    if chunk is None:
        return
    if chunk.declared == 0 and chunk.present > 0:
        raise AudioError(
            path,
            f"its header says it holds 0 bytes of audio, yet {chunk.present} bytes follow "
            "(the recorder never finished writing the header)",
            "re-save it so the header is complete (ffmpeg -i in.wav out.wav)",
        )
    if chunk.present < chunk.declared:
        raise AudioError(
            path,
            f"is truncated: its header promises {chunk.declared} bytes of audio"
            f"{chunk.seconds(chunk.declared)} but the file holds {chunk.present}"
            f"{chunk.seconds(chunk.present)}",
            TRUNCATED_FIX,
        )


_OGG_MAX_PAGE = 27 + 255 + 255 * 255
"""The largest Ogg page: 27-byte header, 255 lacing values, 255 segments of 255 bytes."""


def ogg_ending(path: Path) -> str | None:
    """What is wrong with the end of an Ogg file (Vorbis, Opus, FLAC-in-Ogg), or None when it is
    not Ogg or ends with a whole end-of-stream page. Ogg headers hold no length, so a copy cut
    short decodes without complaint; only its missing last page tells."""
    size = path.stat().st_size
    with path.open("rb") as f:
        if f.read(4) != b"OggS":
            return None
        f.seek(max(0, size - _OGG_MAX_PAGE))
        tail = f.read()
    i = tail.rfind(b"OggS")
    page = tail[i:]
    if len(page) < 27 or len(page) < 27 + page[26]:
        return "its last Ogg page is cut off"
    if len(page) < 27 + page[26] + sum(page[27 : 27 + page[26]]):
        return "its last Ogg page is cut off"
    if not page[5] & 0x04:
        return "it has no end-of-stream page (the writer never finished it)"
    return None


def mpeg_length_tagged(path: Path) -> bool:
    """Whether an MPEG audio file's first frame carries a Xing, Info or VBRI frame count (then
    libsndfile's length comes from it; otherwise it is an estimate)."""
    with path.open("rb") as f:
        head = f.read(10)
        skip = 0
        if head[:3] == b"ID3" and len(head) == 10:  # ID3v2: syncsafe size after 6 bytes
            skip = 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(head[6:10]))
        f.seek(skip)
        frame = f.read(256)
    return any(tag in frame for tag in (b"Xing", b"Info", b"VBRI"))
