# Ground truth for data attribution (ours): retrain each task without single training points (LOO) and
# on random half-size subsets (LDS), score every data-attribution method of the five papers and dattri's on
# the same model and test points, and rank them against the retrainings with their cost beside them.
# Settings: config section `attribution_truth` (workflow/schemas/attribution_truth.schema.yaml).
from xairepro.attribution_truth import pipeline as truth

TRUTH = config["attribution_truth"]
TRUTH_RUN = "results/attribution_truth/{task}"
TRUTH_LOG = "results/logs/attribution_truth/{task}"
TRUTH_BENCH = "results/benchmarks/attribution_truth/{task}"

METHOD_TARGETS["attribution_truth"] = lambda: truth.targets(TRUTH)
METHOD_TABLES["attribution_truth"] = lambda: []  # ours: no published values to compare with


rule truth_retrain:
    input:
        data=lambda wildcards: dataset_dir(truth.dataset(TRUTH, wildcards.task)),
    output:
        f"{TRUTH_RUN}/retrain/shard{{shard}}-of{{shards}}.npz",
    log:
        f"{TRUTH_LOG}/retrain/shard{{shard}}-of{{shards}}.log",
    benchmark:
        f"{TRUTH_BENCH}/retrain/shard{{shard}}-of{{shards}}.tsv"
    wildcard_constraints:
        task="|".join(truth.TASKS),
    conda:
        lambda wildcards: f"../../envs/{truth.env(wildcards.task)}.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=240,
    params:
        env=lambda wildcards: ENV[truth.env(wildcards.task)],
        settings=lambda wildcards: truth.settings_json(TRUTH, wildcards.task),
        plan=truth.plan_json(TRUTH),
    shell:
        "xairepro-env {params.env} -m xairepro.attribution_truth.retrain --task {wildcards.task} --data-dir {input.data} "
        "--settings {params.settings:q} --plan {params.plan:q} --shard {wildcards.shard} --shards {wildcards.shards} "
        "--out {output} > {log} 2>&1"


rule truth_score:
    input:
        data=lambda wildcards: dataset_dir(truth.dataset(TRUTH, wildcards.task)),
    output:
        f"{TRUTH_RUN}/scores/{{method}}.npz",
    log:
        f"{TRUTH_LOG}/score_{{method}}.log",
    benchmark:
        f"{TRUTH_BENCH}/score_{{method}}.tsv"
    wildcard_constraints:
        task="|".join(truth.TASKS),
        method="[a-z0-9_]+",
    conda:
        lambda wildcards: f"../../envs/{truth.env(wildcards.task)}.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards: truth.score_mem_mb(wildcards.method),
        runtime=60,
    params:
        env=lambda wildcards: ENV[truth.env(wildcards.task)],
        settings=lambda wildcards: truth.settings_json(TRUTH, wildcards.task),
        plan=truth.plan_json(TRUTH),
        methods=truth.methods_json(TRUTH),
    shell:
        "xairepro-env {params.env} -m xairepro.attribution_truth.score --task {wildcards.task} --method {wildcards.method} "
        "--data-dir {input.data} --settings {params.settings:q} --plan {params.plan:q} "
        "--method-settings {params.methods:q} --out {output} > {log} 2>&1"


rule truth_evaluate:
    input:
        shards=lambda wildcards: truth.shard_files(TRUTH, wildcards.task),
        scores=lambda wildcards: truth.score_files(wildcards.task),
        benchmarks=lambda wildcards: truth.benchmark_files(wildcards.task),
    output:
        table=f"{TRUTH_RUN}/summary.csv",
        figure=report(
            f"{TRUTH_RUN}/truth.png",
            caption="../report/attribution_truth/truth.rst",
            category="9. Attribution ground truth",
            labels={"task": "{task}"},
        ),
    log:
        f"{TRUTH_LOG}/evaluate.log",
    localrule: True
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        env=ENV["torch"],
        plan=truth.plan_json(TRUTH),
        scores=lambda wildcards, input: truth.by_method(wildcards.task, input.scores),
        benchmarks=lambda wildcards, input: truth.by_method(wildcards.task, input.benchmarks),
    shell:
        "xairepro-env {params.env} -m xairepro.attribution_truth.evaluate --task {wildcards.task} --plan {params.plan:q} "
        "--shards {input.shards} --scores {params.scores} --benchmarks {params.benchmarks} --out {output.table} "
        "--figure {output.figure} > {log} 2>&1"


rule truth_report:
    input:
        tables=[f"results/attribution_truth/{name}/summary.csv" for name in TRUTH["run"]],
    output:
        table=report(
            "results/attribution_truth/summary.csv",
            caption="../report/attribution_truth/summary.rst",
            category="9. Attribution ground truth",
            labels={"artefact": "all tasks"},
        ),
        markdown="results/attribution_truth/summary.md",
    log:
        "results/logs/attribution_truth/report.log",
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
        "xairepro-env {params.env} -m xairepro.attribution_truth.report --tables {input.tables} --out {output.table} "
        "--markdown {output.markdown} > {log} 2>&1"
