# Cross-method mislabel benchmark (ours; issue 9): the flipped-label training sets of the rps_lje
# debugging experiment (same tasks, runs and retraining) ranked by ExPLAIND self-influence and DkNN
# neighbour disagreement as well, next to RPS-LJE, RPS-l2, IF and random. Settings: config `mislabel`.
MISLABEL = config["mislabel"]
MISLABEL_RUN = "results/mislabel/{dataset}/{model}/run{run}"
METHOD_TARGETS["mislabel"] = lambda: [
    "results/mislabel/summary.csv",
    "results/mislabel/summary.md",
    *(f"results/mislabel/{RPS[m]['dataset']}/{m}/debugging.png" for m in RPS["models"]),
]
METHOD_TABLES["mislabel"] = lambda: ["results/mislabel/comparison.csv"]


rule mislabel_score:
    input:
        rules.rps_train.output.npz,
    output:
        npz=f"{MISLABEL_RUN}/scores_{{scorer}}.npz",
        metrics=f"{MISLABEL_RUN}/scores_{{scorer}}.json",
    log:
        "results/logs/mislabel/{dataset}/{model}/run{run}/score_{scorer}.log",
    benchmark:
        "results/benchmarks/mislabel/{dataset}/{model}/run{run}/score_{scorer}.tsv"
    wildcard_constraints:
        scorer="explaind|dknn",
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        # IMDB's ExPLAIND self-influence (README: measured resource table)
        mem_mb=4000,
        runtime=120,
    params:
        env=ENV["torch"],
        settings=f"--k {MISLABEL['dknn_k']} --epochs {MISLABEL['explaind']['epochs']} "
        f"--batch-size {MISLABEL['explaind']['batch_size']} --lr {MISLABEL['explaind']['lr']} --seed {RPS['seed']}",
    shell:
        "xairepro-env {params.env} -m xairepro.mislabel.score --train {input} --scorer {wildcards.scorer} {params.settings} "
        "--out {output.npz} --metrics {output.metrics} > {log} 2>&1"


rule mislabel_debug:
    input:
        train=rules.rps_train.output.npz,
        model=rules.rps_train.output.model,
        scores=expand(f"{MISLABEL_RUN}/scores_{{scorer}}.npz", scorer=MISLABEL["scorers"], allow_missing=True),
    output:
        f"{MISLABEL_RUN}/debugging.csv",
    log:
        "results/logs/mislabel/{dataset}/{model}/run{run}/debug.log",
    benchmark:
        "results/benchmarks/mislabel/{dataset}/{model}/run{run}/debug.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=lambda w: rps.debug_runtime(w.model),
    params:
        env=ENV["torch"],
        device=config["device"],
        scores=lambda w, input: " ".join(f"{s}={p}" for s, p in zip(MISLABEL["scorers"], input.scores)),
        # rps_debug's settings: the same checkpoints and retraining as the explainers' curves.
        settings=lambda w: rps.debug_flags(RPS, w.model),
    shell:
        "xairepro-env {params.env} -m xairepro.rps_lje.debug --device {params.device} --train {input.train} --model-file {input.model} "
        "--scores {params.scores} --no-baselines --run {wildcards.run} {params.settings} --out {output} > {log} 2>&1"


rule mislabel_summarize:
    input:
        rps=lambda w: expand(
            "results/rps_lje/{dataset}/{model}/run{run}/debugging.csv",
            dataset=w.dataset,
            model=w.model,
            run=range(rps.runs(RPS, w.model)),
        ),
        ours=lambda w: expand(
            "results/mislabel/{dataset}/{model}/run{run}/debugging.csv",
            dataset=w.dataset,
            model=w.model,
            run=range(rps.runs(RPS, w.model)),
        ),
    output:
        curves="results/mislabel/{dataset}/{model}/debugging_curves.csv",
        figure=report(
            "results/mislabel/{dataset}/{model}/debugging.png",
            caption="../report/mislabel/debugging.rst",
            category="7. Mislabel benchmark",
            subcategory="{dataset}",
            labels={"model": "{model}", "artefact": "flips found and accuracy"},
        ),
        table="results/mislabel/{dataset}/{model}/summary.csv",
    log:
        "results/logs/mislabel/{dataset}/{model}/summarize.log",
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
        "xairepro-env {params.env} -m xairepro.mislabel.summarize --debugging {input.rps} {input.ours} --dataset {wildcards.dataset} "
        "--model {wildcards.model} --curves {output.curves} --figure {output.figure} --table {output.table} > {log} 2>&1"


rule mislabel_report:
    input:
        [f"results/mislabel/{RPS[m]['dataset']}/{m}/summary.csv" for m in RPS["models"]],
    output:
        summary=report(
            "results/mislabel/summary.csv",
            caption="../report/mislabel/summary.rst",
            category="7. Mislabel benchmark",
            labels={"artefact": "summary table"},
        ),
        markdown="results/mislabel/summary.md",
        comparison="results/mislabel/comparison.csv",
    log:
        "results/logs/mislabel/report.log",
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
        "xairepro-env {params.env} -m xairepro.mislabel.report --tables {input} --summary {output.summary} "
        "--markdown {output.markdown} --comparison {output.comparison} > {log} 2>&1"
