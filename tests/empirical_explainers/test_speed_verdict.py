"""The speed benchmark's verdict (benchmarks/empirical_explainers_speed.py): each method at its fastest batch
size, and the goal met or not from that best-against-best ratio, not from the batch where LIG is slowest."""
import importlib.util

from tests.conftest import REPO


def _benchmark():
    spec = importlib.util.spec_from_file_location("ee_speed", REPO / "benchmarks" / "empirical_explainers_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_goal_is_judged_best_against_best():
    speed = _benchmark()
    runs = [{"batch_size": 1, "seconds": {"EE": {"median": 0.012}, "LIG-10": {"median": 0.1}}},
            {"batch_size": 16, "seconds": {"EE": {"median": 0.006}, "LIG-10": {"median": 0.15}}}]
    lines = speed.best_against_best(runs, {"method": "LIG-10", "speedup": 20.0})
    # at batch 16 alone the EE is 25× faster; best against best it is 0.1 / 0.006 = 16.7×
    assert "LIG-10 100.0 ms at batch size 1, EE faster by 16.7×" in lines[0]
    assert lines[1].endswith("16.7×, **not met** on this machine.")
    assert speed.best_against_best(runs, {"method": "LIG-10", "speedup": 15.0})[1].endswith("16.7×, met on this machine.")
