"""stt-eval: evaluate and benchmark speech-to-text on your own recordings (see stt_eval.api)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stt-eval")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
