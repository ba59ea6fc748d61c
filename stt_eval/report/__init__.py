"""Reports: tables and plots from a run's rows."""
