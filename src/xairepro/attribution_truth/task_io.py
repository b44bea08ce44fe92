"""What every step of the ground-truth experiment shares: its command-line settings and loading a task
in the environment it runs in (the knowledge-graph task in tf, the others in torch; imports are lazy so
neither environment needs the other's framework)."""
from __future__ import annotations

import argparse
import json

import numpy as np

from xairepro.attribution_truth.plan import Plan, make_plan

KG_TASKS = ("nations_distmult",)


def add_task_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True, help="credit_logistic, digits_cnn or nations_distmult")
    parser.add_argument("--data-dir", required=True, help="data/<dataset> of the task")
    parser.add_argument("--settings", required=True, help="the task's config section, as JSON")
    parser.add_argument("--plan", required=True, help="test_points, loo_points, loo_seeds, lds_subsets, "
                                                      "lds_alpha, seed (the attribution_truth section), as JSON")


class Loaded:
    """A task's data in its environment: training size, explained test points and their inputs."""

    def __init__(self, args):
        self.task, self.settings, plan = args.task, json.loads(args.settings), json.loads(args.plan)
        self.seed = plan["seed"]
        if self.task in KG_TASKS:
            from xairepro.attribution_truth import kg

            self.data = kg.load(args.data_dir)
            n_train, n_test = len(self.data.train), len(self.data.test)
        else:
            from xairepro.attribution_truth import tasks

            self.data = tasks.load(self.task, args.data_dir, self.settings, self.seed)
            n_train, n_test = len(self.data.y_train), len(self.data.y_test)
        self.plan: Plan = plan_for(n_train, n_test, plan)
        self.n_train, self.n_test = n_train, n_test
        if self.task not in KG_TASKS:  # keep only the explained test points
            self.data.x_test, self.data.y_test = self.data.x_test[self.plan.test], self.data.y_test[self.plan.test]

    def train(self, keep: np.ndarray, seed: int, for_explaining: bool = False):
        if self.task in KG_TASKS:
            from xairepro.attribution_truth import kg

            return kg.train(self.data, keep, seed, self.settings, track=for_explaining)
        from xairepro.attribution_truth import tasks

        return tasks.train(self.task, self.data, keep, seed, self.settings, checkpoints=for_explaining)

    def outputs(self, model) -> np.ndarray:
        """f(x_t) of the explained test points."""
        if self.task in KG_TASKS:
            from xairepro.attribution_truth import kg

            return kg.outputs(model, self.data.test[self.plan.test])
        from xairepro.attribution_truth import tasks

        return tasks.margins(model, self.data.x_test, self.data.y_test)


def plan_for(n_train: int, n_test: int, plan: dict) -> Plan:
    return make_plan(n_train, n_test, test_points=plan["test_points"], loo_points=plan["loo_points"],
                     loo_seeds=plan["loo_seeds"], lds_subsets=plan["lds_subsets"], lds_alpha=plan["lds_alpha"],
                     seed=plan["seed"])
