"""The upmap balancer: PG copies within one of target, failure domains kept, and its mon commands."""

import json
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from librgw import rados
from librgw.storage.balancer import calc_pg_upmaps, upmap_changes
from librgw.storage.cluster import create_cluster
from librgw.storage.config import DEFAULT_PG_NUM
from librgw.storage.osdmap import OSDInfo, OSDMap, PoolInfo, pgid
from librgw.storage.placement import crush_set, domain_of, straw2_set
from tests.conftest import mon

OSDS = 12
HOSTS = 4


def _cluster_map(failure_domain: str = "osd") -> OSDMap:
    """12 OSDs of equal weight (on 4 hosts), a size-3 replicated pool and a k=2 m=2 EC pool."""
    osds = {i: OSDInfo(id=i, host=f"host{i % HOSTS}") for i in range(OSDS)}
    osdmap = OSDMap(fsid="f", osds=osds)
    common = dict(pg_num=DEFAULT_PG_NUM, failure_domain=failure_domain)
    osdmap.pools[1] = PoolInfo(id=1, name="rep", type="replicated", size=3, min_size=2, **common)
    osdmap.pools[2] = PoolInfo(id=2, name="ec", type="erasure", size=4, min_size=2, **common)
    return osdmap


def _copies(osdmap: OSDMap, pool_ids=None) -> Counter:
    counts: Counter = Counter()
    for pool in osdmap.pools.values():
        if pool_ids is None or pool.id in pool_ids:
            for pg in range(pool.pg_num):
                counts.update(o for o in crush_set(osdmap, pool, pg) if o is not None)
    return counts


def _deviations(osdmap: OSDMap, pool_ids=None) -> dict[int, float]:
    """Per OSD that is in: PG copies (upmaps applied) minus total copies x its share of the weight."""
    counts = _copies(osdmap, pool_ids)
    weights = {o.id: o.weight for o in osdmap.osds.values() if o.in_ and o.weight > 0}
    total = sum(counts.values())
    return {i: counts[i] - total * w / sum(weights.values()) for i, w in weights.items()}


def _max_deviation(osdmap: OSDMap, pool_ids=None) -> float:
    return max(abs(d) for d in _deviations(osdmap, pool_ids).values())


def _assert_failure_domains_apart(osdmap: OSDMap) -> None:
    for pool in osdmap.pools.values():
        for pg in range(pool.pg_num):
            osds = [o for o in crush_set(osdmap, pool, pg) if o is not None]
            assert len(osds) == pool.size
            assert len({domain_of(osdmap, pool.failure_domain, o) for o in osds}) == pool.size, (pool.id, pg)


def _balance(osdmap: OSDMap) -> int:
    items = calc_pg_upmaps(osdmap)
    changed = upmap_changes(osdmap.pg_upmap_items, items)
    osdmap.pg_upmap_items = items
    return changed


def _moved_copies(before: OSDMap, after: OSDMap) -> int:
    return sum(
        sum(a != b for a, b in zip(crush_set(before, pool, pg), crush_set(after, pool, pg)))
        for pool in before.pools.values()
        for pg in range(pool.pg_num)
    )


# -- the balancer over a map -------------------------------------------------------------


@pytest.mark.parametrize("failure_domain", ["osd", "host"])
def test_balanced_pg_copies_are_within_one_of_target_in_total_and_per_pool(failure_domain):
    osdmap = _cluster_map(failure_domain)
    assert _max_deviation(osdmap) > 3  # what straw2 alone gives
    assert _balance(osdmap) > 0
    assert _max_deviation(osdmap) <= 1
    assert _max_deviation(osdmap, {1}) <= 1 and _max_deviation(osdmap, {2}) <= 1
    _assert_failure_domains_apart(osdmap)


def test_balancer_is_deterministic_and_a_second_run_changes_nothing():
    first, second = _cluster_map("host"), _cluster_map("host")
    _balance(first)
    _balance(second)
    assert first.pg_upmap_items == second.pg_upmap_items
    assert _balance(first) == 0


def test_reweighting_an_osd_to_half_halves_its_share():
    osdmap = _cluster_map()
    osdmap.osds[0].weight = 0.5
    _balance(osdmap)
    counts = _copies(osdmap)
    others = sum(counts[i] for i in range(1, OSDS)) / (OSDS - 1)
    assert 0.45 <= counts[0] / others <= 0.55
    assert _max_deviation(osdmap) <= 1


@pytest.mark.parametrize("failure_domain", ["osd", "host"])
def test_out_osd_gets_no_pg_even_from_an_upmap_and_the_rest_rebalance(failure_domain):
    osdmap = _cluster_map(failure_domain)
    _balance(osdmap)
    victim = Counter(to for pairs in osdmap.pg_upmap_items.values() for _, to in pairs).most_common(1)[0][0]
    osdmap.osds[victim].in_ = False
    assert _copies(osdmap)[victim] == 0  # the upmaps to it are ignored at once
    _balance(osdmap)
    assert all(to != victim for pairs in osdmap.pg_upmap_items.values() for _, to in pairs)
    assert _copies(osdmap)[victim] == 0
    assert _max_deviation(osdmap) <= 1
    _assert_failure_domains_apart(osdmap)


def _with_one_more_osd(osdmap: OSDMap) -> OSDMap:
    grown = OSDMap.from_json(osdmap.to_json())
    grown.osds[OSDS] = OSDInfo(id=OSDS, host="host0")
    return grown


def test_adding_an_osd_moves_little_more_than_straw2_alone():
    share = sum(_copies(_cluster_map()).values()) / (OSDS + 1)
    straw2_moves = _moved_copies(_cluster_map(), _with_one_more_osd(_cluster_map()))
    before = _cluster_map()
    _balance(before)
    after = _with_one_more_osd(before)
    _balance(after)
    assert _moved_copies(before, after) <= straw2_moves + share / 4
    assert _max_deviation(after) <= 1


def test_balancing_one_pool_leaves_the_upmaps_of_others_alone():
    osdmap = _cluster_map()
    del osdmap.pools[2]
    osdmap.pg_upmap_items = calc_pg_upmaps(osdmap, [1])
    rep_items = dict(osdmap.pg_upmap_items)
    osdmap.pools[2] = _cluster_map().pools[2]
    osdmap.pg_upmap_items = calc_pg_upmaps(osdmap, [2])
    assert {k: v for k, v in osdmap.pg_upmap_items.items() if k.startswith("1.")} == rep_items
    assert _max_deviation(osdmap) <= 1


def test_stale_upmap_items_are_dropped():
    osdmap = _cluster_map("host")
    chosen = straw2_set(osdmap, osdmap.pools[1], 0)
    same_host = next(o for o in range(OSDS) if o != chosen[1] and osdmap.osds[o].host == osdmap.osds[chosen[0]].host)
    osdmap.osds[11].in_ = False
    osdmap.pg_upmap_items = {
        "9.0": [[0, 1]],  # no such pool
        pgid(1, 0): [[chosen[1], same_host]],  # two copies on one host
        pgid(1, 1): [[straw2_set(osdmap, osdmap.pools[1], 1)[0], 11]],  # to an out OSD
    }
    items = calc_pg_upmaps(osdmap)
    assert "9.0" not in items
    assert [chosen[1], same_host] not in items.get(pgid(1, 0), [])
    assert all(to != 11 for pairs in items.values() for _, to in pairs)


def test_old_map_without_upmap_items_loads_empty():
    doc = json.loads(_cluster_map().to_json())
    del doc["pg_upmap_items"]
    assert OSDMap.from_json(json.dumps(doc).encode()).pg_upmap_items == {}


# -- through the cluster and its monitor commands ------------------------------------------


def _osd_df_pgs(client: rados.Rados) -> dict[int, int]:
    ret, out, outs = mon(client, "osd df")
    assert ret == 0, outs
    return {n["id"]: n["pgs"] for n in json.loads(out)["nodes"]}


def _acting(client: rados.Rados, pool: str, obj: str) -> tuple[str, list[int]]:
    ret, out, outs = mon(client, "osd map", pool=pool, object=obj)
    assert ret == 0, outs
    info = json.loads(out)
    return info["pgid"], info["acting"]


def test_pool_creation_and_osd_out_keep_pgs_balanced(client):
    client.create_pool("p")  # 16 PGs x 3 copies on 6 OSDs: 8 each
    assert all(abs(n - 8) <= 1 for n in _osd_df_pgs(client).values())
    assert mon(client, "osd out", ids=[2])[0] == 0
    pgs = _osd_df_pgs(client)
    assert pgs[2] == 0
    assert all(abs(n - 48 / 5) <= 1 for i, n in pgs.items() if i != 2)


def test_pg_upmap_items_moves_a_copy_and_rm_puts_it_back(client, rep):
    rep.write_full("obj", b"data")
    pg, acting = _acting(client, "rep", "obj")
    spare = min(set(range(6)) - set(acting))
    ret, _, outs = mon(client, "osd pg-upmap-items", pgid=pg, id=[acting[1], f"osd.{spare}"])
    assert ret == 0, outs
    assert _acting(client, "rep", "obj")[1] == [acting[0], spare, acting[2]]
    dump = json.loads(mon(client, "osd dump")[1])
    assert {"pgid": pg, "mappings": [{"from": acting[1], "to": spare}]} in dump["pg_upmap_items"]
    assert mon(client, "osd rm-pg-upmap-items", pgid=pg)[0] == 0
    assert _acting(client, "rep", "obj")[1] == acting
    assert rep.read("obj") == b"data"


def test_pg_upmap_items_refuses_bad_pgids_and_osds(client, rep):
    assert mon(client, "osd pg-upmap-items", pgid="1.zz", id=[0, 1])[0] == -22
    assert mon(client, "osd pg-upmap-items", pgid="1.ff", id=[0, 1])[0] == -2  # pg_num is 16
    assert mon(client, "osd pg-upmap-items", pgid="1.0", id=[0, 99])[0] == -2
    assert mon(client, "osd pg-upmap-items", pgid="1.0", id=[0, 1, 2])[0] == -22


def test_pg_upmap_items_refuses_two_copies_on_one_host(tmp_path):
    create_cluster(tmp_path / "c", 2, **{"osd pool default pg num": "8", "osd crush chooseleaf type": "host"})
    with rados.Rados(conffile=str(tmp_path / "c" / "cluster.conf")) as client:
        for host in ("h1", "h1", "h2", "h2"):
            client.cluster.add_osd(host=host)
        client.create_pool("p")
        osdmap = client.cluster.osdmap
        acting = straw2_set(osdmap, osdmap.pools[1], 0)  # what the pairs apply to
        neighbour = next(
            o for o in osdmap.osds if o not in acting and osdmap.osds[o].host == osdmap.osds[acting[0]].host
        )
        ret, _, outs = mon(client, "osd pg-upmap-items", pgid="1.0", id=[acting[1], neighbour])
        assert ret == -22 and "one host" in outs
        assert mon(client, "osd pg-upmap-items", pgid="1.0", id=[acting[0], neighbour])[0] == 0


def test_deleting_a_pool_drops_its_upmap_items(client, cluster_dir):
    client.create_pool("p")
    acting = _acting(client, "p", "o")[1]
    spare = min(set(range(6)) - set(acting))
    assert mon(client, "osd pg-upmap-items", pgid="1.3", id=[acting[0], spare])[0] == 0
    client.delete_pool("p")
    assert json.loads((cluster_dir / "osdmap.json").read_text())["pg_upmap_items"] == {}


def test_balancer_optimize_rebuilds_removed_upmaps_the_same_way(client):
    client.create_pool("p")
    items = client.cluster.osdmap.pg_upmap_items
    assert items
    for pg_id in items:
        client.cluster.rm_pg_upmap_items(pg_id)
    ret, out, outs = mon(client, "balancer optimize")
    assert ret == 0, outs
    result = json.loads(out)
    assert result["changed"] == len(items) and result["max_deviation"] <= 1
    assert client.cluster.osdmap.pg_upmap_items == items
    assert json.loads(mon(client, "balancer optimize", pools=["p"])[1])["changed"] == 0
    assert mon(client, "balancer optimize", pools=["nope"])[0] == -2


# -- acceptance ------------------------------------------------------------------------------


@pytest.mark.slow
def test_ten_thousand_objects_on_twelve_osds_use_each_within_ten_percent_of_the_mean(tmp_path):
    """Acceptance: equal weights, 12 OSDs, 10,000 x 4 KiB objects: every OSD's usage within +-10% of the mean."""
    create_cluster(tmp_path / "c", OSDS)
    with rados.Rados(conffile=str(tmp_path / "c" / "cluster.conf")) as client:
        client.create_pool("data")
        with client.open_ioctx("data") as ioctx, ThreadPoolExecutor(32) as pool:
            list(pool.map(lambda i: ioctx.write_full(f"object-{i}", os.urandom(4096)), range(10_000)))
        ret, out, outs = mon(client, "osd df")
        assert ret == 0, outs
    nodes = json.loads(out)["nodes"]
    used = [n["kb_used"] for n in nodes]
    mean = sum(used) / len(used)
    assert all(abs(u - mean) <= 0.1 * mean for u in used), [round(u / mean, 3) for u in used]
    assert all(abs(n["pgs"] - DEFAULT_PG_NUM * 3 / OSDS) <= 1 for n in nodes)
