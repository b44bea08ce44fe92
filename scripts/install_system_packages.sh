#!/usr/bin/env bash
# Debian packages the tests need, installed only when missing (idempotent): slurm-wlm + munge for the
# real SLURM cluster of tests/pipeline/test_slurm.py, chromium to open the report headless.
set -euo pipefail
missing=()
command -v slurmctld >/dev/null || missing+=(slurm-wlm)
command -v munged >/dev/null || missing+=(munge)
command -v chromium >/dev/null || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]} from Debian"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
