# Paper-vs-ours scorecard, the effective config and the software versions of each environment, all in
# the report.
import json


rule scorecard:
    input:
        tables=comparison_tables(),
    output:
        csv=report("results/scorecard.csv", caption="../report/scorecard.rst", category="1. Scorecard"),
        md="results/scorecard.md",
    params:
        py=PY["torch"],
    log:
        "results/logs/scorecard.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../../envs/torch.yaml"
    shell:
        "{params.py} -m xairepro.scorecard.build {output.csv} {output.md} {input.tables} > {log} 2>&1"


rule software_versions:
    output:
        report("results/software/{env}.txt", caption="../report/software.rst", category="8. Software",
               labels={"environment": "{env}"}),
    params:
        py=lambda wildcards: PY[wildcards.env],
    log:
        "results/logs/software/{env}.log",
    wildcard_constraints:
        env="|".join(ENVS),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        lambda wildcards: f"../../envs/{wildcards.env}.yaml"
    shell:
        "({params.py} --version && {params.py} -m pip freeze --all) > {output} 2> {log}"


rule effective_config:
    output:
        report("results/config.yaml", caption="../report/config.rst", category="8. Software"),
    params:
        py=PY["torch"],
        config=json.dumps(config),
    log:
        "results/logs/config.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../../envs/torch.yaml"
    shell:
        "{params.py} -m xairepro.scorecard.config_dump {params.config:q} {output} > {log} 2>&1"
