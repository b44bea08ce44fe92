"""Grokking phase boundaries (attribute.phase_bounds) on synthetic training curves: the test-accuracy jump
lies inside cleanup (Nanda et al. 2023: memorisation -> circuit formation -> cleanup, test accuracy jumps
in cleanup), circuit formation ends where test accuracy leaves its memorisation plateau, and the
degenerate cases (no memorisation, no jump) leave the later phases empty."""
import numpy as np
import pytest

from xairepro.explaind.attribute import generalised_step, phase_bounds


def curves(n_steps=3000, every=10, t_mem=400, t_jump=2000, width=150, plateau=0.02):
    """Train accuracy reaches 1 at t_mem; test accuracy sits on a plateau, then jumps (logistic, centre
    t_jump, scale width/10) to 1."""
    rows = []
    for s in range(0, n_steps + 1, every):
        train = min(1.0, s / t_mem)
        test = plateau + (1 - plateau) / (1 + np.exp(-(s - t_jump) / (width / 10)))
        rows.append({"step": str(s), "train_acc": f"{train:.6g}", "test_acc": f"{test:.6g}"})
    return rows


def as_dict(bounds):
    return {name: (start, end) for name, start, end in bounds}


def test_the_test_accuracy_jump_lies_inside_cleanup():
    rows = curves()
    phases = as_dict(phase_bounds(rows, 3000, 0.99))
    assert phases["memorisation"] == (0, 400)
    start, end = phases["cleanup"]
    mid = next(int(r["step"]) for r in rows if float(r["test_acc"]) >= 0.5)   # the jump's midpoint
    generalised = generalised_step(rows, 3000, 0.99)
    assert start < mid < generalised <= end, (phases, mid, generalised)
    # circuit formation ends at the foot of the jump: test accuracy there is still near the plateau
    foot = next(float(r["test_acc"]) for r in rows if int(r["step"]) == start)
    assert 0.12 <= foot < 0.5
    assert phases["circuit formation"] == (400, start)


def test_circuit_formation_ends_when_test_accuracy_leaves_the_plateau_by_the_margin():
    rows = curves()
    start = as_dict(phase_bounds(rows, 3000, 0.99, margin=0.3))["cleanup"][0]
    before = [float(r["test_acc"]) for r in rows if int(r["step"]) < start]
    assert max(before) < 0.02 + 0.3 <= next(float(r["test_acc"]) for r in rows if int(r["step"]) == start)
    # a larger margin starts cleanup later, never after the end of the jump
    assert as_dict(phase_bounds(rows, 3000, 0.99, margin=0.1))["cleanup"][0] < start < generalised_step(rows, 3000, 0.99)


def test_the_plateau_is_the_test_accuracy_at_the_end_of_memorisation():
    # test accuracy already 0.3 when train accuracy hits 1: cleanup starts at 0.3 + margin, not at 0.1
    rows = curves(plateau=0.3)
    start = as_dict(phase_bounds(rows, 3000, 0.99, margin=0.1))["cleanup"][0]
    assert float(next(r["test_acc"] for r in rows if int(r["step"]) == start)) >= 0.4
    assert float(next(r["test_acc"] for r in rows if int(r["step"]) == start - 10)) < 0.4


def test_no_memorisation_or_no_jump_leaves_later_phases_empty():
    no_fit = [{**r, "train_acc": "0.5"} for r in curves()]
    assert phase_bounds(no_fit, 3000, 0.99) == [("memorisation", 0, 3000), ("circuit formation", 3000, 3000),
                                                ("cleanup", 3000, 3000)]
    no_jump = [{**r, "test_acc": "0.05"} for r in curves()]
    assert as_dict(phase_bounds(no_jump, 3000, 0.99))["cleanup"] == (3000, 3000)
    assert generalised_step(no_jump, 3000, 0.99) == 3000


def test_generalising_with_memorisation_makes_circuit_formation_empty():
    rows = [{"step": str(s), "train_acc": str(min(1, s / 100)), "test_acc": str(min(0.995, s / 100))}
            for s in range(0, 501, 10)]
    assert as_dict(phase_bounds(rows, 500, 0.99))["circuit formation"] == (100, 100)


@pytest.mark.parametrize("margin", [0.05, 0.1, 0.2])
def test_phases_tile_the_run(margin):
    bounds = phase_bounds(curves(), 3000, 0.99, margin)
    assert bounds[0][1] == 0 and bounds[-1][2] == 3000
    assert all(a[2] == b[1] and a[1] <= a[2] for a, b in zip(bounds, bounds[1:]))


def test_a_test_accuracy_bump_during_memorisation_does_not_start_cleanup():
    # test accuracy peaks at 0.3 mid-memorisation (step 200), falls back to the plateau by t_mem = 400
    rows = curves()
    for r in rows:
        s = int(r["step"])
        if s < 400:
            r["test_acc"] = f"{0.02 + 0.28 * max(0.0, 1 - abs(s - 200) / 150):.6g}"
    phases = as_dict(phase_bounds(rows, 3000, 0.99))
    assert phases["circuit formation"][0] == 400 and 1900 < phases["cleanup"][0] < 2000
