"""The storage torture test (``tests/storage/torture.py``): 200 seeds of random client writes
and faults within the pools' redundancy, on two processes. A failing seed's report names the
command that replays it; ``benchmarks/README.md`` records a run of 5,000 seeds."""

import pytest

from tests.storage.torture import run_seeds

SEEDS = 200


@pytest.mark.slow
def test_two_hundred_seeds_of_writes_and_faults_lose_no_acknowledged_write():
    failures = run_seeds(list(range(SEEDS)), jobs=2)
    assert not failures, "\n\n".join(failures)
