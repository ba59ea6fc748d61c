"""``stt-eval tune``: which chunk length, overlap, merge and planner to use, found by racing.

The modules follow the flow: ``space`` (the candidates and presets) → ``files`` (search order
and holdout) → ``race`` (successive halving with a paired test, on per-file counts) →
``recommend`` (the cheapest setting not significantly worse than the best) → ``runner`` (each
round an ordinary run, sharing its cache) → ``table``, ``figure``, ``document`` (tune.md/html).
``options`` reads an experiment's ``[tune]`` table.
"""
