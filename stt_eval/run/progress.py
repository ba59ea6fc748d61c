"""Progress a person can trust: one tick per transcribed window (not per cell), with an ETA and
how many were served from the cache, sent, retried and failed, and the list price so far."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from tqdm import tqdm

from stt_eval.rows import ResultRow
from stt_eval.types import UnitDone


class Progress:
    """A tqdm bar over units; the counts ride along as its postfix."""

    def __init__(self, total_units: int, desc: str, enabled: bool = True) -> None:
        self.cached = self.sent = self.retried = self.failed = 0
        self.cost = 0.0
        self.bar = tqdm(
            total=total_units,
            unit="window",
            desc=desc,
            file=sys.stderr,
            disable=not enabled or not total_units,
            smoothing=0.1,
        )

    def unit(self, event: UnitDone) -> None:
        if event.cached:
            self.cached += 1
        else:
            self.sent += 1
            self.retried += max(0, event.attempts - 1)
            self.cost += event.cost_usd or 0.0
        self.bar.update(1)
        self._postfix()

    def rows(self, rows: Sequence[ResultRow]) -> None:
        self.failed += sum(r.status == "failed" for r in rows)
        self._postfix()

    def _postfix(self) -> None:
        parts = {
            "cached": self.cached,
            "sent": self.sent,
            "retried": self.retried,
            "failed": self.failed,
        }
        if self.cost:
            parts["cost"] = f"${self.cost:.2f}"
        self.bar.set_postfix(parts, refresh=False)

    def close(self) -> None:
        self.bar.close()
