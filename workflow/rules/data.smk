# One download_<dataset> rule per registry entry (src/xairepro/data/registry.py): fetch from the
# vendored copy, the mirror (config key data_mirror) or the canonical URL, verify the checksums,
# unpack and normalise atomically into data/<dataset>/. Where the files come from is not a param: the
# checksums make every source give the same folder, so setting data_mirror after a run reruns nothing:
# the job reads it from XAIREPRO_DATA_MIRROR, which common.smk sets from the config.

for _name in DATASETS:

    rule:
        name:
            f"download_{_name}"
        output:
            directory(f"data/{_name}"),
        log:
            f"results/logs/data/{_name}.log",
        localrule: True
        conda:
            "../../envs/torch.yaml"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=60,
        params:
            env=ENV["torch"],
            dataset=_name,
        shell:
            "xairepro-env {params.env} -m xairepro.data.download {params.dataset} {output} "
            "--cache data/.downloads > {log} 2>&1"
