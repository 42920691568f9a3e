# The two commands: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   ?= data
OSDS   ?= 6
# EC=K+M (e.g. EC=4+2, which needs OSDS >= 6): a new cluster's data pool is erasure-coded,
# K data + M coding shards; unset, it is replicated. `librgw cluster init --data-pool`.
EC     ?=
comma  := ,

# The S3 clients tests/integration/test_s3_clients.py drives, from Debian (the awscli comes
# with the test extras, from PyPI); and the Ceph (Pacific) daemons and python3-rados the
# ceph: backend's tests run a throwaway cluster with (tests/ceph/cluster.sh). Only `make test`
# installs them, as root or with sudo (tools/apt-need.sh).
S3_CLIENTS := s3cmd:s3cmd rclone:rclone
# The memcached the Swift all-in-one's tempauth keeps its tokens in (tests/swift/aio.py).
SWIFT_AIO  := memcached:memcached
# wrk and ab (HEAD) drive benchmarks/gateway.py, curl its large streams; `make test` runs its smoke test.
BENCH_TOOLS := wrk:wrk ab:apache2-utils curl:curl
# The peers `make bench-gateway` measures librgw against (benchmarks/peers.py): radosgw on the
# Ceph test cluster's daemons, and the Swift all-in-one.
BENCH_PEERS := radosgw:radosgw
CEPH       := ceph-mon:ceph-mon ceph-mgr:ceph-mgr ceph-osd:ceph-osd rados:ceph-common uuidgen:uuid-runtime

.PHONY: run test lint bench bench-gateway profile-gateway bench-tools clean s3-clients swift-aio ceph

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { apt-get update && apt-get install -y python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@

$(DATA)/cluster.conf: | $(VENV)/.installed
	$(BIN)/librgw cluster init $(DATA) --osds $(OSDS) $(if $(EC),--data-pool k=$(subst +,$(comma)m=,$(EC)))

run: $(VENV)/.installed $(DATA)/cluster.conf
	$(BIN)/librgw -c $(DATA)/cluster.conf status
	$(BIN)/librgw -c $(DATA)/cluster.conf serve

s3-clients:
	tools/apt-need.sh "the S3 client tests" $(S3_CLIENTS)

swift-aio:
	tools/apt-need.sh "the Swift all-in-one tests" $(SWIFT_AIO)

bench-tools:
	tools/apt-need.sh "the gateway benchmark" $(BENCH_TOOLS)

# python3-rados has no command: it is wanted whenever the daemons are, and then made
# importable in .venv (only it, not the rest of Debian's dist-packages).
ceph: $(VENV)/.installed
	tools/apt-need.sh "the ceph: backend tests" $(CEPH) $$(dpkg -s python3-rados >/dev/null 2>&1 || echo rados-module:python3-rados)
	@if dpkg -s python3-rados >/dev/null 2>&1; then tests/ceph/venv_rados.sh $(VENV) || echo "*** the ceph: backend tests cannot run: see above"; fi

test: $(VENV)/.installed s3-clients swift-aio bench-tools ceph
	$(BIN)/ruff check librgw tests benchmarks libcloud_driver examples
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/cluster_bench.py

bench-gateway: $(VENV)/.installed bench-tools swift-aio ceph
	tools/apt-need.sh "the gateway benchmark's radosgw" $(BENCH_PEERS)
	$(BIN)/python benchmarks/gateway.py --stack --peer radosgw --peer swift

# Flame graphs of librgw's gateway during each cell, no peers: benchmarks/profiles/<cell>.svg.
profile-gateway: $(VENV)/.installed bench-tools
	$(BIN)/pip install -q -e '.[profile]'
	$(BIN)/python benchmarks/gateway.py --rounds 1 --seconds 10 --stream-mib 0 --profile benchmarks/profiles

clean:
	rm -rf $(VENV) *.egg-info
