"""The grokking pipeline experiments (swap.py, retrain_pipeline.py) on a tiny recorded modulo run:
θ_s from the history is the trained θ_s, swapping degenerates to the final / step model where it
must, retraining starts where it should and is reproducible, and bad input is named."""
import pytest
import torch

from xairepro.explaind.history import History, train_with_history
from xairepro.explaind.retrain_pipeline import retrain, starts
from xairepro.explaind.swap import swap_table
from xairepro.explaind.task import build_task, new_model
from xairepro.explaind.train import accuracy

SETTINGS = {"dataset": "modulo", "p": 7, "n_train": 30, "steps": 60, "batch_size": 0, "checkpoint_every": 25,
            "eval_every": 10, "model": {"name": "modulo_transformer", "d_model": 16, "n_heads": 2, "d_mlp": 32},
            "optimizer": {"name": "adamw", "lr": 0.02, "betas": [0.9, 0.98], "eps": 1e-8, "weight_decay": 0.1,
                          "schedule": "constant"}}
PIPELINE = ["embed.weight", "mlp_out.weight", "mlp_out.bias", "unembed.weight"]


def record(path, steps=SETTINGS["steps"], seed=0):
    task = build_task({**SETTINGS, "steps": steps}, seed, "float64", None)
    train_with_history(task.model, task.optimizer, task.data.x_train, task.data.y_train, task.lrs, task.batch_size,
                       seed, path, SETTINGS["checkpoint_every"], task.identity)
    return task, History(path, task.identity)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    return record(tmp_path_factory.mktemp("pipeline") / "history")


def table(recorded, steps, swapped):
    task, history = recorded
    d = task.data
    return swap_table(task.model, task.optimizer, history, d.x_train, d.y_train, d.x_test, d.y_test, steps, swapped)


def test_params_at_equals_an_independent_shorter_run(recorded, tmp_path):
    task, history = recorded
    got = dict(history.params_at([0, 7, 25, 38, 60], task.model, task.optimizer, task.data.x_train, task.data.y_train))
    assert torch.equal(got[0], history.initial_params()) and torch.equal(got[60], history.final_params())
    for s in (7, 25, 38):  # inside a chunk, at a checkpoint, inside the second chunk
        _, short = record(tmp_path / f"run_{s}", steps=s)
        assert torch.equal(got[s], short.final_params()), s


def test_swapping_into_the_final_step_is_the_final_model(recorded):
    rows = table(recorded, [SETTINGS["steps"]], {"pipeline": PIPELINE, "all": recorded[0].model.names})
    task, history = recorded
    final_acc = accuracy(task.model, history.final_params(), task.data.x_test, task.data.y_test)
    for r in rows:
        assert float(r["accuracy"]) == float(r["step_model_accuracy"]) == pytest.approx(final_acc, abs=1e-6)
        assert r["kl_to_final"] == r["step_model_kl_to_final"] == "0"


def test_swapping_nothing_is_the_step_model_and_everything_the_final(recorded):
    rows = table(recorded, [0, 10, 30], {"none": [], "all": recorded[0].model.names})
    for r in rows:
        if r["variant"] == "none":
            assert (r["accuracy"], r["kl_to_final"]) == (r["step_model_accuracy"], r["step_model_kl_to_final"])
        else:
            assert r["kl_to_final"] == "0"
    assert any(float(r["step_model_kl_to_final"]) > 0.1 for r in rows)  # the checkpoints do differ from the end


def test_bad_group_or_step_is_named(recorded):
    with pytest.raises(ValueError, match="'decoder.weight'.*unembed.weight"):
        table(recorded, [0], {"pipeline": ["decoder.weight"]})
    with pytest.raises(ValueError, match=r"\[61\].*0\.\.60"):
        table(recorded, [0, 61], {"pipeline": PIPELINE})
    task, history = recorded
    with pytest.raises(ValueError, match="retrain_every=100"):
        next(starts(task.model, history, task.optimizer, task.data, PIPELINE, 100, [0], lambda s: None))


def fresh(seed):
    return new_model(SETTINGS, seed, "float64").initial_params()


def test_reinitialisation_is_seeded_and_keeps_exactly_the_groups(recorded):
    task, history = recorded
    assert torch.equal(fresh(3), fresh(3)) and not torch.equal(fresh(3), fresh(4))
    assert torch.equal(fresh(0), history.initial_params())  # the training seed's init is the run's
    runs = list(starts(task.model, history, task.optimizer, task.data, PIPELINE, 30, [3], fresh))
    assert [(v, t) for v, t, _, _ in runs] == [("scratch", ""), ("pipeline", 30), ("complement", 30),
                                               ("pipeline", 60), ("complement", 60)]
    theta_30 = dict(history.params_at([30], task.model, task.optimizer, task.data.x_train, task.data.y_train))[30]
    mask = task.model.group_mask(PIPELINE)
    _, _, _, kept = runs[1]
    _, _, _, complement = runs[2]
    assert torch.equal(kept[mask], theta_30[mask]) and torch.equal(kept[~mask], fresh(3)[~mask])
    assert torch.equal(complement[~mask], theta_30[~mask]) and torch.equal(complement[mask], fresh(3)[mask])


def test_retraining_the_final_model_fits_at_step_zero(recorded):
    task, history = recorded
    final = history.final_params()
    assert accuracy(task.model, final, task.data.x_train, task.data.y_train) == 1.0  # the tiny run fits
    theta = task.model.splice(fresh(5), final, task.model.names)
    assert torch.equal(theta, final)
    result = retrain(task.model, task.optimizer, 0.02, theta, task.data, task.batch_size, 2, 0)
    assert result["steps_to_fit"] == 0 and result["steps_run"] == 2 and result["max_steps"] == 2  # full batch
    assert float(result["test_acc"]) < 1 and result["steps_to_generalise"] == ""  # the tiny run does not grok
    assert retrain(task.model, task.optimizer, 0.02, theta, task.data, 8, 2, 0)["max_steps"] == 2 * 4  # 30 pairs / 8


def test_scratch_retraining_with_the_training_seed_retraces_the_run(recorded):
    task, history = recorded
    result = retrain(task.model, task.optimizer, 0.02, fresh(0), task.data, task.batch_size, 20, 0)
    theta_20 = dict(history.params_at([20], task.model, task.optimizer, task.data.x_train, task.data.y_train))[20]
    assert result["steps_run"] == 20
    for split in ("train", "test"):
        x, y = getattr(task.data, f"x_{split}"), getattr(task.data, f"y_{split}")
        assert float(result[f"{split}_acc"]) == pytest.approx(accuracy(task.model, theta_20, x, y), abs=1e-6)
    assert retrain(task.model, task.optimizer, 0.02, fresh(0), task.data, task.batch_size, 20, 0) == result


def test_retrain_pipeline_killed_midway_resumes_with_the_next_retraining(recorded, tmp_path, monkeypatch):
    """A job killed after two retrainings, started again, retrains only the rest and writes the same CSV,
    byte for byte, as a run that was never interrupted."""
    import json

    from xairepro.explaind import retrain_pipeline

    _, history = recorded
    pipeline = {"groups": PIPELINE, "swap_every": 25, "retrain_every": 25, "retrain_seeds": [100, 101],
                "retrain_max_epochs": 3}
    argv = ["--settings", json.dumps(SETTINGS), "--dtype", "float64", "--pipeline", json.dumps(pipeline),
            "--history", str(history.path)]
    total = 2 * (1 + 2 * (SETTINGS["steps"] // 25))
    real_retrain, calls = retrain_pipeline.retrain, []

    def counted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3 and kwargs.get("kill"):
            raise KeyboardInterrupt
        return real_retrain(*args)

    monkeypatch.setattr(retrain_pipeline, "retrain", lambda *a: counted(*a))
    retrain_pipeline.main([*argv, "--out", str(tmp_path / "whole.csv")])
    assert len(calls) == total and not (tmp_path / "whole.csv.partial.jsonl").exists()

    calls.clear()
    monkeypatch.setattr(retrain_pipeline, "retrain", lambda *a: counted(*a, kill=True))
    with pytest.raises(KeyboardInterrupt):
        retrain_pipeline.main([*argv, "--out", str(tmp_path / "killed.csv")])
    assert not (tmp_path / "killed.csv").exists() and (tmp_path / "killed.csv.partial.jsonl").exists()
    calls.clear()
    monkeypatch.setattr(retrain_pipeline, "retrain", lambda *a: counted(*a))
    retrain_pipeline.main([*argv, "--out", str(tmp_path / "killed.csv")])
    assert len(calls) == total - 2
    assert (tmp_path / "killed.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_retrain_pipeline_refuses_the_training_seed(recorded, tmp_path):
    """With the model's own initialiser a retrain seed equal to the training seed would re-initialise to the
    recorded run's own start."""
    import json

    from xairepro.explaind import retrain_pipeline

    _, history = recorded
    pipeline = {"groups": PIPELINE, "swap_every": 25, "retrain_every": 25, "retrain_seeds": [3, 0],
                "retrain_max_epochs": 1, "retrain_init_std": None}
    with pytest.raises(ValueError, match="contain the training seed 0"):
        retrain_pipeline.main(["--settings", json.dumps(SETTINGS), "--dtype", "float64", "--pipeline",
                               json.dumps(pipeline), "--history", str(history.path), "--out", str(tmp_path / "r.csv")])
    assert not (tmp_path / "r.csv").exists()


def test_fresh_parameters_are_the_authors_normal_or_the_models_own_initialiser():
    """The authors re-initialise every parameter as randn × 0.1; null keeps the model's initialiser (whose
    embedding has std 1): the two differ in scale, and each is reproducible per seed and differs across seeds."""
    from types import SimpleNamespace

    from xairepro.explaind.retrain_pipeline import fresh_params
    from xairepro.explaind.task import new_model

    args = SimpleNamespace(dtype="float64", device="cpu")
    authors, own = fresh_params(SETTINGS, args, 0.1), fresh_params(SETTINGS, args, None)
    a = authors(100)
    assert a.std().item() == pytest.approx(0.1, rel=0.05) and abs(a.mean().item()) < 0.01
    assert torch.equal(a, authors(100)) and not torch.equal(a, authors(101))
    assert torch.equal(own(100), new_model(SETTINGS, 100, "float64").initial_params())
    assert own(100).std().item() > 2 * a.std().item()


def test_config_errors_name_the_task_for_pruning_without_the_data_split_and_resolve_the_retrain_default():
    """Pruning needs the per-example kernel: the plan fails naming the task; the --pipeline JSON carries the
    re-initialisation the retraining will use, so a changed default reruns it."""
    import json

    from xairepro.explaind import pipeline

    cfg = {"seeds": [0], "tasks": {"d": {"dataset": "digits", "prune_fractions": [0.5], "data_attribution": False},
                                   "m": {"dataset": "modulo", "pipeline": {"groups": PIPELINE}}}}
    with pytest.raises(ValueError, match="explaind.tasks.d: prune_fractions needs the per-example kernel"):
        pipeline.run_outputs(cfg, "d")
    flag = pipeline.pipeline(cfg, "m")
    assert json.loads(flag.split(" ", 1)[1].strip("'"))["retrain_init_std"] == pipeline.RETRAIN_INIT_STD == 0.1
