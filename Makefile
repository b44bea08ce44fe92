# The two commands of the README:  `make run`  (default pipeline, offline, CPU)  and  `make test`.
# `make envs` alone builds the three environments; every target is idempotent (a second run does nothing).
SHELL := /bin/bash
ENVS := torch tf chainer
CORES ?= 2

.PHONY: envs run rehearsal readme-results test system-packages clean-envs
# Each venv is rebuilt when its stamp says it was built for other pins, another pyproject.toml or setup
# script, another python3 or another location of the checkout (a moved checkout), or when it no longer runs.
envs:
	@for e in $(ENVS); do bash scripts/setup_env.sh --if-stale $$e || exit 1; done

# The wall time and the number of steps the run did go to results/benchmarks/make_run.txt (README timings).
run: envs
	@start=$$(date +%s); .venvs/torch/bin/snakemake --cores $(CORES); rc=$$?; \
	log=$$(ls -t .snakemake/log/*.snakemake.log 2>/dev/null | head -1); mkdir -p results/benchmarks; \
	echo "$$(( $$(date +%s) - start )) $(CORES) $$(grep -o '[0-9]* of [0-9]* steps' $$log | tail -1)" \
		> results/benchmarks/make_run.txt; exit $$rc
	.venvs/torch/bin/snakemake --report results/report.html

# After `make run`: write results/scorecard.md and the method blocks into the README. Blocks of runs made
# apart (the paper-config German credit run, the benchmarks with --markdown) go in when their file exists.
# The measured resource table (README: On a SLURM cluster) needs a rehearsal's benchmark files.
readme-results:
	.venvs/torch/bin/python -m xairepro.scorecard.timings results/benchmarks results/benchmarks/timings.md
	$(if $(wildcard runs/ee_imdb/results/benchmarks),.venvs/torch/bin/python -m xairepro.scorecard.timings runs/ee_imdb/results/benchmarks runs/ee_imdb/results/benchmarks/timings.md)
	$(if $(wildcard results/benchmarks/explaind/authors*.json),.venvs/torch/bin/python benchmarks/explaind_authors.py --markdown-only --markdown results/benchmarks/explaind_authors.md)
	$(if $(wildcard runs/rehearsal/results/benchmarks),.venvs/torch/bin/python -m xairepro.scorecard.resources runs/rehearsal/results/resources.md --measured runs/rehearsal config/paper.yaml config/rehearsal.yaml --measured . $(if $(wildcard runs/ee_imdb/results/config.yaml),--measured runs/ee_imdb config/ee_imdb.yaml))
	.venvs/torch/bin/python -m xairepro.scorecard.readme results/scorecard.md README.md \
		--block timings=results/benchmarks/timings.md \
		--block rps_lje=results/rps_lje/summary.md --block mislabel=results/mislabel/summary.md \
		--block attribution_truth=results/attribution_truth/summary.md --block explaind=results/explaind/summary.md \
		$(if $(wildcard runs/paper/results/rps_lje/summary.md),--block rps_lje_paper=runs/paper/results/rps_lje/summary.md) \
		$(if $(wildcard results/gradient_rollback/table1/nations/distmult/table1.md),--block gr_table1=results/gradient_rollback/table1/nations/distmult/table1.md) \
		$(if $(wildcard runs/grok/results/explaind/grok113/seed0/grokking.md),--block explaind_grokking=runs/grok/results/explaind/grok113/seed0/grokking.md) \
		$(if $(wildcard results/benchmarks/rps_lje_explain_time.md),--block rps_lje_speed=results/benchmarks/rps_lje_explain_time.md) \
		$(if $(wildcard results/empirical_explainers/sst2/lig-10/evaluation/summary.md),--block ee=results/empirical_explainers/sst2/lig-10/evaluation/summary.md) \
		$(if $(wildcard runs/ee_imdb/results/empirical_explainers/imdb/lig-20/evaluation/summary.md),--block ee_imdb=runs/ee_imdb/results/empirical_explainers/imdb/lig-20/evaluation/summary.md) \
		$(if $(wildcard runs/ee_imdb/results/benchmarks/timings.md),--block ee_imdb_timings=runs/ee_imdb/results/benchmarks/timings.md) \
		$(if $(wildcard results/benchmarks/empirical_explainers_speed.md),--block ee_speed=results/benchmarks/empirical_explainers_speed.md) \
		$(if $(wildcard results/benchmarks/explaind_memory.md),--block explaind_memory=results/benchmarks/explaind_memory.md) \
		$(if $(wildcard results/benchmarks/explaind_error_vs_T.md),--block explaind_error_order=results/benchmarks/explaind_error_vs_T.md) \
		$(if $(wildcard results/benchmarks/explaind_authors.md),--block explaind_authors=results/benchmarks/explaind_authors.md) \
		$(if $(wildcard results/benchmarks/dknn_knn_search.md),--block dknn_knn_search=results/benchmarks/dknn_knn_search.md) \
		$(if $(wildcard results/benchmarks/rps_lje_imdb_epoch.md),--block rps_lje_imdb=results/benchmarks/rps_lje_imdb_epoch.md) \
		$(if $(wildcard runs/rehearsal/results/benchmarks),--block resources=runs/rehearsal/results/resources.md)

# The paper DAG (config/paper.yaml) end to end on miniatures, offline, on CPU, in runs/rehearsal (README: Rehearsal):
# the generator writes the miniature mirror, then the same rules run with config/rehearsal.yaml layered on top.
REHEARSAL := --configfile config/paper.yaml config/rehearsal.yaml --directory runs/rehearsal
rehearsal: envs
	.venvs/torch/bin/python -m xairepro.data.miniatures runs/rehearsal/mirror
	.venvs/torch/bin/snakemake --cores $(CORES) $(REHEARSAL)

test: envs system-packages
	bash scripts/run_tests.sh

# Debian packages the tests use: slurm-wlm and munge (a real SLURM cluster, started by the tests) and
# chromium (opens the report headless). Root only; without them those tests are skipped.
system-packages:
	@if [ "$$(id -u)" = 0 ]; then bash scripts/install_system_packages.sh; \
	else echo "not root: SLURM and browser tests are skipped unless slurm-wlm, munge and chromium are installed"; fi

clean-envs:
	rm -rf .venvs
