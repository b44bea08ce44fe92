# The two commands of the README:  `make run`  (default pipeline, offline, CPU)  and  `make test`.
# `make envs` alone builds the three environments; every target is idempotent (a second run does nothing).
SHELL := /bin/bash
ENVS := torch tf chainer
CORES ?= 2

.PHONY: envs run readme-results test slurm clean-envs
envs: $(foreach e,$(ENVS),.venvs/$(e)/.installed)

.venvs/%/.installed: envs/%.txt pyproject.toml scripts/setup_env.sh
	bash scripts/setup_env.sh $*

run: envs
	.venvs/torch/bin/snakemake --cores $(CORES)
	.venvs/torch/bin/snakemake --report results/report.html

# After `make run`: write results/scorecard.md into the README's results section.
readme-results:
	.venvs/torch/bin/python -m xairepro.scorecard.readme results/scorecard.md README.md

test: envs slurm
	bash scripts/run_tests.sh

# Debian's slurm-wlm and munge for the SLURM tests (root only; the tests start the daemons themselves).
slurm:
	@if [ "$$(id -u)" = 0 ]; then bash scripts/slurm_cluster.sh install; \
	else echo "not root: SLURM tests are skipped unless slurm-wlm is installed"; fi

clean-envs:
	rm -rf .venvs
