# The two commands: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   ?= data
OSDS   ?= 6

# The S3 clients tests/integration/test_s3_clients.py drives, from Debian (the awscli comes
# with the test extras, from PyPI). Only `make test` installs them, as root or with sudo.
S3_CLIENTS := s3cmd rclone

.PHONY: run test lint bench clean s3-clients

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

s3-clients:
	@missing="$$(for c in $(S3_CLIENTS); do command -v $$c >/dev/null || echo $$c; done)"; \
	missing="$$(echo $$missing)"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else \
	  echo "make test: $$missing not installed, and installing needs root or sudo:"; \
	  echo "  run 'apt-get install -y $$missing' as root; until then test_s3_clients.py fails for it."; \
	  exit 0; \
	fi; \
	echo "make test: installing $$missing from Debian"; \
	$$sudo apt-get update -q && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing

test: $(VENV)/.installed s3-clients
	$(BIN)/ruff check librgw tests benchmarks
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/cluster_bench.py

clean:
	rm -rf $(VENV) *.egg-info
