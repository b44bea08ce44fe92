# ExPLAIND (Eichin et al. 2025, arXiv 2505.20076): train with history, compute the exact path kernel's
# prediction and attributions by streaming over the steps, tabulate phases/components, prune, plot;
# on modulo addition also the grokking pipeline experiments (swap aligned, retrain with pipeline).
# One independent training run per seed (explaind.seeds, or a task's own seeds) under seed<seed>/; explaind_seeds
# combines their comparison tables into the mean ± std the scorecard reads.
# Settings: config section `explaind` (workflow/schemas/explaind.schema.yaml).
from xairepro.explaind import pipeline as explaind

EXPLAIND = config["explaind"]
EXPLAIND_RUN = "results/explaind/{task}/seed{seed}"
EXPLAIND_LOG = "results/logs/explaind/{task}/seed{seed}"
EXPLAIND_BENCH = "results/benchmarks/explaind/{task}/seed{seed}"

METHOD_TARGETS["explaind"] = lambda: explaind.targets(EXPLAIND)
METHOD_TABLES["explaind"] = lambda: explaind.combined(EXPLAIND)


rule explaind_train:
    input:
        data=lambda wildcards: [dataset_dir(d) for d in explaind.datasets(EXPLAIND, wildcards.task)],
    output:
        history=directory(f"{EXPLAIND_RUN}/history"),
        curves=f"{EXPLAIND_RUN}/training_curves.csv",
    log:
        f"{EXPLAIND_LOG}/train.log",
    benchmark:
        f"{EXPLAIND_BENCH}/train.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: EXPLAIND["threads"]
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        env=ENV["torch"],
        args=lambda wildcards, input: explaind.args(EXPLAIND, wildcards.task, wildcards.seed, input.data),
    shell:
        "xairepro-env {params.env} -m xairepro.explaind.train {params.args} --history {output.history} "
        "--curves {output.curves} > {log} 2>&1"


rule explaind_epk:
    input:
        data=lambda wildcards: [dataset_dir(d) for d in explaind.datasets(EXPLAIND, wildcards.task)],
        history=rules.explaind_train.output.history,
    output:
        epk=f"{EXPLAIND_RUN}/epk.npz",
        fidelity=f"{EXPLAIND_RUN}/fidelity.json",
    log:
        f"{EXPLAIND_LOG}/epk.log",
    benchmark:
        f"{EXPLAIND_BENCH}/epk.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: EXPLAIND["threads"]
    resources:
        mem_mb=8000,
        runtime=240,
    params:
        env=ENV["torch"],
        args=lambda wildcards, input: explaind.args(EXPLAIND, wildcards.task, wildcards.seed, input.data),
        flags=f"--integration-steps {EXPLAIND['integration_steps']} --n-explain {EXPLAIND['n_explain']} --chunk {EXPLAIND['chunk']} "
        f"--fidelity-steps {' '.join(map(str, EXPLAIND['fidelity_steps']))} --fidelity-points {EXPLAIND['fidelity_points']}",
        # the authors' pruning score needs the kernel of every output on the validation points (pruned tasks only)
        prune=lambda wildcards: (
            f"--prune-validation {EXPLAIND['prune_validation']}"
            if explaind.task(EXPLAIND, wildcards.task).get("prune_fractions")
            else ""
        ),
        # the per-example data attribution is the EPK's main cost; a task may skip it (config/grokking.yaml)
        data=lambda wildcards: (
            "" if explaind.task(EXPLAIND, wildcards.task).get("data_attribution", True) else "--no-data-attribution"
        ),
    shell:
        "xairepro-env {params.env} -m xairepro.explaind.epk {params.args} {params.flags} --history {input.history} "
        "{params.prune} {params.data} --out {output.epk} --fidelity {output.fidelity} > {log} 2>&1"


rule explaind_attribute:
    input:
        epk=rules.explaind_epk.output.epk,
        curves=rules.explaind_train.output.curves,
        fidelity=rules.explaind_epk.output.fidelity,
    output:
        phases=f"{EXPLAIND_RUN}/phases.csv",
        components=f"{EXPLAIND_RUN}/components.csv",
        top=f"{EXPLAIND_RUN}/top_examples.csv",
        comparison=f"{EXPLAIND_RUN}/comparison.csv",
    log:
        f"{EXPLAIND_LOG}/attribute.log",
    localrule: True
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        env=ENV["torch"],
        threshold=lambda wildcards: explaind.task(EXPLAIND, wildcards.task).get("phase_threshold", 0.99),
        model=lambda wildcards: explaind.task(EXPLAIND, wildcards.task)["model"]["name"],
    shell:
        "xairepro-env {params.env} -m xairepro.explaind.attribute --epk {input.epk} --curves {input.curves} "
        "--phase-threshold {params.threshold} --phases {output.phases} --components {output.components} "
        "--top-examples {output.top} --fidelity {input.fidelity} --task {wildcards.task} --model {params.model} "
        "--comparison {output.comparison} > {log} 2>&1"


rule explaind_prune:
    input:
        data=lambda wildcards: [dataset_dir(d) for d in explaind.datasets(EXPLAIND, wildcards.task)],
        history=rules.explaind_train.output.history,
        epk=rules.explaind_epk.output.epk,
    output:
        f"{EXPLAIND_RUN}/pruning.csv",
    log:
        f"{EXPLAIND_LOG}/prune.log",
    benchmark:
        f"{EXPLAIND_BENCH}/prune.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        env=ENV["torch"],
        args=lambda wildcards, input: explaind.args(EXPLAIND, wildcards.task, wildcards.seed, input.data),
        scores=" ".join(EXPLAIND["prune_scores"]),
        keep=" ".join(EXPLAIND["prune_keep"]),
    shell:
        "xairepro-env {params.env} -m xairepro.explaind.prune {params.args} --history {input.history} --epk {input.epk} "
        "--scores {params.scores} --keep {params.keep} --out {output} > {log} 2>&1"


rule explaind_plot:
    input:
        curves=rules.explaind_train.output.curves,
        phases=rules.explaind_attribute.output.phases,
        epk=rules.explaind_epk.output.epk,
    output:
        curves=report(
            f"{EXPLAIND_RUN}/plots/training_curves.png",
            caption="../report/explaind/training_curves.rst",
            category="5. ExPLAIND",
            subcategory="{task}",
            labels={"seed": "{seed}", "artefact": "training curves"},
        ),
        phases=report(
            f"{EXPLAIND_RUN}/plots/phase_components.png",
            caption="../report/explaind/phase_components.rst",
            category="5. ExPLAIND",
            subcategory="{task}",
            labels={"seed": "{seed}", "artefact": "attribution per phase and component"},
        ),
        steps=report(
            f"{EXPLAIND_RUN}/plots/step_components.png",
            caption="../report/explaind/step_components.rst",
            category="5. ExPLAIND",
            subcategory="{task}",
            labels={"seed": "{seed}", "artefact": "attribution per step"},
        ),
    log:
        f"{EXPLAIND_LOG}/plot.log",
    localrule: True
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        env=ENV["torch"],
    shell:
        "xairepro-env {params.env} -m xairepro.explaind.plot --title '{wildcards.task}, seed {wildcards.seed}' --curves {input.curves} "
        "--phases {input.phases} --epk {input.epk} --out-curves {output.curves} "
        "--out-phases {output.phases} --out-steps {output.steps} > {log} 2>&1"


rule explaind_plot_pruning:
    input:
        pruning=rules.explaind_prune.output,
    output:
        report(
            f"{EXPLAIND_RUN}/plots/pruning.png",
            caption="../report/explaind/pruning.rst",
            category="5. ExPLAIND",
            subcategory="{task}",
            labels={"seed": "{seed}", "artefact": "pruning curves"},
        ),
    log:
        f"{EXPLAIND_LOG}/plot_pruning.log",
    localrule: True
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        env=ENV["torch"],
    shell:
        "xairepro-env {params.env} -m xairepro.explaind.plot --title '{wildcards.task}, seed {wildcards.seed}' --pruning {input.pruning} "
        "--out-pruning {output} > {log} 2>&1"


# The paper's grokking "pipeline" experiments (modulo tasks with a `pipeline` config section).
rule explaind_swap:
    input:
        data=lambda wildcards: [dataset_dir(d) for d in explaind.datasets(EXPLAIND, wildcards.task)],
        history=rules.explaind_train.output.history,
    output:
        f"{EXPLAIND_RUN}/swap.csv",
    log:
        f"{EXPLAIND_LOG}/swap.log",
    benchmark:
        f"{EXPLAIND_BENCH}/swap.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: EXPLAIND["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        env=ENV["torch"],
        args=lambda wildcards, input: explaind.args(EXPLAIND, wildcards.task, wildcards.seed, input.data),
        pipeline=lambda wildcards: explaind.pipeline(EXPLAIND, wildcards.task),
    shell:
        "xairepro-env {params.env} -m xairepro.explaind.swap {params.args} {params.pipeline} --history {input.history} "
        "--out {output} > {log} 2>&1"


rule explaind_retrain_pipeline:
    input:
        data=lambda wildcards: [dataset_dir(d) for d in explaind.datasets(EXPLAIND, wildcards.task)],
        history=rules.explaind_train.output.history,
    output:
        f"{EXPLAIND_RUN}/retrain_pipeline.csv",
    log:
        f"{EXPLAIND_LOG}/retrain_pipeline.log",
    benchmark:
        f"{EXPLAIND_BENCH}/retrain_pipeline.tsv"
    conda:
        "../../envs/torch.yaml"
    threads: EXPLAIND["threads"]
    resources:
        mem_mb=4000,
        runtime=480,
    params:
        env=ENV["torch"],
        args=lambda wildcards, input: explaind.args(EXPLAIND, wildcards.task, wildcards.seed, input.data),
        pipeline=lambda wildcards: explaind.pipeline(EXPLAIND, wildcards.task),
    shell:
        "xairepro-env {params.env} -m xairepro.explaind.retrain_pipeline {params.args} {params.pipeline} "
        "--history {input.history} --out {output} > {log} 2>&1"


rule explaind_plot_pipeline:
    input:
        swap=rules.explaind_swap.output,
        retrain=rules.explaind_retrain_pipeline.output,
    output:
        swap=report(
            f"{EXPLAIND_RUN}/plots/swap.png",
            caption="../report/explaind/swap.rst",
            category="5. ExPLAIND",
            subcategory="{task}",
            labels={"seed": "{seed}", "artefact": "pipeline swapped into checkpoints"},
        ),
        retrain=report(
            f"{EXPLAIND_RUN}/plots/retrain_pipeline.png",
            caption="../report/explaind/retrain_pipeline.rst",
            category="5. ExPLAIND",
            subcategory="{task}",
            labels={"seed": "{seed}", "artefact": "retraining around the pipeline"},
        ),
    log:
        f"{EXPLAIND_LOG}/plot_pipeline.log",
    localrule: True
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        env=ENV["torch"],
    shell:
        "xairepro-env {params.env} -m xairepro.explaind.plot --title '{wildcards.task}, seed {wildcards.seed}' --swap {input.swap} --out-swap {output.swap} "
        "--retrain {input.retrain} --out-retrain {output.retrain} > {log} 2>&1"


rule explaind_seeds:
    input:
        lambda wildcards: [f"{run}/comparison.csv" for run in explaind.runs(EXPLAIND, wildcards.task)],
    output:
        "results/explaind/{task}/comparison.csv",
    log:
        "results/logs/explaind/{task}/seeds.log",
    wildcard_constraints:
        task=r"[^/]+",  # not a seed folder's own comparison.csv
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
        "xairepro-env {params.env} -m xairepro.scorecard.seeds {output} {input} > {log} 2>&1"


rule explaind_report:
    input:
        explaind.report_inputs(EXPLAIND),
    output:
        "results/explaind/summary.md",
    log:
        "results/logs/explaind/report.log",
    localrule: True
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        env=ENV["torch"],
        runs=" ".join(run for task in EXPLAIND["run"] for run in explaind.runs(EXPLAIND, task)),
    shell:
        "xairepro-env {params.env} -m xairepro.explaind.report --runs {params.runs} --out {output} > {log} 2>&1"
