"""Streaming (real-time) transcription: paced audio frames in, timed partials and finals out."""
