#!/usr/bin/env python3
"""Bucket listing benchmark: pages of ``--page`` keys from a bucket of ``--keys`` keys over ``--shards`` shards.

The issue's target: a page of 1,000 keys from a bucket of 1,000,000 keys in well under a second.
The keys (``dir<d>/obj<n>``, 100 directories) are written straight into the index shards,
a thousand per write op, as ``complete`` leaves them; then each listing is timed ``--rounds``
times and the median printed: from the start, from a random marker, with a prefix, and with a
delimiter (which rolls up the 100 directories). Everything goes to a temporary directory under
``--dir``, removed at the end.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

try:
    import librgw
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import librgw
from librgw import rados
from librgw.bucket_index import HEADER_KEY, BucketIndex, IndexEntry, ShardHeader
from librgw.storage.cluster import create_cluster
from librgw.zone import INDEX_POOL

DIRECTORIES = 100
BATCH = 1000


def key_of(n: int) -> str:
    return f"dir{n % DIRECTORIES:03}/obj{n:08}"


def fill(rgw: librgw.RGW, index: BucketIndex, count: int) -> None:
    per_shard: dict[int, list[IndexEntry]] = defaultdict(list)
    headers: dict[int, ShardHeader] = defaultdict(ShardHeader)
    with rgw.client.open_ioctx(INDEX_POOL) as ioctx:

        def flush(shard: int) -> None:
            batch = per_shard.pop(shard)
            with rados.WriteOpCtx() as op:
                ioctx.set_omap(op, [e.key for e in batch], [e.encode() for e in batch])
                ioctx.operate_write_op(op, index.info.index_object(shard))

        for n in range(count):
            key = key_of(n)
            shard = index.shard_of(key)
            entry = IndexEntry(key, 1024, "d41d8cd98f00b204e9800998ecf8427e", time.time())
            per_shard[shard].append(entry)
            headers[shard].account(None, entry)
            if len(per_shard[shard]) >= BATCH:
                flush(shard)
        for shard in list(per_shard):
            flush(shard)
        for shard, header in headers.items():
            with rados.WriteOpCtx() as op:
                ioctx.set_omap(op, (HEADER_KEY,), (header.encode(),))
                ioctx.operate_write_op(op, index.info.index_object(shard))


def timed(rounds: int, call) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(rounds):
        start = time.perf_counter()
        page = call()
        times.append(time.perf_counter() - start)
        size = len(page.entries) + len(page.prefixes)
    return statistics.median(times), size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--shards", type=int, default=11)
    parser.add_argument("--page", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", default=".")
    args = parser.parse_args()
    where = Path(tempfile.mkdtemp(prefix="bucket-list-bench-", dir=args.dir))
    try:
        create_cluster(where / "c", 3, **{"osd pool default pg num": "16"})
        with librgw.connect(str(where / "c" / "cluster.conf")) as rgw:
            rgw.users.create("bench", "Bench")
            index = rgw.indexes.open(rgw.buckets.create("bench", "bench", num_shards=args.shards))
            start = time.perf_counter()
            fill(rgw, index, args.keys)
            print(f"filled {args.keys} keys over {args.shards} shards in {time.perf_counter() - start:.1f} s")
            marker = key_of(random.randrange(args.keys))
            cases = {
                "first page": lambda: index.list(max_keys=args.page),
                "page after a random marker": lambda: index.list(marker=marker, max_keys=args.page),
                "page with a prefix": lambda: index.list(prefix="dir042/", max_keys=args.page),
                "page with delimiter '/'": lambda: index.list(delimiter="/", max_keys=args.page),
            }
            print(f"{'listing':32} {'keys':>6} {'median s':>9}")
            for name, call in cases.items():
                seconds, size = timed(args.rounds, call)
                print(f"{name:32} {size:>6} {seconds:>9.3f}")
            index.close()
    finally:
        shutil.rmtree(where, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
