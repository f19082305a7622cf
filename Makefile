# Two commands for a fresh machine (see README): `make report` and `make test`.
# Each creates .venv on first use and reinstalls when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: report test test-slow lint sample clean-outputs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

report: $(STAMP)
	$(BIN)/engagement clean data/sample --out out/clean
	$(BIN)/engagement analyze out/clean --out out/results
	$(BIN)/engagement report out/results --out out/report

test: $(STAMP)
	$(BIN)/python -m pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

lint: $(STAMP)
	$(BIN)/ruff check engagement tests

# Rewrite data/sample/ from the default seed (a test checks it is byte-for-byte current).
sample: $(STAMP)
	$(BIN)/engagement sample data/sample --seed 0

clean-outputs:
	rm -rf out
