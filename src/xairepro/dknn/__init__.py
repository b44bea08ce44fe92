"""Deep k-Nearest Neighbors for text classifiers (Wallace, Feng & Boyd-Graber 2018, after Papernot &
McDaniel 2018): train (train.py), index the layers' activations (index.py), calibrate the DkNN and
a temperature-scaling baseline (calibrate.py), evaluate accuracy and calibration (eval.py), explain
with leave-one-out conformity (interpret.py); the method itself is `DkNN` in explainer.py."""
