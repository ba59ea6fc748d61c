"""Receipt times for local engines, which spend compute between frames.

A local engine decodes in the process that feeds it, one frame after another, like a
single-server queue. A message it emits after decoding a frame is stamped:

- at a set pace (``realtime`` or N×): the audio clock when the decode finished (wall time × pace,
  so the engine's compute delays it as it would a listener);
- at ``fast``: ``done = max(audio fed, previous done) + compute seconds of this step`` — the
  time the message would arrive if the audio came at real time and the engine needed the
  compute it took here. So latency includes processing time at any pace, and an engine slower
  than real time falls further behind as the stream goes on.

A step's compute is the smaller of its wall time and this process's CPU time over it: on a
shared machine the wall time also counts waiting for a core (a run beside 8 others measured
pocketsphinx at 5x its idle time), while the CPU time of a multi-threaded engine (CTranslate2)
adds its threads up; the smaller is the closer to what the engine needs on a free machine.
"""

from __future__ import annotations

import time

from stt_eval.streaming.events import AudioClock

RECEIPT = "fast: max(fed, done) + min(wall, cpu)"
"""How receipt times are made (part of local engines' cache identity)."""


class EngineClock:
    """Stamps a local engine's messages on the stream's audio clock (see the module)."""

    def __init__(self, clock: AudioClock) -> None:
        self.clock = clock
        self.done_s = 0.0
        self.compute_s = 0.0
        self._began = (0.0, 0.0)

    def begin(self) -> None:
        """Start timing one decode step."""
        self._began = (time.perf_counter(), time.process_time())

    def end(self) -> float:
        """End the step: the receipt time of what it produced."""
        wall, cpu = time.perf_counter() - self._began[0], time.process_time() - self._began[1]
        spent = min(wall, cpu)
        self.compute_s += spent
        if self.clock.pace is not None:
            return self.clock.now_s()
        self.done_s = max(self.clock.now_s(), self.done_s) + spent
        return self.done_s
