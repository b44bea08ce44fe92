"""Gradient Rollback (Lawrence, Sztyler & Niepert, AAAI 2021) in TensorFlow 2: train DistMult/ComplEx
while recording each training triple's influence γ_x (train), explain predictions by Δ_x (explain,
topk), and check the explanations by deleting them and retraining (evaluate, table, plot)."""
