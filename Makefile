# The two set-up commands a newcomer needs: `make demo` and `make test`.
# Both build .venv from pyproject.toml on first use (re-installed when pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR ?= .demo

SOAK_KILLS ?= 200

.PHONY: demo test lint typecheck bench eval soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tactful demo --dir $(DEMO_DIR)

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# The reliability suite with more kill -9 trials per store (make test runs 20).
soak: $(STAMP)
	SOAK_KILLS=$(SOAK_KILLS) $(BIN)/pytest -q -m reliability tests/reliability

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

eval: $(STAMP)
	$(BIN)/python -m tactful.evaluation --out docs/evaluation.md

clean:
	rm -rf $(VENV) $(DEMO_DIR) .eval .pytest_cache .mypy_cache .ruff_cache
