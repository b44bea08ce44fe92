"""Paper-vs-ours scorecard: one row per published number, with a verdict."""
