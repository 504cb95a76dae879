# llamaops — `make demo` to see it work, `make test` to check it. Both set themselves up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help demo test unit lint typecheck bench crd clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	@touch $@

DURATION ?= 110

demo: $(STAMP) ## the local cluster, the operator and traffic, live, for $(DURATION) s (DURATION=0: until Ctrl-C)
	$(BIN)/llamaops demo $(if $(filter 0,$(DURATION)),,--duration $(DURATION))

test: lint typecheck ## lint, type-check, then run every test
	$(BIN)/python -m pytest

unit: $(STAMP) ## only the unit tests (seconds)
	$(BIN)/python -m pytest tests/unit

lint: $(STAMP) ## ruff, and the import walls between the layers
	$(BIN)/ruff check operator tests benchmarks
	$(BIN)/ruff format --check operator tests benchmarks
	$(BIN)/lint-imports

typecheck: $(STAMP) ## mypy --strict on operator/
	$(BIN)/mypy operator

bench: $(BENCH_STAMP) ## run the benchmarks; figures go to benchmarks/results/
	$(BIN)/python benchmarks/apiserver.py
	$(BIN)/python benchmarks/cluster.py
	$(BIN)/python benchmarks/autoscale.py
	$(BIN)/python benchmarks/rollout.py

crd: $(STAMP) ## regenerate crds/ from the API models
	$(BIN)/llamaops crd > crds/llamadeployments.serving.llamaops.io.yaml

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
