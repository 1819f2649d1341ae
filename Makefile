# Quick start:  make demo   |   make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
DOCS_STAMP := $(VENV)/.installed-docs
TORCH  ?= torch==2.13.0
# The development copy of the data sets (MNIST, text) beside the checkout; tests and CI only.
DEV_DATA := $(abspath ../shared/data)

LINT_DIRS := $(wildcard microtensor tests examples benchmarks tools)

.PHONY: venv test lint demo torch bench docs clean

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Contributors: the package plus pytest, ruff, hypothesis, scikit-learn, matplotlib.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

# The demo needs only the package, matplotlib (figures) and scikit-learn (the digits fallback).
$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[plot,digits]'
	touch $@

# MkDocs + mkdocstrings for the documentation site.
$(DOCS_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[docs]'
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_DIRS)

test: export MICROTENSOR_DATA ?= $(DEV_DATA)
test: export MICROTENSOR_MNIST_DIR ?= $(DEV_DATA)/mnist
test: $(STAMP)
	$(BIN)/ruff check $(LINT_DIRS)
	$(BIN)/python -m pytest

# XOR, then the MNIST MLP: one epoch on MNIST (found, or downloaded into ~/.cache/microtensor);
# without MNIST and without a network, the 8x8 digits set with its own hyperparameters.
demo: $(DEMO_STAMP)
	$(BIN)/python examples/xor.py
	$(BIN)/python examples/mnist_mlp.py --download --quick

# microtensor vs hand-derived NumPy vs PyTorch (if installed), one BLAS thread.
bench: $(STAMP)
	$(BIN)/python -m benchmarks

# PyTorch parity tests; pinned to the release available on local disk.
torch: $(STAMP)
	$(BIN)/pip install '$(TORCH)'

# The documentation site (docs/, mkdocs.yml) into site/; any warning is an error.
docs: $(DOCS_STAMP)
	$(BIN)/python -m mkdocs build --strict

clean:
	rm -rf site $(VENV) .pytest_cache .ruff_cache .hypothesis build dist *.egg-info
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
