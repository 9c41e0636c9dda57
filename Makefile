# FutureMart data platform. `make run` and `make test` work on a fresh clone: they create .venv first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The Dagster instance (dagster.yaml) lives at the repository root; its storage under data/dagster/.
export DAGSTER_HOME := $(CURDIR)
# dbt compiles for lint against a throwaway warehouse, never the real one.
LINT_WAREHOUSE := $(CURDIR)/dbt_project/target/lint.duckdb
# Test scale: small enough for a 2-core machine, big enough to exercise every path.
TEST_SCALE ?= 0.02

.PHONY: help setup setup-spark java manifest browser postgres run run-spark dev test lint validate bench bench-publish bench-ml bench-ai bench-pipeline bench-uplift bench-generation clean clean-data

help:
	@echo "make run     set up, generate data, materialize every asset (data/warehouse/futuremart.duckdb)"
	@echo "make run-spark  make run, then the same dbt project built and tested on Spark, and the parity check"
	@echo "make test    set up, then lint and run the test suite"
	@echo "make browser install headless Chromium (Debian package) for the browser tests"
	@echo "make postgres install PostgreSQL 15 (Debian package) for the deployment test"
	@echo "make dev     open the Dagster UI (http://localhost:3000) on workspace.yaml"
	@echo "make lint    sqlfluff (dbt templater) on every model, ruff on the Python"
	@echo "make validate run the Great Expectations suites against the warehouse"
	@echo "make bench   measure side by side at SF1 and SF10 (BENCH_SCALES): data/bench/bench.json, bench.md"
	@echo "make clean   remove build artifacts; make clean-data removes data/ too"

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v "is ignored: it is neither" || true
	$(BIN)/python -c "import dagster, dagster_dbt, dbt.version, duckdb, great_expectations"
	touch $@

setup: $(BIN)/.installed manifest

# The Spark engine (FUTUREMART_ENGINE=spark): dbt-spark's session method runs pyspark in the dbt process,
# which needs a Java runtime (`make java`). An extra, so `make run` does not carry pyspark (about 450 MB).
$(BIN)/.installed-spark: $(BIN)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,spark]' 2>&1 | grep -v "is ignored: it is neither" || true
	$(BIN)/python -c "import pyspark, dbt.adapters.spark"
	touch $@

setup-spark: $(BIN)/.installed-spark java manifest

# Java 17 for Spark: Debian's headless runtime, as root (apt-get); skipped when a java is on PATH.
java:
	@if command -v java >/dev/null; then echo "java: $$(command -v java)"; \
	elif [ "$$(id -u)" != 0 ]; then echo "java is missing: run 'make java' as root (apt-get)" >&2; exit 1; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless; fi

# dagster-dbt reads target/manifest.json when the code location loads; parse is cheap (a few seconds).
manifest: $(BIN)/.installed
	cd dbt_project && FUTUREMART_WAREHOUSE_PATH=$(LINT_WAREHOUSE) ../$(BIN)/dbt parse --quiet --profiles-dir .

run: setup
	$(BIN)/futuremart run

# The whole warehouse on DuckDB, then on Spark from the same raw layer (every model and dbt test), then the
# parity of every mart; fails on a failed Spark model or test or on any difference.
run-spark: setup-spark
	$(BIN)/futuremart run --engine spark

dev: setup
	$(BIN)/dagster dev -w workspace.yaml -h 0.0.0.0 -p 3000

validate: setup
	$(BIN)/python -m expectations.runner

lint: setup
	$(BIN)/ruff check .
	cd dbt_project && FUTUREMART_WAREHOUSE_PATH=$(LINT_WAREHOUSE) ../$(BIN)/sqlfluff lint models

# Headless Chromium for the report and Dagster UI tests: Debian's package, since Playwright's own browser
# download does not work offline. Needs root (apt-get); skipped when the browser is already there.
CHROMIUM := /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ]; then echo "chromium: $(CHROMIUM)"; \
	elif [ "$$(id -u)" != 0 ]; then echo "$(CHROMIUM) is missing: run 'make browser' as root (apt-get)" >&2; exit 1; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; fi

# PostgreSQL for the deployment test (tests/test_deploy.py starts a throwaway server from these binaries;
# no cluster of the package is used). Debian's package, as root (apt-get); skipped when already installed.
PG_BIN := /usr/lib/postgresql/15/bin
postgres:
	@if [ -x $(PG_BIN)/initdb ] && [ -x $(PG_BIN)/pg_ctl ]; then echo "postgresql: $(PG_BIN)"; \
	elif [ "$$(id -u)" != 0 ]; then echo "$(PG_BIN) is missing: run 'make postgres' as root (apt-get)" >&2; exit 1; \
	else apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; fi

test: setup setup-spark browser postgres
	FUTUREMART_TEST_SCALE=$(TEST_SCALE) $(BIN)/pytest --durations=30
	$(MAKE) --no-print-directory lint

# Records figures, asserts nothing: scale factors are configurable (make bench BENCH_SCALES="1 10").
# Side by side at each scale: generation vs a Faker loop, Dagster vs direct calls, dbt vs its compiled SQL,
# a new day vs a full build, peak RSS; data/bench/bench.json and bench.md (also printed). See README.
BENCH_SCALES ?= 1 10
# Times each side of bench-generation is timed (fastest kept): raise it on a busy machine.
BENCH_REPEAT ?= 1
# The memory target (peak RSS <= 4 GiB at SF10) is measured with DuckDB capped at BENCH_DUCKDB_MEMORY (the
# platform's default, 8GiB, is for a machine of its own); FUTUREMART_DUCKDB_MEMORY_LIMIT, when set, wins.
BENCH_DUCKDB_MEMORY ?= 2GiB
bench: setup
	FUTUREMART_DUCKDB_MEMORY_LIMIT=$${FUTUREMART_DUCKDB_MEMORY_LIMIT:-$(BENCH_DUCKDB_MEMORY)} \
		$(BIN)/futuremart bench $(foreach s,$(BENCH_SCALES),--scale $(s))

# The generation figures alone, each side timed BENCH_REPEAT times (fastest kept): data/bench/generation.json.
bench-generation: setup
	$(BIN)/python -m benchmarks.generation $(foreach s,$(BENCH_SCALES),--scale $(s)) --repeat $(BENCH_REPEAT)

# Times publishing the analysts' copy from the warehouse that `make run` built (data/bench/publish.json).
bench-publish: setup
	$(BIN)/python -m benchmarks.publish --repeat 3

# Trains and grades the three models on the warehouse that `make run` built (data/bench/ml.json).
bench-ml: setup
	$(BIN)/python -m benchmarks.ml

# Sentiment, support intents and security alerts graded against the planted truth (data/bench/ai_services.json).
bench-ai: setup
	$(BIN)/python -m benchmarks.ai_services

# Campaign uplift estimates against the planted uplift on the warehouse that `make run` built, and the same
# estimator replicated on 20 generated worlds (data/bench/campaign_uplift.json; about 5 minutes on 2 cores).
bench-uplift: setup
	$(BIN)/python -m benchmarks.campaign_uplift --seeds 20

# Raw load rows/s, and a new day's run against the full build, on the landed world (data/bench/pipeline.json).
bench-pipeline: setup
	$(BIN)/python -m benchmarks.pipeline

clean:
	rm -rf dbt_project/target dbt_project/logs .pytest_cache .ruff_cache logs

clean-data:
	rm -rf data
