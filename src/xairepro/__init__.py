"""XAI Repro: one pipeline that reproduces five explainability papers end to end."""
