"""stt-eval: evaluate and benchmark speech-to-text on your own recordings (see stt_eval.api)."""
