"""Placement: stable PGs, distinct OSDs per PG, little movement when an OSD joins, upmap items."""

from librgw.storage.osdmap import OSDInfo, OSDMap, PoolInfo, pgid
from librgw.storage.placement import crush_set, pg_of, stable_mod, straw2_set, up_set


def _map(n: int, hosts: int | None = None) -> OSDMap:
    osds = {i: OSDInfo(id=i, host=f"h{i % hosts}" if hosts else "localhost") for i in range(n)}
    return OSDMap(fsid="f", osds=osds)


def _pool(**kw) -> PoolInfo:
    args = dict(id=1, name="p", type="replicated", size=3, min_size=2, pg_num=64)
    args.update(kw)
    return PoolInfo(**args)


def test_pg_of_is_stable_and_namespace_sensitive():
    pool = _pool()
    assert pg_of(pool, "", "obj") == pg_of(pool, "", "obj")
    assert len({pg_of(pool, ns, "obj") for ns in ("", "a", "b", "c", "d", "e", "f", "g")}) > 1


def test_stable_mod_keeps_most_pgs_when_pg_num_grows():
    same = sum(stable_mod(x, 12, 15) == stable_mod(x, 16, 15) for x in range(1000))
    assert same >= 700


def test_every_pg_gets_distinct_osds():
    osdmap, pool = _map(6), _pool()
    for pg in range(pool.pg_num):
        osds = crush_set(osdmap, pool, pg)
        assert None not in osds and len(set(osds)) == 3


def test_host_failure_domain_puts_copies_on_distinct_hosts():
    osdmap, pool = _map(9, hosts=3), _pool(failure_domain="host")
    for pg in range(pool.pg_num):
        hosts = {osdmap.osds[o].host for o in crush_set(osdmap, pool, pg)}
        assert len(hosts) == 3


def test_down_osd_leaves_replicated_set_and_a_hole_in_ec_set():
    osdmap = _map(6)
    rep, ec = _pool(), _pool(id=2, type="erasure", size=6, min_size=4)
    victim = crush_set(osdmap, rep, 0)[0]
    osdmap.osds[victim].up = False
    assert victim not in up_set(osdmap, rep, 0) and len(up_set(osdmap, rep, 0)) == 2
    ec_set = up_set(osdmap, ec, 0)
    assert ec_set.count(None) == 1 and len(ec_set) == 6


def test_out_osd_is_replaced():
    osdmap, pool = _map(6), _pool()
    before = crush_set(osdmap, pool, 5)
    osdmap.osds[before[1]].in_ = False
    after = crush_set(osdmap, pool, 5)
    assert before[1] not in after and len(set(after)) == 3


def test_adding_a_seventh_osd_moves_about_its_share():
    """Acceptance: over 1,000 objects, OSDs leaving acting sets <= 1.5 x 1/7 of 3,000 placements."""
    pool = _pool(pg_num=128)
    six = _map(6)
    seven = _map(7)
    moved = 0
    for i in range(1000):
        pg = pg_of(pool, "", f"object-{i}")
        moved += len(set(crush_set(six, pool, pg)) - set(crush_set(seven, pool, pg)))
    assert 0 < moved <= 1.5 * 3000 / 7, moved


def test_weight_steers_share():
    osdmap, pool = _map(6), _pool(pg_num=256)
    osdmap.osds[0].weight = 3.0
    counts = {i: 0 for i in range(6)}
    for pg in range(pool.pg_num):
        for o in crush_set(osdmap, pool, pg):
            counts[o] += 1
    assert counts[0] > 1.5 * max(counts[i] for i in range(1, 6))


# -- pg_upmap_items ---------------------------------------------------------------------


def _upmapped(osdmap: OSDMap, pool: PoolInfo, pg: int, pairs: list[list[int]]) -> list[int | None]:
    osdmap.pg_upmap_items[pgid(pool.id, pg)] = pairs
    return crush_set(osdmap, pool, pg)


def test_upmap_pair_replaces_its_from_osd_in_place():
    osdmap, pool = _map(6), _pool()
    chosen = straw2_set(osdmap, pool, 3)
    spare = min(set(range(6)) - set(chosen))
    upmapped = _upmapped(osdmap, pool, 3, [[chosen[1], spare]])
    assert upmapped == [chosen[0], spare, chosen[2]]
    assert up_set(osdmap, pool, 3) == upmapped


def test_upmap_to_an_out_osd_is_ignored():
    osdmap, pool = _map(6), _pool()
    chosen = straw2_set(osdmap, pool, 3)
    spare = min(set(range(6)) - set(chosen))
    osdmap.osds[spare].in_ = False
    assert _upmapped(osdmap, pool, 3, [[chosen[0], spare]]) == chosen


def test_upmap_to_an_osd_already_in_the_set_is_ignored():
    osdmap, pool = _map(6), _pool()
    chosen = straw2_set(osdmap, pool, 3)
    assert _upmapped(osdmap, pool, 3, [[chosen[0], chosen[2]]]) == chosen


def test_upmap_to_a_missing_or_weightless_osd_or_from_an_osd_not_in_the_set_is_ignored():
    osdmap, pool = _map(6), _pool()
    chosen = straw2_set(osdmap, pool, 3)
    spare, other = sorted(set(range(6)) - set(chosen))[:2]
    osdmap.osds[spare].weight = 0.0
    assert _upmapped(osdmap, pool, 3, [[chosen[0], 99], [chosen[1], spare], [other, chosen[2]]]) == chosen


def test_upmap_keeps_ec_shard_positions():
    osdmap, pool = _map(8), _pool(type="erasure", size=4, min_size=2)
    chosen = straw2_set(osdmap, pool, 5)
    spare = min(set(range(8)) - set(chosen))
    assert _upmapped(osdmap, pool, 5, [[chosen[2], spare]]) == [*chosen[:2], spare, chosen[3]]
