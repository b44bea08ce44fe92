"""ExPLAIND (Eichin et al., arXiv 2505.20076): the exact path kernel (EPK) of a whole training run,
computed by streaming over the training steps instead of materialising the kernel.

Modules, one per pipeline step: `train` (training with history), `epk` (EPK prediction and
attribution), `attribute` (phase/component tables), `prune` (pruning by component attribution vs
magnitude), `swap` and `retrain_pipeline` (the grokking pipeline experiments on modulo addition),
`plot`. The method itself is `explainer.ExPLAIND`; `reference.py` is the materialising
reference (written from the paper) that the tests and the benchmark compare it against.
"""
