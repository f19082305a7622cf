# Two commands for a fresh machine (see README): `make report` and `make test`.
# Each creates .venv on first use and reinstalls when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: report test test-slow lint sample notebooks clean-outputs

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

# Re-execute the notebooks in place (nbval compares against these outputs), keeping only
# the cells' tags and the kernel in their metadata so that a rerun changes no timestamps.
NB ?= notebooks/0*.ipynb
notebooks: $(STAMP)
	for nb in $(NB); do \
	  $(BIN)/jupyter nbconvert --to notebook --execute --inplace $$nb || exit 1; \
	  $(BIN)/jupyter nbconvert --to notebook --inplace $$nb \
	    --ClearMetadataPreprocessor.enabled=True \
	    --ClearMetadataPreprocessor.preserve_cell_metadata_mask=tags \
	    --ClearMetadataPreprocessor.preserve_nb_metadata_mask=kernelspec \
	    --ClearMetadataPreprocessor.preserve_nb_metadata_mask=language_info || exit 1; \
	done

clean-outputs:
	rm -rf out
