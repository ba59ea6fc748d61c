"""Long-form audio: plan overlapping windows, transcribe each on its own, merge the transcripts.

A recording longer than an engine's context (Whisper: 30 s) is cut into windows that overlap
by ``overlap_s``; each window is transcribed on its own (in *chunk-local* time) and the pieces
are merged back into one transcript in global time. The seams are where errors cluster, so
``stt_eval.metrics.boundary.cut_attributed`` counts the errors the unchunked transcript did not
make, by distance from the nearest cut.

Timeline of two neighbouring windows (chunk 30 s, overlap 2 s, step 28 s)::

    0 s                          28 s  29 s  30 s                          58 s
    |---------- window 0 ------------------|
                                 |------------------ window 1 --------------|
                                 |<-- overlap -->|
                                        ^ seam (midpoint of the overlap) = the "cut"

Each moment is covered by at most two windows (overlap < chunk / 2), so a merge only ever has
to reconcile neighbours.

The modules follow the flow: ``settings`` (what to do, as data) → ``planning`` (where the
windows go) → ``merging`` (joining their transcripts). Reading the windows' audio is
``stt_eval.audio.load``'s job, finding pauses for the VAD planner ``stt_eval.audio.vad``'s.
"""

from stt_eval.chunking.merging import merge_chunks
from stt_eval.chunking.planning import cut_points, plan_chunks, plan_windows
from stt_eval.chunking.settings import (
    PLANNERS,
    STRATEGIES,
    ChunkingError,
    ChunkSetting,
    format_chunking,
    parse_chunking,
)

__all__ = [
    "PLANNERS",
    "STRATEGIES",
    "ChunkSetting",
    "ChunkingError",
    "cut_points",
    "format_chunking",
    "merge_chunks",
    "parse_chunking",
    "plan_chunks",
    "plan_windows",
]
