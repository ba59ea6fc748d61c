"""Speech-to-text providers: local engines and remote APIs behind one protocol."""
