"""The bundled ffmpeg (from imageio-ffmpeg, so no system ffmpeg is needed) and the one function
that starts it: decoding in :mod:`stt_eval.audio.load`, the codec and telephony conditions in
:mod:`stt_eval.conditions`. ``stt_eval.audio.load`` re-exports these names."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

import imageio_ffmpeg

from stt_eval.errors import SttEvalError


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary bundled with imageio-ffmpeg (no system ffmpeg needed)."""
    return imageio_ffmpeg.get_ffmpeg_exe()


class FfmpegError(SttEvalError):
    """ffmpeg exited non-zero. Callers turn it into their own error (AudioError, ConditionError)
    with ``last_line``, ffmpeg's own last word on what went wrong."""

    def __init__(self, returncode: int, stderr: str) -> None:
        self.returncode = returncode
        self.stderr = stderr
        lines = stderr.strip().splitlines()
        self.last_line: str | None = lines[-1] if lines else None
        super().__init__(f"ffmpeg failed ({self.last_line or f'exit code {returncode}'})")


def run_ffmpeg(args: Sequence[str], *, input: bytes | None = None, strict: bool = False) -> bytes:
    """Run the bundled ffmpeg on ``args`` (``input`` fed to stdin) and return what it wrote to
    stdout.

    Always quiet and non-interactive (``-nostdin -v error``), so stderr holds only errors; a
    non-zero exit raises FfmpegError carrying that stderr. ``strict`` also raises when ffmpeg
    reported an error yet exited 0: a decoder that skipped damaged data or hit a premature end
    ("File ended prematurely") still exits 0 with the part it could decode.
    """
    cmd = [ffmpeg_exe(), "-nostdin", "-v", "error", *args]
    proc = subprocess.run(cmd, input=input, capture_output=True, check=False)
    if proc.returncode != 0 or (strict and proc.stderr.strip()):
        raise FfmpegError(proc.returncode, proc.stderr.decode(errors="replace"))
    return proc.stdout
