# Paper-vs-ours scorecard, the effective config and the software versions of each environment, all in
# the report.
import json


rule scorecard:
    input:
        tables=comparison_tables(),
    output:
        csv=report("results/scorecard.csv", caption="../report/scorecard.rst", category="1. Scorecard"),
        md="results/scorecard.md",
    log:
        "results/logs/scorecard.log",
    localrule: True
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        env=ENV["torch"],
    shell:
        "xairepro-env {params.env} -m xairepro.scorecard.build {output.csv} {output.md} {input.tables} > {log} 2>&1"


rule software_versions:
    output:
        report(
            "results/software/{env}.txt",
            caption="../report/software.rst",
            category="8. Software",
            labels={"environment": "{env}"},
        ),
    log:
        "results/logs/software/{env}.log",
    wildcard_constraints:
        env="|".join(ENVS),
    localrule: True
    conda:
        lambda wildcards: f"../../envs/{wildcards.env}.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        env=lambda wildcards: ENV[wildcards.env],
    shell:
        "(xairepro-env {params.env} --version && xairepro-env {params.env} -m pip freeze --all) > {output} 2> {log}"


rule effective_config:
    output:
        report("results/config.yaml", caption="../report/config.rst", category="8. Software"),
    log:
        "results/logs/config.log",
    localrule: True
    conda:
        "../../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        env=ENV["torch"],
        # without data_mirror: where the verified data came from does not change a result
        config=json.dumps({key: value for key, value in config.items() if key != "data_mirror"}),
    shell:
        "xairepro-env {params.env} -m xairepro.scorecard.config_dump {params.config:q} {output} > {log} 2>&1"
