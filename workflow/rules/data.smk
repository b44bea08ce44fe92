# One download_<dataset> rule per registry entry (src/xairepro/data/registry.py): fetch from the
# vendored copy, the mirror (config key data_mirror) or the canonical URL, verify the checksums,
# unpack and normalise atomically into data/<dataset>/.
for _name in DATASETS:

    rule:
        name:
            f"download_{_name}"
        output:
            directory(f"data/{_name}"),
        params:
            py=PY["torch"],
            dataset=_name,
            vendored=f"{REPO}/data/vendored",
            mirror=lambda wildcards: config["data_mirror"] or "",
        log:
            f"results/logs/data/{_name}.log",
        threads: 1
        resources:
            mem_mb=1000,
            runtime=60,
        conda:
            "../../envs/torch.yaml"
        shell:
            "{params.py} -m xairepro.data.download {params.dataset} {output} "
            "--mirror '{params.mirror}' --vendored {params.vendored} --cache data/.downloads > {log} 2>&1"
