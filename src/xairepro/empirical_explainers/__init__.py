"""Empirical Explainers (Schwarzenberg, Feldhus & Möller, BlackboxNLP 2021): a model trained to predict
the attribution maps of an expensive explainer (Layer Integrated Gradients, Shapley Value Sampling) in
one forward pass. Steps: train_downstream, target_explain, train_explainer, explain, evaluate, visualize."""
