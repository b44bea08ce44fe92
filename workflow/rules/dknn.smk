# Deep k-Nearest Neighbors for text (Wallace, Feng & Boyd-Graber 2018): train a Chainer classifier,
# index its layers' activations, calibrate, evaluate accuracy/calibration, explain by leave-one-out.
# Settings: config section `dknn` (workflow/schemas/dknn.schema.yaml).
from xairepro.dknn.pipeline import (
    combined as dknn_combined,
    flags as dknn_flags,
    runs as dknn_runs,
    vectors as dknn_vectors,
)

DKNN = config["dknn"]
DKNN_RUN = "results/dknn/{dataset}/{model}/seed{seed}"
DKNN_LOG = "results/logs/dknn/{dataset}/{model}/seed{seed}"
DKNN_BENCH = "results/benchmarks/dknn/{dataset}/{model}/seed{seed}"


METHOD_TARGETS["dknn"] = lambda: [
    p for n in ("metrics.json", "reliability.png", "saliency.html") for p in dknn_runs(DKNN, n)
] + dknn_combined(DKNN)
METHOD_TABLES["dknn"] = lambda: dknn_combined(DKNN)


rule dknn_train:
    input:
        data=lambda wildcards: dataset_dir(wildcards.dataset),
        vectors=lambda wildcards: [dataset_dir(v) for v in dknn_vectors(DKNN, wildcards.model)],
    output:
        model=f"{DKNN_RUN}/best_model.npz",
        vocab=f"{DKNN_RUN}/vocab.json",
        args=f"{DKNN_RUN}/args.json",
        calib=f"{DKNN_RUN}/calib.json",
        history=f"{DKNN_RUN}/train_log.json",
    log:
        f"{DKNN_LOG}/train.log",
    benchmark:
        f"{DKNN_BENCH}/train.tsv"
    conda:
        "../../envs/chainer.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=180,  # SNLI: 1.5x the extrapolated CPU time (README: measured resource table)
    params:
        env=ENV["chainer"],
        vectors=lambda wildcards, input: f"--word-vectors {input.vectors}" if input.vectors else "",
        out_dir=lambda wildcards, output: Path(output.model).parent,
        flags=dknn_flags(
            DKNN,
            "embed_size",
            "unit",
            "mlp_layers",
            "dropout",
            "epochs",
            "batch_size",
            "learning_rate",
            "weight_decay",
            "n_calib",
            "max_train",
        ),
    shell:
        "xairepro-env {params.env} -m xairepro.dknn.train --dataset {wildcards.dataset} --data-dir {input.data} "
        "--model {wildcards.model} --seed {wildcards.seed} {params.vectors} {params.flags} --out-dir {params.out_dir} > {log} 2>&1"


rule dknn_index:
    input:
        trained=rules.dknn_train.output,
        data=lambda wildcards: dataset_dir(wildcards.dataset),
    output:
        activations=f"{DKNN_RUN}/activations.npz",
        dknn=f"{DKNN_RUN}/index.pkl",
        timing=f"{DKNN_RUN}/index_timing.json",
    log:
        f"{DKNN_LOG}/index.log",
    benchmark:
        f"{DKNN_BENCH}/index.tsv"
    conda:
        "../../envs/chainer.yaml"
    threads: 1
    resources:
        # SNLI's 549k indexed activations and their k-d trees (README: measured resource table)
        mem_mb=6000,
        runtime=60,
    params:
        env=ENV["chainer"],
        model_dir=lambda wildcards, input: Path(input.trained[0]).parent,
        flags=dknn_flags(DKNN, "k", "index"),
    shell:
        "xairepro-env {params.env} -m xairepro.dknn.index --model-dir {params.model_dir} --data-dir {input.data} "
        "{params.flags} --activations {output.activations} --dknn {output.dknn} "
        "--timing {output.timing} > {log} 2>&1"


rule dknn_calibrate:
    input:
        activations=rules.dknn_index.output.activations,
        dknn=rules.dknn_index.output.dknn,
    output:
        dknn=f"{DKNN_RUN}/dknn.pkl",
        calibration=f"{DKNN_RUN}/calibration.json",
    log:
        f"{DKNN_LOG}/calibrate.log",
    benchmark:
        f"{DKNN_BENCH}/calibrate.tsv"
    conda:
        "../../envs/chainer.yaml"
    threads: 1
    resources:
        # SNLI's 549k indexed activations and their k-d trees (README: measured resource table)
        mem_mb=6000,
        runtime=60,
    params:
        env=ENV["chainer"],
        flags=dknn_flags(DKNN, "temperature_init", "temperature_epochs"),
    shell:
        "xairepro-env {params.env} -m xairepro.dknn.calibrate --activations {input.activations} --dknn-in {input.dknn} "
        "--dknn-out {output.dknn} --calibration {output.calibration} {params.flags} --seed {wildcards.seed} > {log} 2>&1"


rule dknn_eval:
    input:
        activations=rules.dknn_index.output.activations,
        dknn=rules.dknn_calibrate.output.dknn,
        calibration=rules.dknn_calibrate.output.calibration,
        args=rules.dknn_train.output.args,
    output:
        metrics=report(
            f"{DKNN_RUN}/metrics.json",
            caption="../report/dknn/metrics.rst",
            category="6. DkNN",
            subcategory="{dataset}",
            labels={"model": "{model}", "seed": "{seed}", "artefact": "metrics"},
        ),
        reliability=f"{DKNN_RUN}/reliability.json",
        comparison=f"{DKNN_RUN}/comparison.csv",
    log:
        f"{DKNN_LOG}/eval.log",
    benchmark:
        f"{DKNN_BENCH}/eval.tsv"
    conda:
        "../../envs/chainer.yaml"
    threads: 1
    resources:
        # SNLI: 549k indexed activations, their k-d trees, 20k searches (README: measured resource table)
        mem_mb=6000,
        runtime=120,
    params:
        env=ENV["chainer"],
        vectors=lambda wildcards: " ".join(dknn_vectors(DKNN, wildcards.model)),
        flags=dknn_flags(DKNN, "n_bins"),
    shell:
        "xairepro-env {params.env} -m xairepro.dknn.eval --activations {input.activations} --dknn {input.dknn} "
        "--calibration {input.calibration} --args {input.args} --word-vectors-name '{params.vectors}' "
        "{params.flags} --metrics {output.metrics} --reliability {output.reliability} "
        "--comparison {output.comparison} > {log} 2>&1"


rule dknn_interpret:
    input:
        trained=rules.dknn_train.output,
        data=lambda wildcards: dataset_dir(wildcards.dataset),
        dknn=rules.dknn_calibrate.output.dknn,
        calibration=rules.dknn_calibrate.output.calibration,
    output:
        saliency=f"{DKNN_RUN}/saliency.json",
        html=report(
            f"{DKNN_RUN}/saliency.html",
            caption="../report/dknn/saliency.rst",
            category="6. DkNN",
            subcategory="{dataset}",
            labels={"model": "{model}", "seed": "{seed}", "artefact": "saliency maps"},
        ),
    log:
        f"{DKNN_LOG}/interpret.log",
    benchmark:
        f"{DKNN_BENCH}/interpret.tsv"
    conda:
        "../../envs/chainer.yaml"
    threads: 1
    resources:
        # SNLI's 549k indexed activations and their k-d trees (README: measured resource table)
        mem_mb=6000,
        runtime=60,
    params:
        env=ENV["chainer"],
        model_dir=lambda wildcards, input: Path(input.trained[0]).parent,
        flags=dknn_flags(DKNN, "n_interpret"),
    shell:
        "xairepro-env {params.env} -m xairepro.dknn.interpret --model-dir {params.model_dir} --data-dir {input.data} "
        "--dknn {input.dknn} --calibration {input.calibration} {params.flags} "
        "--saliency {output.saliency} --html {output.html} > {log} 2>&1"


rule dknn_plot:
    input:
        rules.dknn_eval.output.reliability,
    output:
        report(
            f"{DKNN_RUN}/reliability.png",
            caption="../report/dknn/reliability.rst",
            category="6. DkNN",
            subcategory="{dataset}",
            labels={"model": "{model}", "seed": "{seed}", "artefact": "reliability diagrams"},
        ),
    log:
        f"{DKNN_LOG}/plot.log",
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
        "xairepro-env {params.env} -m xairepro.dknn.plot --reliability {input} --title '{wildcards.dataset} / {wildcards.model}, seed {wildcards.seed}' "
        "--out {output} > {log} 2>&1"


rule dknn_seeds:
    input:
        lambda wildcards: expand(f"{DKNN_RUN}/comparison.csv", seed=DKNN["seeds"], allow_missing=True),
    output:
        "results/dknn/{dataset}/{model}/comparison.csv",
    log:
        "results/logs/dknn/{dataset}/{model}/seeds.log",
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
