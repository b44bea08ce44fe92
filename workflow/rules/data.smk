# One download_<dataset> rule per registry entry (src/xairepro/data/registry.py): fetch from the
# vendored copy, the mirror (config key data_mirror) or the canonical URL, verify the checksums,
# unpack and normalise atomically into data/<dataset>/. Where the files come from is not a param: the
# checksums make every source give the same folder, so setting data_mirror after a run reruns nothing:
# the job reads it from XAIREPRO_DATA_MIRROR, which common.smk sets from the config. With the config key
# rehearsal (config/rehearsal.yaml) the jobs accept the miniature mirror's own checksums (REHEARSAL.json).
from xairepro.data.models import MODELS, export_rehearsal

# Like the mirror, it reaches the jobs as an environment variable, not a param: no command line changes.
export_rehearsal(config.get("rehearsal", False))

for _name in DATASETS:

    rule:
        name:
            f"download_{_name}"
        output:
            directory(f"data/{_name}"),
        log:
            f"results/logs/data/{_name}.log",
        # all downloads before any compute job, so a dataset missing from the mirror stops the run first
        priority: 100
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


# One download_model_<name> rule per model of src/xairepro/data/models.py: a Hugging Face snapshot at the
# pinned revision (or the mirror's copy), hashed and verified, into data/models/<name>/. Compute jobs
# (Empirical Explainers) take that folder as input and load only it.
for _name in MODELS:

    rule:
        name:
            f"download_model_{_name}"
        output:
            directory(f"data/models/{_name}"),
        log:
            f"results/logs/data/models/{_name}.log",
        priority: 100
        localrule: True
        conda:
            "../../envs/torch.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=60,
        params:
            env=ENV["torch"],
            model=_name,
        shell:
            "xairepro-env {params.env} -m xairepro.data.models {params.model} {output} > {log} 2>&1"
