"""Analysis of a run's rows beyond the pooled tables: how sure a rate is (:mod:`.intervals`),
whether two systems or conditions differ (:mod:`.paired`), where the errors are
(:mod:`.errors`: domain terms, confidence as a review signal, frequent edits, flags), and the
summary's sections that say so (:mod:`.sections`).

Everything is computed from the count columns of the rows (``stt_eval.metrics`` owns each
formula); intervals and tests resample **files** (``sample_id``): a file under several
conditions is one cluster, so a TOTAL row's interval resamples files, not cells.
"""
