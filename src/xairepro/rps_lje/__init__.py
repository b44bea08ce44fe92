"""RPS-LJE, RPS-l2 and last-layer influence functions (Sui, Wu & Sanner, NeurIPS 2021)."""
