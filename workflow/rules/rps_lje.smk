# RPS-LJE, RPS-l2 and last-layer influence functions (Sui, Wu & Sanner, NeurIPS 2021): train each model
# on labels with a flipped fraction (one model per run), cache each explainer's weights, run the
# dataset-debugging experiment, and compare the 40%-checked numbers with the paper.
from xairepro.rps_lje import workflow as rps

RPS = config["rps_lje"]
RPS_EXPLAINERS = rps.EXPLAINER_NAMES
METHOD_TARGETS["rps_lje"] = lambda: rps.final_targets(RPS)
METHOD_TABLES["rps_lje"] = lambda: ["results/rps_lje/debugging_40pct.csv"]


rule rps_train:
    input:
        data=lambda w: dataset_dir(w.dataset),
        glove=lambda w: dataset_dir("glove-6b-50d") if w.model == "rnn" else [],
    output:
        npz="results/rps_lje/{dataset}/{model}/run{run}/train.npz",
        model="results/rps_lje/{dataset}/{model}/run{run}/model.pt",
        metrics="results/rps_lje/{dataset}/{model}/run{run}/train_metrics.json",
    log:
        "results/logs/rps_lje/{dataset}/{model}/run{run}/train.log",
    benchmark:
        "results/benchmarks/rps_lje/{dataset}/{model}/run{run}/train.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        env=ENV["torch"],
        device=config["device"],
        seed=RPS["seed"],
        flags=lambda w: rps.cli_flags(rps.section(RPS, w.model, w.dataset)),
        glove=lambda w, input: f"--glove-dir {input.glove}" if w.model == "rnn" else "",
    shell:
        "xairepro-env {params.env} -m xairepro.rps_lje.train --device {params.device} --model {wildcards.model} --dataset {wildcards.dataset} "
        "--data-dir {input.data} {params.glove} --run {wildcards.run} --seed {params.seed} {params.flags} "
        "--out {output.npz} --model-out {output.model} --metrics {output.metrics} > {log} 2>&1"


rule rps_explain:
    input:
        rules.rps_train.output.npz,
    output:
        npz="results/rps_lje/{dataset}/{model}/run{run}/explain_{explainer}.npz",
        metrics="results/rps_lje/{dataset}/{model}/run{run}/explain_{explainer}.json",
        timing="results/rps_lje/{dataset}/{model}/run{run}/explain_{explainer}.timing.json",
    log:
        "results/logs/rps_lje/{dataset}/{model}/run{run}/explain_{explainer}.log",
    benchmark:
        "results/benchmarks/rps_lje/{dataset}/{model}/run{run}/explain_{explainer}.tsv"
    wildcard_constraints:
        explainer="|".join(RPS_EXPLAINERS),
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        env=ENV["torch"],
        settings=f"--gamma {RPS['gamma']} --lmbda {RPS['lmbda']} --epochs {RPS['rps_l2_epochs']} "
        f"--damping {RPS['damping']} --test-points {RPS['explained_test_points']}",
    shell:
        "xairepro-env {params.env} -m xairepro.rps_lje.explain --train {input} --explainer {wildcards.explainer} "
        "{params.settings} --out {output.npz} --metrics {output.metrics} "
        "--timing {output.timing} > {log} 2>&1"


rule rps_debug:
    input:
        train=rules.rps_train.output.npz,
        model=rules.rps_train.output.model,
        weights=expand(
            "results/rps_lje/{dataset}/{model}/run{run}/explain_{explainer}.npz",
            explainer=RPS_EXPLAINERS,
            allow_missing=True,
        ),
    output:
        "results/rps_lje/{dataset}/{model}/run{run}/debugging.csv",
    log:
        "results/logs/rps_lje/{dataset}/{model}/run{run}/debug.log",
    benchmark:
        "results/benchmarks/rps_lje/{dataset}/{model}/run{run}/debug.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=lambda w: rps.debug_runtime(w.model),
    params:
        scores=lambda w, input: " ".join(f"{e}={p}" for e, p in zip(RPS_EXPLAINERS, input.weights)),
        settings=lambda w: rps.debug_flags(RPS, w.model),
        env=ENV["torch"],
        device=config["device"],
    shell:
        "xairepro-env {params.env} -m xairepro.rps_lje.debug --device {params.device} --train {input.train} --model-file {input.model} "
        "--scores {params.scores} --run {wildcards.run} {params.settings} --out {output} > {log} 2>&1"


rule rps_summarize:
    input:
        lambda w: expand(
            "results/rps_lje/{dataset}/{model}/run{run}/debugging.csv",
            dataset=w.dataset,
            model=w.model,
            run=range(rps.runs(RPS, w.model)),
        ),
    output:
        curves="results/rps_lje/{dataset}/{model}/debugging_curves.csv",
        vs_paper="results/rps_lje/{dataset}/{model}/curves_vs_paper.csv",
        figure=report(
            "results/rps_lje/{dataset}/{model}/debugging.png",
            caption="../report/rps_lje/debugging.rst",
            category="3. RPS-LJE",
            subcategory="{dataset}",
            labels={"model": "{model}", "artefact": "dataset debugging"},
        ),
        table="results/rps_lje/{dataset}/{model}/debugging_40pct.csv",
    log:
        "results/logs/rps_lje/{dataset}/{model}/summarize.log",
    localrule: True
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        env=ENV["torch"],
    shell:
        "xairepro-env {params.env} -m xairepro.rps_lje.summarize --debugging {input} --model {wildcards.model} "
        "--dataset {wildcards.dataset} --curves {output.curves} --vs-paper {output.vs_paper} --figure {output.figure} "
        "--table {output.table} > {log} 2>&1"


rule rps_report:
    input:
        tables=[f"{rps.model_dir(RPS, m)}/debugging_40pct.csv" for m in RPS["models"]],
        vs_paper=[f"{rps.model_dir(RPS, m)}/curves_vs_paper.csv" for m in RPS["models"]],
        timings=rps.timing_files(RPS),
        debug_benchmarks=rps.debug_benchmark_files(RPS),
    output:
        table=report(
            "results/rps_lje/debugging_40pct.csv",
            caption="../report/rps_lje/table.rst",
            category="3. RPS-LJE",
            labels={"artefact": "40% checked table"},
        ),
        times=report(
            "results/rps_lje/explain_times.csv",
            caption="../report/rps_lje/times.rst",
            category="3. RPS-LJE",
            labels={"artefact": "explanation time"},
        ),
        vs_paper=report(
            "results/rps_lje/curves_vs_paper.csv",
            caption="../report/rps_lje/curves_vs_paper.rst",
            category="3. RPS-LJE",
            labels={"artefact": "whole curves vs the paper"},
        ),
        markdown="results/rps_lje/summary.md",
    log:
        "results/logs/rps_lje/report.log",
    localrule: True
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        env=ENV["torch"],
    shell:
        "xairepro-env {params.env} -m xairepro.rps_lje.report --tables {input.tables} --vs-paper {input.vs_paper} "
        "--timings {input.timings} --debug-benchmarks {input.debug_benchmarks} --table {output.table} --times {output.times} "
        "--curves-vs-paper {output.vs_paper} --markdown {output.markdown} > {log} 2>&1"
