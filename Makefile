# The two commands: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   ?= data
OSDS   ?= 6

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { apt-get update && apt-get install -y python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@

$(DATA)/cluster.conf: | $(VENV)/.installed
	$(BIN)/librgw cluster init $(DATA) --osds $(OSDS)

run: $(VENV)/.installed $(DATA)/cluster.conf
	$(BIN)/librgw -c $(DATA)/cluster.conf status
	$(BIN)/librgw -c $(DATA)/cluster.conf serve

test: $(VENV)/.installed
	$(BIN)/ruff check librgw tests benchmarks
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/cluster_bench.py

clean:
	rm -rf $(VENV) *.egg-info
