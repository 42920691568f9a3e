"""Users, keys, subusers and quotas in ``default.rgw.meta``, checked through librgw.rados too."""

import json
import threading

import pytest

import librgw
from librgw import rados
from librgw.errors import (
    EmailExists,
    InvalidAccessKeyId,
    InvalidArgument,
    KeyExists,
    NoSuchUser,
    SubuserExists,
    UserAlreadyExists,
)
from librgw.zone import DATA_POOL, INDEX_POOL, LOG_POOL, META_POOL, ROOT_POOL
from tests.core.conftest import small_ec_profile


def meta_objects(client: rados.Rados, namespace: str) -> set[str]:
    with client.open_ioctx(META_POOL) as ioctx:
        ioctx.set_namespace(namespace)
        return {o.key for o in ioctx.list_objects()}


def test_connect_makes_the_rgw_pools_and_one_zone_once(conf, client):
    with librgw.connect(conf) as first:
        zone = first.zone.params
    with librgw.connect(conf) as second:
        assert second.zone.params == zone
    for pool in (ROOT_POOL, META_POOL, INDEX_POOL, DATA_POOL, LOG_POOL):
        assert client.pool_exists(pool)
    with client.open_ioctx(ROOT_POOL) as root:
        assert json.loads(root.read("zone_names.default"))["obj_id"] == zone.id
        assert sorted(o.key for o in root.list_objects()) == ["zone_info." + zone.id, "zone_names.default"]


def test_connect_can_make_an_erasure_coded_data_pool(conf, client):
    from tests.conftest import mon

    with librgw.connect(conf, data_pool_profile=small_ec_profile(client)):
        pass
    ret, out, outs = mon(client, "osd pool get", pool=DATA_POOL, var="erasure_code_profile", format="json")
    assert ret == 0 and json.loads(out)["erasure_code_profile"] == "k2m1", outs


def test_a_ceph_spec_naming_no_conf_file_fails_clearly(tmp_path):
    with pytest.raises(rados.ObjectNotFound, match=f"{tmp_path}/nowhere.conf"):
        librgw.connect(f"ceph:{tmp_path}/nowhere.conf")


def test_a_user_and_its_key_live_where_rgw_keeps_them(rgw, client):
    user = rgw.users.create("johndoe", "John Doe", email="john@example.com")
    (key,) = user.keys
    assert len(key["access_key"]) == 20 and len(key["secret_key"]) == 40
    assert meta_objects(client, "users.uid") == {"johndoe"}
    assert meta_objects(client, "users.keys") == {key["access_key"]}
    assert meta_objects(client, "users.email") == {"john@example.com"}
    found = rgw.users.lookup_key(key["access_key"])
    assert (found.user_id, found.secret_key) == ("johndoe", key["secret_key"])
    assert rgw.users.get_by_access_key(key["access_key"]).display_name == "John Doe"
    assert rgw.users.get_by_email("john@example.com").user_id == "johndoe"
    assert rgw.users.list() == ["johndoe"]


def test_duplicates_are_refused(rgw):
    rgw.users.create("a", "A", email="a@x.org", access_key="AKIAEXAMPLE000000001", secret_key="s" * 40)
    with pytest.raises(UserAlreadyExists):
        rgw.users.create("a", "A again")
    with pytest.raises(KeyExists):
        rgw.users.create("b", "B", access_key="AKIAEXAMPLE000000001")
    assert not rgw.users.exists("b")  # a failed create leaves nothing behind
    with pytest.raises(EmailExists):
        rgw.users.create("c", "C", email="a@x.org")
    assert rgw.users.list() == ["a"]


def test_bad_user_ids_and_missing_users(rgw):
    for uid in ("", "has:colon", "x" * 300, "with space"):
        with pytest.raises(InvalidArgument):
            rgw.users.create(uid, "Name")
    with pytest.raises(NoSuchUser):
        rgw.users.get("nobody")
    with pytest.raises(NoSuchUser):
        rgw.users.modify("nobody", display_name="x")
    with pytest.raises(InvalidAccessKeyId):
        rgw.users.lookup_key("NOSUCHKEY")


def test_modify_suspend_and_email_change_move_the_index(rgw, client):
    rgw.users.create("u", "U", email="old@x.org")
    user = rgw.users.modify("u", display_name="New Name", email="new@x.org", max_buckets=5)
    assert (user.display_name, user.email, user.max_buckets) == ("New Name", "new@x.org", 5)
    assert meta_objects(client, "users.email") == {"new@x.org"}
    assert rgw.users.suspend("u").suspended == 1
    assert rgw.users.get("u").suspended == 1
    assert rgw.users.enable("u").suspended == 0


def test_keys_can_be_added_and_removed(rgw, client):
    user = rgw.users.create("u", "U", generate_key=False)
    assert user.keys == [] and meta_objects(client, "users.keys") == set()
    user = rgw.users.create_key("u", access_key="MYACCESSKEY", secret_key="mysecret")
    user = rgw.users.create_key("u")
    assert len(user.keys) == 2
    user = rgw.users.remove_key("u", "MYACCESSKEY")
    assert "MYACCESSKEY" not in [k["access_key"] for k in user.keys] and len(user.keys) == 1
    with pytest.raises(InvalidAccessKeyId):
        rgw.users.lookup_key("MYACCESSKEY")
    with pytest.raises(InvalidAccessKeyId):
        rgw.users.remove_key("u", "MYACCESSKEY")


def test_swift_subuser_gets_a_key_in_users_swift(rgw, client):
    rgw.users.create("u", "U")
    user = rgw.users.create_subuser("u", "swift", access="full")
    assert user.subusers == [{"id": "u:swift", "permissions": "full-control"}]
    (swift_key,) = user.swift_keys
    owner, secret = rgw.users.lookup_swift("u:swift")
    assert owner.user_id == "u" and secret == swift_key["secret_key"]
    assert meta_objects(client, "users.swift") == {"u:swift"}
    with pytest.raises(SubuserExists):
        rgw.users.create_subuser("u", "swift")
    rgw.users.create_key("u", key_type="swift", subuser="swift", secret_key="newsecret")
    assert rgw.users.lookup_swift("u:swift")[1] == "newsecret"


def test_quotas_are_kept_per_scope(rgw):
    rgw.users.create("u", "U")
    user = rgw.users.set_quota("u", "user", max_objects=100, max_size=10 * 1024 * 1024, enabled=True)
    assert (user.user_quota.enabled, user.user_quota.max_objects, user.user_quota.max_size_kb) == (True, 100, 10240)
    user = rgw.users.set_quota("u", "bucket", max_objects=-5)
    assert user.bucket_quota.max_objects == -1 and not user.bucket_quota.enabled
    assert rgw.users.get("u").user_quota.max_objects == 100
    with pytest.raises(InvalidArgument):
        rgw.users.set_quota("u", "galaxy", max_objects=1)


def test_remove_takes_every_index_entry_with_it(rgw, client):
    rgw.users.create("u", "U", email="u@x.org")
    rgw.users.create_subuser("u", "swift")
    rgw.users.remove("u")
    for namespace in ("users.uid", "users.keys", "users.swift", "users.email"):
        assert meta_objects(client, namespace) == set()
    with pytest.raises(NoSuchUser):
        rgw.users.remove("u")


def test_concurrent_changes_to_one_user_lose_none(rgw):
    rgw.users.create("u", "U", generate_key=False)
    errors = []

    def add_keys(n: int) -> None:
        try:
            for i in range(5):
                rgw.users.create_key("u", access_key=f"KEY{n}X{i}", secret_key="s")
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=add_keys, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(rgw.users.get("u").keys) == 20
