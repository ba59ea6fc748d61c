"""What a failed cell says: its reason, and whether sending the same input again may fix it.

Exception policy: an :class:`~stt_eval.errors.SttEvalError` (bad audio, a provider's refusal, a
condition that cannot run) or the system's OSError (a file, a full disk) is expected and needs
no traceback; anything else is a bug in stt-eval, so its traceback also
goes to the ``stt_eval`` log. A failure is "transient" when a re-run may pass (a re-run tries the
cell again) and "permanent" when it will not with the same inputs (kept unless retry_failed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from stt_eval.errors import SttEvalError
from stt_eval.providers.errors import TransientProviderError
from stt_eval.providers.keys import scrub

log = logging.getLogger("stt_eval")


def _ours(exc: BaseException) -> bool:
    """An expected failure: decided by the error's family, never by the module that raised it."""
    return isinstance(exc, SttEvalError | OSError)


def describe_error(exc: BaseException) -> str:
    """A failure row's reason. Our own errors carry the file and the fix; anything else is a bug
    in stt-eval, so its traceback is logged as well."""
    if _ours(exc):
        return scrub(str(exc) if str(exc) else type(exc).__name__)
    log.error("internal error (please report it): %s", exc, exc_info=exc)
    return scrub(f"internal error in stt-eval: {type(exc).__name__}: {exc} (traceback in the log)")


def failure_kind(exc: BaseException) -> str:
    """ "transient" when the same input sent again may pass: a provider's timeout, connection
    failure, 5xx or 429 out of attempts; an I/O error; a bug in stt-eval (an upgrade fixes it).
    Else "permanent": a provider's 4xx, unusable audio, a condition that cannot run."""
    if isinstance(exc, TransientProviderError | OSError) or not _ours(exc):
        return "transient"
    return "permanent"


@dataclass(frozen=True)
class Failed:
    """A stage that failed for every cell that needs it: the reason and :func:`failure_kind`."""

    reason: str
    kind: str
