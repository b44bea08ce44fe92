# Empirical Explainers (Schwarzenberg, Feldhus & Möller 2021): fine-tune the downstream classifier, run
# the expensive target explainer in shards over train/validation/test, train the EE on those maps,
# explain the test split with it, evaluate (MSE, F1, convergence curve) and draw heatmaps.
# Settings: config section `empirical_explainers` (workflow/schemas/empirical_explainers.schema.yaml).
from xairepro.empirical_explainers import pipeline as ee_pipeline

EE = config["empirical_explainers"]
EE_RUN = "results/empirical_explainers/{dataset}"
EE_LOG = "results/logs/empirical_explainers/{dataset}"
EE_BENCH = "results/benchmarks/empirical_explainers/{dataset}"
EE_WILDCARDS = {"explainer": "[a-z]+-[0-9]+", "split": "train|validation|test", "ee_seed": "[0-9]+"}


METHOD_TARGETS["empirical_explainers"] = lambda: [
    p
    for n in ("evaluation/metrics.json", "evaluation/convergence.png", "heatmaps.html")
    for p in ee_pipeline.runs(EE, n)
]
METHOD_TABLES["empirical_explainers"] = lambda: ee_pipeline.runs(EE, "evaluation/comparison.csv")


rule ee_train_downstream:
    input:
        data=lambda wildcards: dataset_dir(wildcards.dataset),
        # the staged hub model (rule download_model_<name>); none for the packaged MiniLM
        base=lambda wildcards: staged_models(ee_pipeline.setup(EE, wildcards.dataset)["model"]),
    output:
        model=directory(f"{EE_RUN}/downstream/model"),
        metrics=f"{EE_RUN}/downstream/metrics.json",
    log:
        f"{EE_LOG}/train_downstream.log",
    benchmark:
        f"{EE_BENCH}/train_downstream.tsv"
    wildcard_constraints:
        **EE_WILDCARDS,
    conda:
        "../../envs/torch.yaml"
    threads: 2
    resources:
        # 1.5x the CPU peak measured on IMDB at 512 tokens (README: On a SLURM cluster, measured resources)
        mem_mb=12000,
        runtime=720,
    params:
        env=ENV["torch"],
        device=config["device"],
        s=lambda wildcards: ee_pipeline.setup(EE, wildcards.dataset),
        seed=EE["seed"],
    shell:
        "xairepro-env {params.env} -m xairepro.empirical_explainers.train_downstream --device {params.device} --dataset {wildcards.dataset} --data {input.data} "
        "--model {params.s[model]} --train-size {params.s[downstream_train_size]} "
        "--validation-size {params.s[downstream_validation_size]} --max-length {params.s[max_length]} "
        "--epochs {params.s[downstream_epochs]} --batch-size {params.s[downstream_batch_size]} "
        "--learning-rate {params.s[downstream_learning_rate]} --seed {params.seed} --threads {threads} "
        "--out {output.model} --metrics {output.metrics} > {log} 2>&1"


# The expensive step: each (split, shard) is its own job, so a cluster runs them side by side.
rule ee_target_explain:
    input:
        data=lambda wildcards: dataset_dir(wildcards.dataset),
        model=rules.ee_train_downstream.output.model,
    output:
        f"{EE_RUN}/{{explainer}}/target/{{split}}.{{shard}}.jsonl",
    log:
        f"{EE_LOG}/{{explainer}}/target_explain_{{split}}.{{shard}}.log",
    benchmark:
        f"{EE_BENCH}/{{explainer}}/target_explain_{{split}}.{{shard}}.tsv"
    wildcard_constraints:
        **EE_WILDCARDS,
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=1440,
    params:
        env=ENV["torch"],
        device=config["device"],
        size=lambda wildcards: ee_pipeline.setup(EE, wildcards.dataset)[f"{wildcards.split}_size"],
        max_length=lambda wildcards: ee_pipeline.setup(EE, wildcards.dataset)["max_length"],
        shards=EE["shards"],
        seed=EE["seed"],
    shell:
        "xairepro-env {params.env} -m xairepro.empirical_explainers.target_explain --device {params.device} --dataset {wildcards.dataset} --data {input.data} "
        "--model {input.model} --explainer {wildcards.explainer} --split {wildcards.split} --size {params.size} "
        "--shard {wildcards.shard} --shards {params.shards} --max-length {params.max_length} --seed {params.seed} "
        "--threads {threads} --out {output} > {log} 2>&1"


rule ee_train_explainer:
    input:
        downstream=rules.ee_train_downstream.output.model,
        train=lambda wildcards: ee_pipeline.shards(EE, wildcards.dataset, wildcards.explainer, "train"),
        validation=lambda wildcards: ee_pipeline.shards(EE, wildcards.dataset, wildcards.explainer, "validation"),
        encoder=lambda wildcards: staged_models(ee_pipeline.setup(EE, wildcards.dataset)["explainer_model"]),
    output:
        model=directory(f"{EE_RUN}/{{explainer}}/explainer/seed{{ee_seed}}/model"),
        metrics=f"{EE_RUN}/{{explainer}}/explainer/seed{{ee_seed}}/train_metrics.json",
    log:
        f"{EE_LOG}/{{explainer}}/train_explainer_seed{{ee_seed}}.log",
    benchmark:
        f"{EE_BENCH}/{{explainer}}/train_explainer_seed{{ee_seed}}.tsv"
    wildcard_constraints:
        **EE_WILDCARDS,
    conda:
        "../../envs/torch.yaml"
    threads: 2
    resources:
        # 1.5x the CPU peak measured on IMDB at 512 tokens (README: On a SLURM cluster, measured resources)
        mem_mb=12000,
        runtime=720,
    params:
        env=ENV["torch"],
        device=config["device"],
        s=lambda wildcards: ee_pipeline.setup(EE, wildcards.dataset),
        patience=lambda wildcards: ee_pipeline.patience_option(EE, wildcards.dataset),
    shell:
        "xairepro-env {params.env} -m xairepro.empirical_explainers.train_explainer --device {params.device} --encoder {params.s[explainer_model]} "
        "--downstream {input.downstream} --train {input.train} --validation {input.validation} "
        "--epochs {params.s[ee_epochs]} --batch-size {params.s[ee_batch_size]} "
        "--learning-rate {params.s[ee_learning_rate]} {params.patience} --seed {wildcards.ee_seed} --threads {threads} "
        "--out {output.model} --metrics {output.metrics} > {log} 2>&1"


rule ee_explain:
    input:
        explainer=rules.ee_train_explainer.output.model,
        downstream=rules.ee_train_downstream.output.model,
        test=lambda wildcards: ee_pipeline.shards(EE, wildcards.dataset, wildcards.explainer, "test"),
    output:
        f"{EE_RUN}/{{explainer}}/explainer/seed{{ee_seed}}/test.jsonl",
    log:
        f"{EE_LOG}/{{explainer}}/explain_seed{{ee_seed}}.log",
    benchmark:
        f"{EE_BENCH}/{{explainer}}/explain_seed{{ee_seed}}.tsv"
    wildcard_constraints:
        **EE_WILDCARDS,
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        env=ENV["torch"],
        device=config["device"],
    shell:
        "xairepro-env {params.env} -m xairepro.empirical_explainers.explain --device {params.device} --explainer-model {input.explainer} "
        "--downstream {input.downstream} --inputs {input.test} --threads {threads} --out {output} > {log} 2>&1"


rule ee_evaluate:
    input:
        target=lambda wildcards: ee_pipeline.shards(EE, wildcards.dataset, wildcards.explainer, "test"),
        train_target=lambda wildcards: ee_pipeline.shards(EE, wildcards.dataset, wildcards.explainer, "train"),
        ee=lambda wildcards: ee_pipeline.explainer_runs(EE, wildcards.dataset, wildcards.explainer),
        downstream=rules.ee_train_downstream.output.model,
    output:
        metrics=f"{EE_RUN}/{{explainer}}/evaluation/metrics.json",
        convergence=f"{EE_RUN}/{{explainer}}/evaluation/convergence.csv",
        plot=report(
            f"{EE_RUN}/{{explainer}}/evaluation/convergence.png",
            caption="../report/empirical_explainers/convergence.rst",
            category="4. Empirical Explainers",
            subcategory="{dataset}",
            labels={"explainer": "{explainer}", "artefact": "convergence curve"},
        ),
        comparison=f"{EE_RUN}/{{explainer}}/evaluation/comparison.csv",
        summary=f"{EE_RUN}/{{explainer}}/evaluation/summary.md",
    log:
        f"{EE_LOG}/{{explainer}}/evaluate.log",
    benchmark:
        f"{EE_BENCH}/{{explainer}}/evaluate.tsv"
    wildcard_constraints:
        **EE_WILDCARDS,
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=720,
    params:
        env=ENV["torch"],
        device=config["device"],
        s=lambda wildcards: ee_pipeline.setup(EE, wildcards.dataset),
        budgets=" ".join(map(str, EE["convergence_budgets"])),
        instances=EE["convergence_instances"] or "all",
        seed=EE["seed"],
        outdir=lambda wildcards, output: Path(output.metrics).parent,
    shell:
        "xairepro-env {params.env} -m xairepro.empirical_explainers.evaluate --device {params.device} --target {input.target} "
        "--train-target {input.train_target} --ee {input.ee} "
        "--downstream {input.downstream} --explainer {wildcards.explainer} --dataset {wildcards.dataset} "
        "--model {params.s[model]} --paper-dataset {params.s[paper_dataset]} --paper-model {params.s[paper_model]} "
        "--budgets {params.budgets} --convergence-instances {params.instances} --seed {params.seed} "
        "--threads {threads} --outdir {params.outdir} > {log} 2>&1"


rule ee_visualize:
    input:
        target=lambda wildcards: ee_pipeline.shards(EE, wildcards.dataset, wildcards.explainer, "test"),
        # the first EE seed's maps (the others differ only in training noise; evaluation has their spread)
        ee=lambda wildcards: ee_pipeline.explainer_runs(EE, wildcards.dataset, wildcards.explainer)[0],
        downstream=rules.ee_train_downstream.output.model,
    output:
        report(
            f"{EE_RUN}/{{explainer}}/heatmaps.html",
            caption="../report/empirical_explainers/heatmaps.rst",
            category="4. Empirical Explainers",
            subcategory="{dataset}",
            labels={"explainer": "{explainer}", "artefact": "heatmaps"},
        ),
    log:
        f"{EE_LOG}/{{explainer}}/visualize.log",
    wildcard_constraints:
        **EE_WILDCARDS,
    localrule: True
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        env=ENV["torch"],
        instances=EE["visualize_instances"] or "all",
    shell:
        "xairepro-env {params.env} -m xairepro.empirical_explainers.visualize --target {input.target} --ee {input.ee} "
        "--downstream {input.downstream} --explainer {wildcards.explainer} --instances {params.instances} "
        "--out {output} > {log} 2>&1"
