# XAI Repro: one DAG that reproduces five explainability papers. Entry point only: the rules live in
# workflow/rules/, the logic in the xairepro package. See README.md for the targets.
from snakemake.utils import min_version

min_version("9.0")


report: "workflow/report/workflow.rst"


# Absolute (relative to this file), so `snakemake -d <elsewhere>` still finds the defaults;
# --configfile overrides them.
configfile: f"{workflow.current_basedir}/config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/gradient_rollback.smk"
include: "workflow/rules/rps_lje.smk"
include: "workflow/rules/empirical_explainers.smk"
include: "workflow/rules/explaind.smk"
include: "workflow/rules/dknn.smk"
include: "workflow/rules/mislabel.smk"
include: "workflow/rules/attribution_truth.smk"
include: "workflow/rules/report.smk"


onstart:
    check_mirror_before_any_job()
    print(f"XAI Repro: methods {', '.join(config['methods'])}; results in results/, logs in results/logs/")


onerror:
    print("XAI Repro: a job failed; its log under results/logs/ says why (or rerun with --show-failed-logs)")


rule all:
    default_target: True
    input:
        final_targets(),
