"""stt-eval: evaluate and benchmark speech-to-text on your own recordings (see stt_eval.api)."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """``__version__`` on first use: importlib.metadata costs a quick command ~30 ms to import."""
    if name != "__version__":
        raise AttributeError(f"module 'stt_eval' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("stt-eval")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
