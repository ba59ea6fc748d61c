"""Datasets: manifests, transcripts and annotation files (RTTM, STM, CTM, UEM)."""
