"""Cross-method mislabel benchmark (ours; none of the papers has it): the flipped-label training sets of
the RPS-LJE dataset-debugging experiment, ranked by every method that can score training points -
RPS-LJE, RPS-l2, influence function (rps_lje), ExPLAIND self-influence and DkNN neighbour
disagreement (scorers.py here) and random - then fixed in that order and retrained (rps_lje.debug)."""
