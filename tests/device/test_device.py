"""The device setting: auto falls back to the CPU and says so, cuda without a GPU is a clear error (in a
real job too), and every GPU request of the SLURM profile is backed by a rule whose code takes the device."""
import logging
import re

import pytest
import torch
import yaml

from xairepro.device import resolve

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the behaviour without a GPU")


@no_cuda
def test_auto_falls_back_to_the_cpu_and_says_so(caplog):
    with caplog.at_level(logging.INFO):
        assert resolve("auto", logging.getLogger("step")) == torch.device("cpu")
    assert "device auto: no CUDA device" in caplog.text and "using the CPU" in caplog.text


@no_cuda
def test_cuda_without_a_gpu_is_an_error_that_says_what_to_change():
    with pytest.raises(RuntimeError, match=r"device 'cuda' was asked for, but torch .* sees no CUDA device.*"
                                           r"set device: auto or cpu"):
        resolve("cuda")
    with pytest.raises(ValueError, match="device must be one of auto, cpu, cuda"):
        resolve("gpu")
    assert resolve("cpu") == torch.device("cpu")


@no_cuda
def test_a_job_given_device_cuda_fails_with_that_message(snakemake, mirror):
    proc = snakemake("--cores", "1", "--config", "device=cuda", f"data_mirror={mirror}", "--",
                     "results/rps_lje/german-credit/xgboost/run0/train.npz", check=False)
    assert proc.returncode != 0
    log = (snakemake.workdir / "results/logs/rps_lje/german-credit/xgboost/run0/train.log").read_text()
    assert "sees no CUDA device" in log and "set device: auto or cpu" in log


def _rules(repo):
    out = {}
    for path in (repo / "workflow" / "rules").glob("*.smk"):
        for m in re.finditer(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", path.read_text(), re.S | re.M):
            out[m.group(1)] = m.group(2)
    return out


def test_every_gpu_request_is_backed_by_code_that_takes_the_device(repo):
    profile = yaml.safe_load((repo / "profiles/slurm/config.yaml").read_text())
    gpu_rules = {entry.split(":")[0] for entry in profile["set-resources"] if entry.endswith(":gpu=1")}
    rules = _rules(repo)
    assert gpu_rules and gpu_rules <= set(rules), gpu_rules - set(rules)
    for name in gpu_rules:
        text = rules[name]
        # ExPLAIND's steps get --device inside params.args (explaind.device, train and kernel alike)
        assert "--device {params.device}" in text or "explaind.args(" in text, name


def test_downloads_and_small_table_and_plot_rules_are_local(repo):
    """They run on the submitting node (downloads need its internet; tables and plots are seconds)."""
    from tests.pipeline.test_config import NO_BENCHMARK

    rules = _rules(repo)
    for name in NO_BENCHMARK:
        assert "    localrule: True\n" in rules[name], name
    assert "localrule: True" in (repo / "workflow/rules/data.smk").read_text()
    heavy = [n for n, text in rules.items() if "localrule: True" in text and n not in NO_BENCHMARK]
    assert not heavy, heavy


def test_gpu_check_fails_for_a_gpu_rule_job_that_did_not_use_the_gpu(tmp_path):
    from xairepro.gpu_check import gpu_failures

    run = tmp_path / "cuda"
    (run / "logs").mkdir(parents=True)
    (run / "logs" / "a.log").write_text("device: cuda (H200)\nGPU peak memory: 812.5 MiB allocated on cuda\n")
    (run / "logs" / "b.log").write_text("device: cuda (H200)\nGPU peak memory: 0.0 MiB allocated on cuda\n")
    (run / "logs" / "c.log").write_text("device auto: no CUDA device visible to torch 2.13.0, using the CPU\n")
    (run / "logs" / "d.log").write_text("xgboost booster trained\n")
    rows = [("x", "ee_train_downstream", "logs/a.log"), ("y", "rps_train", "logs/b.log"),
            ("z", "explaind_epk", "logs/c.log"), ("w", "rps_summarize", "logs/c.log"), ("v", "rps_debug", "logs/d.log")]
    (run / "summary.tsv").write_text("output_file\tdate\trule\tlog-file(s)\tstatus\tplan\n" + "".join(
        f"{o}\t-\t{r}\t{log}\tok\tno update\n" for o, r, log in rows))
    problems, warnings, checked = gpu_failures(run, {"ee_train_downstream", "rps_train", "explaind_epk", "rps_debug"})
    assert checked == 4  # rps_summarize is not a GPU rule: its log is not checked
    assert len(problems) == 2 and "rps_train" in problems[0] + problems[1] and "explaind_epk" in " ".join(problems)
    assert len(warnings) == 1 and "rps_debug" in warnings[0]  # booked a GPU, never took a device
    assert gpu_failures(run, {"ee_train_downstream"}) == ([], [], 1)


def test_gpu_check_script_says_it_needs_an_nvidia_gpu(repo):
    import subprocess

    proc = subprocess.run(["bash", str(repo / "scripts" / "gpu_check.sh")], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2 and "nvidia-smi not found" in proc.stderr
