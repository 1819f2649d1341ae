# Quick start:  make demo   |   make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TORCH  ?= torch==2.13.0

LINT_DIRS := $(wildcard microtensor tests examples benchmarks tools)

.PHONY: venv test lint demo torch bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_DIRS)

test: $(STAMP)
	$(BIN)/ruff check $(LINT_DIRS)
	$(BIN)/python -m pytest

# XOR, then one epoch of the MNIST MLP (8x8 digits if the MNIST files are absent).
demo: $(STAMP)
	$(BIN)/python examples/xor.py
	$(BIN)/python examples/mnist_mlp.py --epochs 1

# microtensor vs hand-derived NumPy vs PyTorch (if installed), one BLAS thread.
bench: $(STAMP)
	$(BIN)/python -m benchmarks

# PyTorch parity tests; pinned to the release available on local disk.
torch: $(STAMP)
	$(BIN)/pip install '$(TORCH)'

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist *.egg-info
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
