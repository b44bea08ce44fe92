"""Ground truth for data attribution (ours, issue 17): leave-one-out effects and the linear datamodeling
score (LDS, Park et al. 2023) by actual retraining, on small tasks of the pipeline, with every data-
attribution method of the five papers and dattri's TracIn, TRAK and influence functions scored against them.

Modules: `plan` (test points, LOO sample, LDS subsets: one seeded plan every step shares), `metrics`
(LDS, LOO Spearman), `tasks` (the torch tasks: German credit logistic regression, digits CNN), `kg` (Nations
DistMult for Gradient Rollback, tf env), `methods` (each method's scores from the project's own code),
and the steps `model`, `retrain`, `score`, `evaluate`, `report`.
"""
