#!/usr/bin/env bash
# GPU check (README: On a SLURM cluster). On a machine with an NVIDIA GPU: build what is missing, run the
# rehearsal's GPU rules (the rules that profiles/slurm gives a GPU) twice, with `device: cuda` and with
# `device: cpu`, assert that every cuda job logged a GPU peak memory above 0 (xairepro.device writes that
# line when a step that took the GPU ends), and print per-rule time, CPU vs GPU. About 10 minutes.
#
#   bash scripts/gpu_check.sh [OUT_DIR]        # default runs/gpu_check
#
# Offline GPU machines: the rehearsal's data and models are miniatures that the generator makes here, so
# nothing is downloaded; only the venvs need a package index (or run `make envs` where one is reachable).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=$(realpath -m "${1:-runs/gpu_check}")
cores=$(nproc)

command -v nvidia-smi >/dev/null || { echo "gpu_check: nvidia-smi not found: run this on a machine with an NVIDIA GPU" >&2; exit 2; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

make envs
py=.venvs/torch/bin/python
if ! "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    pin=$(grep -E '^torch==' envs/torch.txt | cut -d= -f3)
    echo "gpu_check: the torch venv has no CUDA build; installing PyPI's torch==$pin (its Linux wheel is the CUDA build)"
    .venvs/torch/bin/pip install --quiet --force-reinstall --no-deps "torch==$pin"
    "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" || {
        echo "gpu_check: torch still sees no CUDA device (driver? CUDA_VISIBLE_DEVICES?)" >&2; exit 2; }
fi
"$py" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0))"

# The rules that profiles/slurm gives a GPU: exactly these must show GPU work.
mapfile -t gpu_rules < <(sed -nE 's/^ *- ([a-z_]+):gpu=1.*/\1/p' profiles/slurm/config.yaml | sort -u)
echo "GPU rules (profiles/slurm): ${gpu_rules[*]}"

mirror="$out/mirror"
"$py" -m xairepro.data.miniatures "$mirror"
for device in cuda cpu; do
    mkdir -p "$out/$device"
    # only the methods with GPU rules (the others' rules never take a device)
    printf 'device: %s\nexplaind: {device: %s}\ndata_mirror: %s\nmethods: [rps_lje, empirical_explainers, explaind, mislabel]\n' \
        $device $device "$mirror" > "$out/$device/device.yaml"
    configs=(--configfile config/paper.yaml config/rehearsal.yaml "$out/$device/device.yaml")
    # a fresh directory, so every job runs (and its benchmark file is this run's)
    .venvs/torch/bin/snakemake --cores "$cores" --directory "$out/$device" "${configs[@]}" --quiet rules
    .venvs/torch/bin/snakemake --directory "$out/$device" "${configs[@]}" --summary > "$out/$device/summary.tsv"
done

"$py" -m xairepro.gpu_check "$out" "${gpu_rules[@]}"
