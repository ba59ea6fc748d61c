"""The one exception of the conditions layer."""

from __future__ import annotations

from stt_eval.errors import SttEvalError

__all__ = ["ConditionError"]


class ConditionError(SttEvalError, ValueError):
    """A condition spec (or the audio it is applied to) cannot be used; the message says why."""
