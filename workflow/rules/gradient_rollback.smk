# Gradient Rollback (Lawrence, Sztyler & Niepert, AAAI 2021) in the tf env: train DistMult/ComplEx with
# the influence map, explain predictions (Δ), build GR-k/NH-k deletion sets, retrain without them in
# shards (one job each), score PD/TC against Table 1, plot. Settings: config section `gradient_rollback`.
from xairepro.gradient_rollback.pipeline import (
    runs as gr_runs,
    settings as gr_settings,
    shard_files as gr_shards,
    table1_flags as gr_table1_flags,
    table1_runs as gr_table1_runs,
    table1_summary as gr_table1_summary,
    train_flags as gr_flags,
)

GR = config["gradient_rollback"]
GR_RUN = "results/gradient_rollback/{dataset}/{model}"
GR_LOG = "results/logs/gradient_rollback/{dataset}/{model}"
GR_BENCH = "results/benchmarks/gradient_rollback/{dataset}/{model}"


METHOD_TARGETS["gradient_rollback"] = lambda: [
    p for n in ("metrics.json", "comparison.csv", "pd_tc.png", "fidelity.png") for p in gr_runs(GR, n)
]
METHOD_TABLES["gradient_rollback"] = lambda: gr_runs(GR, "comparison.csv")


rule gr_train:
    input:
        data=lambda wildcards: dataset_dir(wildcards.dataset),
    output:
        model=f"{GR_RUN}/model.npz",
        influence=f"{GR_RUN}/influence.npz",
        settings=f"{GR_RUN}/settings.json",
        metrics=f"{GR_RUN}/train_metrics.json",
    log:
        f"{GR_LOG}/train.log",
    benchmark:
        f"{GR_BENCH}/train.tsv"
    conda:
        "../../envs/tf.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards: gr_settings(GR, wildcards.dataset)["mem_mb"],
        runtime=120,
    params:
        env=ENV["tf"],
        flags=lambda wildcards: gr_flags(GR, wildcards.dataset),
        run_dir=lambda wildcards, output: Path(output.model).parent,
    shell:
        "xairepro-env {params.env} -m xairepro.gradient_rollback.train --dataset {wildcards.dataset} --data-dir {input.data} "
        "--model {wildcards.model} {params.flags} --threads {threads} --out-dir {params.run_dir} > {log} 2>&1"


rule gr_explain:
    input:
        data=lambda wildcards: dataset_dir(wildcards.dataset),
        trained=rules.gr_train.output,
    output:
        f"{GR_RUN}/explanations.json",
    log:
        f"{GR_LOG}/explain.log",
    benchmark:
        f"{GR_BENCH}/explain.tsv"
    conda:
        "../../envs/tf.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards: gr_settings(GR, wildcards.dataset)["mem_mb"],
        runtime=60,
    params:
        env=ENV["tf"],
        run_dir=lambda wildcards, input: Path(input.trained[0]).parent,
        n_explain=lambda wildcards: gr_settings(GR, wildcards.dataset)["n_explain"],
        seed=GR["seed"],
    shell:
        "xairepro-env {params.env} -m xairepro.gradient_rollback.explain --dataset {wildcards.dataset} --data-dir {input.data} "
        "--run-dir {params.run_dir} --n-explain {params.n_explain} --seed {params.seed} --out {output} > {log} 2>&1"


rule gr_topk:
    input:
        rules.gr_explain.output,
    output:
        f"{GR_RUN}/sets.json",
    log:
        f"{GR_LOG}/topk.log",
    localrule: True
    conda:
        "../../envs/tf.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        env=ENV["tf"],
        ks=" ".join(str(k) for k in GR["ks"]),
        seed=GR["seed"],
        mode=GR["mode"],
    shell:
        "xairepro-env {params.env} -m xairepro.gradient_rollback.topk --explanations {input} --ks {params.ks} "
        "--seed {params.seed} --mode {params.mode} --out {output} > {log} 2>&1"


rule gr_eval:
    input:
        data=lambda wildcards: dataset_dir(wildcards.dataset),
        trained=rules.gr_train.output,
        explanations=rules.gr_explain.output,
        sets=rules.gr_topk.output,
    output:
        f"{GR_RUN}/eval/shard{{shard}}-of{{shards}}.json",
    log:
        f"{GR_LOG}/eval/shard{{shard}}-of{{shards}}.log",
    benchmark:
        f"{GR_BENCH}/eval/shard{{shard}}-of{{shards}}.tsv"
    conda:
        "../../envs/tf.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards: gr_settings(GR, wildcards.dataset)["mem_mb"],
        runtime=240,
    params:
        env=ENV["tf"],
        run_dir=lambda wildcards, input: Path(input.trained[0]).parent,
        schedule=GR["retrain_schedule"],
    shell:
        "xairepro-env {params.env} -m xairepro.gradient_rollback.evaluate --dataset {wildcards.dataset} --data-dir {input.data} "
        "--run-dir {params.run_dir} --explanations {input.explanations} --sets {input.sets} --shard {wildcards.shard} "
        "--shards {wildcards.shards} --schedule {params.schedule} --threads {threads} --out {output} > {log} 2>&1"


rule gr_table:
    input:
        explanations=rules.gr_explain.output,
        shards=lambda wildcards: gr_shards(GR, wildcards.dataset, wildcards.model),
    output:
        metrics=report(
            f"{GR_RUN}/metrics.json",
            caption="../report/gradient_rollback/metrics.rst",
            category="2. Gradient Rollback",
            subcategory="{dataset}",
            labels={"model": "{model}", "artefact": "PD/TC"},
        ),
        comparison=f"{GR_RUN}/comparison.csv",
        fidelity=f"{GR_RUN}/fidelity.csv",
    log:
        f"{GR_LOG}/table.log",
    localrule: True
    conda:
        "../../envs/tf.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        env=ENV["tf"],
    shell:
        "xairepro-env {params.env} -m xairepro.gradient_rollback.table --explanations {input.explanations} --shards {input.shards} "
        "--metrics {output.metrics} --comparison {output.comparison} --fidelity {output.fidelity} > {log} 2>&1"


rule gr_plot:
    input:
        comparison=rules.gr_table.output.comparison,
        fidelity=rules.gr_table.output.fidelity,
    output:
        bars=report(
            f"{GR_RUN}/pd_tc.png",
            caption="../report/gradient_rollback/pd_tc.rst",
            category="2. Gradient Rollback",
            subcategory="{dataset}",
            labels={"model": "{model}", "artefact": "PD/TC bars"},
        ),
        scatter=report(
            f"{GR_RUN}/fidelity.png",
            caption="../report/gradient_rollback/fidelity.rst",
            category="2. Gradient Rollback",
            subcategory="{dataset}",
            labels={"model": "{model}", "artefact": "fidelity"},
        ),
    log:
        f"{GR_LOG}/plot.log",
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
        "xairepro-env {params.env} -m xairepro.gradient_rollback.plot --comparison {input.comparison} --fidelity {input.fidelity} "
        "--bars {output.bars} --scatter {output.scatter} > {log} 2>&1"


# Table 1 over seeds and both modes (config gradient_rollback.table1; not among the default targets):
# `snakemake --cores 1 gr_table1`. One job per (mode, seed) runs train, explain, topk (with the control sets
# random-k and none), evaluate and table in one process (results/gradient_rollback/table1/<mode>/seed<seed>/<dataset>/<model>/); the summary is
# table1.md (spliced into the README by `make readme-results`) and table1.csv.
GR_T1 = "results/gradient_rollback/table1/{mode}/seed{seed}/{dataset}/{model}"
GR_T1_LOG = "results/logs/gradient_rollback/table1/{mode}/seed{seed}/{dataset}/{model}"


rule gr_table1_run:
    input:
        data=lambda wildcards: dataset_dir(wildcards.dataset),
    output:
        f"{GR_T1}/run.json",
    log:
        f"{GR_T1_LOG}/run.log",
    benchmark:
        f"results/benchmarks/gradient_rollback/table1/{{mode}}/seed{{seed}}/{{dataset}}/{{model}}/table1_run.tsv"
    wildcard_constraints:
        mode="ours|authors",
        seed=r"\d+",
        dataset="[^/]+",
        model="[^/]+",
    conda:
        "../../envs/tf.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards: gr_settings(GR, wildcards.dataset)["mem_mb"],
        runtime=120,
    params:
        env=ENV["tf"],
        flags=lambda wildcards: gr_table1_flags(GR, wildcards.dataset, wildcards.mode),
        n_explain=GR["table1"]["n_explain"],
        ks=" ".join(str(k) for k in GR["ks"]),
        schedule=GR["retrain_schedule"],
        run_dir=lambda wildcards, output: Path(output[0]).parent,
    shell:
        "xairepro-env {params.env} -m xairepro.gradient_rollback.table1 run --dataset {wildcards.dataset} "
        "--data-dir {input.data} --model {wildcards.model} --mode {wildcards.mode} --seed {wildcards.seed} "
        "--n-explain {params.n_explain} --ks {params.ks} --schedule {params.schedule} --out-dir {params.run_dir} "
        "--out {output} {params.flags} --threads {threads} > {log} 2>&1"


rule gr_table1:
    input:
        lambda wildcards: gr_table1_runs(GR),
    output:
        md=gr_table1_summary(GR),
        csv=gr_table1_summary(GR).replace(".md", ".csv"),
    log:
        "results/logs/gradient_rollback/table1/summary.log",
    localrule: True
    conda:
        "../../envs/tf.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        env=ENV["tf"],
    shell:
        "xairepro-env {params.env} -m xairepro.gradient_rollback.table1 summary --runs {input} "
        "--md {output.md} --csv {output.csv} > {log} 2>&1"
