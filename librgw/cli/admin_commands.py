"""``librgw admin``: the gateway's users, keys, quotas and buckets, after ``radosgw-admin``.

Examples::

    librgw admin user create --uid johndoe --display-name "John Doe" [--email j@x.org]
    librgw admin user info --uid johndoe | user list | user rm --uid johndoe
    librgw admin user modify --uid johndoe [--display-name N] [--email E] [--max-buckets N] [--admin 0|1]
    librgw admin user suspend --uid johndoe | user enable --uid johndoe
    librgw admin key create --uid johndoe [--key-type s3|swift] [--subuser S] [--access-key K] [--secret-key S]
    librgw admin key rm --uid johndoe --access-key K
    librgw admin subuser create --uid johndoe --subuser swift [--access full] [--secret-key S]
    librgw admin quota set --uid johndoe --quota-scope user|bucket [--max-objects N] [--max-size BYTES]
    librgw admin quota enable|disable --uid johndoe --quota-scope user|bucket
    librgw admin bucket list [--uid johndoe] [--tenant T] | bucket stats --bucket B | bucket rm --bucket B
    librgw admin bucket check --bucket B [--fix]
    librgw admin bucket reshard --bucket B --num-shards N
    librgw admin object stat --bucket B --object K
    librgw admin gc list [--include-all] | gc process [--include-all]
    librgw admin lc list | lc get --bucket B | lc process [--bucket B]
    librgw admin metadata list [user|bucket|bucket.instance] | metadata get bucket:NAME
    librgw admin role create --role-name R [--path /] --assume-role-policy-doc JSON [--max-session-duration S]
    librgw admin role get --role-name R | role list | role delete --role-name R
    librgw admin role-policy put --role-name R --policy-name P --policy-doc JSON
    librgw admin role-policy get|delete --role-name R --policy-name P | role-policy list --role-name R

Like radosgw-admin, every command prints JSON: the user as ``user info`` shows it, or the
list of user ids. The first command on a cluster creates the RGW pools and zone.

Tenants (``librgw/tenants.py``): a user of tenant T is ``--tenant T --uid U``, or
``--uid 'T$U'``; a bucket of tenant T is ``--tenant T --bucket B``, or ``--bucket T/B``, as
radosgw-admin takes them. ``bucket list --tenant T`` lists the tenant's buckets.

``lc process`` is the lifecycle agent (``librgw/lifecycle.py``): it applies the rules of
every bucket that has some (``lc list``), deleting expired objects and versions and
aborting stale multipart uploads, and prints what it did per bucket. Run it from cron (as
often as you like: it is idempotent; two at once share the work).

Roles (``librgw/roles.py``) are what STS ``AssumeRole`` hands out: ``--assume-role-policy-doc``
says which users may assume one (``{"Statement": [{"Effect": "Allow", "Principal": {"AWS":
["arn:aws:iam:::user/alice"]}, "Action": "sts:AssumeRole"}]}``), and its ``role-policy``
documents, in bucket policies' grammar without ``Principal``, what its sessions may do.
"""

from __future__ import annotations

import argparse
import json

from librgw import rados
from librgw.bucket_index import usage
from librgw.connection import attach
from librgw.errors import MalformedPolicyDocument
from librgw.policy import parse_identity_policy
from librgw.tenants import BUCKET_SEP, bucket_entry, user_id

from .arguments import help_text, subcommand_adder
from .errors import CommandError

METADATA_SECTIONS = ("user", "bucket", "bucket.instance")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    admin = commands.add_parser(
        "admin",
        help="users, keys, subusers and quotas of the gateway (as radosgw-admin)",
        description=help_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    groups = admin.add_subparsers(dest="admin_group", metavar="GROUP", required=True)

    def command(group: argparse._SubParsersAction, name: str, handler, help: str) -> argparse.ArgumentParser:
        return subcommand_adder(group, common)(name, _in_tenant(handler), help)

    user = groups.add_parser("user", help="create, show, change and remove users")
    users = user.add_subparsers(dest="user_command", metavar="COMMAND", required=True)
    create = command(users, "create", _user_create, "create a user (with an S3 key unless --no-key)")
    _uid(create)
    create.add_argument("--display-name", required=True)
    create.add_argument("--email", default="")
    create.add_argument("--access-key")
    create.add_argument("--secret-key")
    create.add_argument("--no-key", action="store_true", help="make no S3 key")
    create.add_argument("--max-buckets", type=int, default=1000)
    _uid(command(users, "info", _user_info, "show a user"))
    command(users, "list", _user_list, "list user ids")
    _uid(command(users, "rm", _user_rm, "remove a user who owns no buckets"))
    _uid(command(users, "suspend", _user_suspend, "suspend a user: its requests are refused"))
    _uid(command(users, "enable", _user_enable, "lift a suspension"))
    modify = command(users, "modify", _user_modify, "change a user's name, e-mail or bucket limit")
    _uid(modify)
    modify.add_argument("--display-name")
    modify.add_argument("--email")
    modify.add_argument("--max-buckets", type=int)
    modify.add_argument("--admin", type=int, choices=(0, 1), help="1: the user is a reseller admin, over every account")

    key = groups.add_parser("key", help="add and remove access keys")
    keys = key.add_subparsers(dest="key_command", metavar="COMMAND", required=True)
    key_create = command(keys, "create", _key_create, "add an S3 key, or set a subuser's Swift key")
    _uid(key_create)
    key_create.add_argument("--key-type", choices=("s3", "swift"), default="s3")
    key_create.add_argument("--subuser", default="")
    key_create.add_argument("--access-key")
    key_create.add_argument("--secret-key")
    key_rm = command(keys, "rm", _key_rm, "remove an S3 key")
    _uid(key_rm)
    key_rm.add_argument("--access-key", required=True)

    subuser = groups.add_parser("subuser", help="Swift subusers")
    subusers = subuser.add_subparsers(dest="subuser_command", metavar="COMMAND", required=True)
    sub_create = command(subusers, "create", _subuser_create, "create a Swift subuser uid:NAME with a key")
    _uid(sub_create)
    sub_create.add_argument("--subuser", required=True)
    sub_create.add_argument("--access", default="full-control", help="read, write, readwrite or full")
    sub_create.add_argument("--secret-key")

    bucket = groups.add_parser("bucket", help="list, show and remove buckets")
    buckets = bucket.add_subparsers(dest="bucket_command", metavar="COMMAND", required=True)
    bucket_list = command(buckets, "list", _bucket_list, "list every bucket, or a user's")
    bucket_list.add_argument("--uid", help="only this user's buckets")
    _tenant(bucket_list)
    _bucket(command(buckets, "stats", _bucket_stats, "show a bucket's record and usage"))
    _bucket(command(buckets, "rm", _bucket_rm, "remove an empty bucket"))
    check = command(buckets, "check", _bucket_check, "resolve pending index entries against the heads, check stats")
    _bucket(check)
    check.add_argument("--fix", action="store_true", help="rewrite the entries and stats to match")
    reshard = command(buckets, "reshard", _bucket_reshard, "move the bucket's index to N shards, online")
    _bucket(reshard)
    reshard.add_argument("--num-shards", type=int, required=True)

    gc = groups.add_parser("gc", help="tail objects waiting for garbage collection")
    gcs = gc.add_subparsers(dest="gc_command", metavar="COMMAND", required=True)
    for name, handler, help in (
        ("list", _gc_list, "list what is queued (due now, or everything with --include-all)"),
        ("process", _gc_process, "delete what is due (everything with --include-all)"),
    ):
        parser = command(gcs, name, handler, help)
        parser.add_argument("--include-all", action="store_true", help="ignore the grace period")

    lc = groups.add_parser("lc", help="lifecycle: the buckets with rules, and the agent applying them")
    lcs = lc.add_subparsers(dest="lc_command", metavar="COMMAND", required=True)
    command(lcs, "list", _lc_list, "list the buckets with lifecycle rules and their last run")
    _bucket(command(lcs, "get", _lc_get, "show a bucket's lifecycle configuration"))
    lc_process = command(lcs, "process", _lc_process, "apply the rules now: expire objects, abort stale uploads")
    lc_process.add_argument("--bucket", help="only this bucket")
    _tenant(lc_process)

    obj = groups.add_parser("object", help="one object's head record")
    objs = obj.add_subparsers(dest="object_command", metavar="COMMAND", required=True)
    stat = command(objs, "stat", _object_stat, "show an object's size, etag, metadata and manifest")
    _bucket(stat)
    stat.add_argument("--object", required=True, help="the object key")

    metadata = groups.add_parser("metadata", help="the metadata records: users, buckets, bucket instances")
    metas = metadata.add_subparsers(dest="metadata_command", metavar="COMMAND", required=True)
    meta_list = command(metas, "list", _metadata_list, "list the sections, or the keys of one")
    meta_list.add_argument("section", nargs="?", choices=METADATA_SECTIONS, metavar="SECTION")
    meta_get = command(metas, "get", _metadata_get, "show one record: user:UID, bucket:NAME, bucket.instance:NAME:ID")
    meta_get.add_argument("key", metavar="SECTION:KEY")

    role = groups.add_parser("role", help="roles that STS AssumeRole hands out")
    roles = role.add_subparsers(dest="role_command", metavar="COMMAND", required=True)
    role_create = command(roles, "create", _role_create, "create a role with its trust policy")
    _role_name(role_create)
    role_create.add_argument("--path", default="/")
    role_create.add_argument("--assume-role-policy-doc", required=True, help="the trust policy (JSON)")
    role_create.add_argument("--max-session-duration", type=int, default=3600, help="seconds, 3600 to 43200")
    _role_name(command(roles, "get", _role_get, "show a role"))
    command(roles, "list", _role_list, "list the roles")
    _role_name(command(roles, "delete", _role_delete, "delete a role that has no policies left"))

    role_policy = groups.add_parser("role-policy", help="the permission policies of a role")
    role_policies = role_policy.add_subparsers(dest="role_policy_command", metavar="COMMAND", required=True)
    for name, handler, help in (
        ("put", _role_policy_put, "set a permission policy of a role"),
        ("get", _role_policy_get, "show a permission policy of a role"),
        ("list", _role_policy_list, "list the permission policies of a role"),
        ("delete", _role_policy_delete, "remove a permission policy from a role"),
    ):
        parser = command(role_policies, name, handler, help)
        _role_name(parser)
        if name != "list":
            parser.add_argument("--policy-name", required=True)
        if name == "put":
            parser.add_argument("--policy-doc", required=True, help="the policy (JSON)")

    quota = groups.add_parser("quota", help="per-user and per-bucket quotas")
    quotas = quota.add_subparsers(dest="quota_command", metavar="COMMAND", required=True)
    for name, handler, help in (
        ("set", _quota_set, "set the limits of a quota"),
        ("enable", _quota_enable, "enforce a quota"),
        ("disable", _quota_disable, "stop enforcing a quota"),
    ):
        parser = command(quotas, name, handler, help)
        _uid(parser)
        parser.add_argument("--quota-scope", choices=("user", "bucket"), required=True)
        if name == "set":
            parser.add_argument("--max-objects", type=int, help="-1 for no limit")
            parser.add_argument("--max-size", type=int, help="bytes; -1 for no limit")


def _uid(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--uid", required=True, help="the user id (TENANT$UID for a tenant's)")
    _tenant(parser)


def _tenant(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tenant", default="", help="the tenant of --uid and --bucket")


def _in_tenant(handler):
    """``handler``, given ``--uid`` and ``--bucket`` as named in ``--tenant`` (a user id
    ``T$U``, a bucket's entry name ``T/B``)."""

    def run(args: argparse.Namespace, handle: rados.Rados) -> int:
        tenant = getattr(args, "tenant", "")
        if tenant and getattr(args, "uid", None):
            args.uid = user_id(tenant, args.uid)
        if tenant and getattr(args, "bucket", None) and BUCKET_SEP not in args.bucket:
            args.bucket = bucket_entry(tenant, args.bucket)
        return handler(args, handle)

    return run


def _role_name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role-name", required=True, help="the role's name")


def _bucket(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bucket", required=True, help="the bucket name (TENANT/BUCKET for a tenant's)")
    _tenant(parser)


def _show(value: object) -> int:
    print(json.dumps(value, indent=4))
    return 0


def _users(handle: rados.Rados):
    return attach(handle).users


def _bucket_list(args: argparse.Namespace, handle: rados.Rados) -> int:
    buckets = attach(handle).buckets
    if args.uid:
        return _show(buckets.list(args.uid))
    return _show(buckets.list_tenant(args.tenant) if args.tenant else buckets.list_all())


def _bucket_stats(args: argparse.Namespace, handle: rados.Rados) -> int:
    rgw = attach(handle)
    info = rgw.buckets.get(args.bucket)
    with rgw.indexes.open(info) as index:
        return _show({**info.to_json(), "usage": usage(*index.stats())})


def _bucket_check(args: argparse.Namespace, handle: rados.Rados) -> int:
    rgw = attach(handle)
    info = rgw.buckets.get(args.bucket)
    with rgw.indexes.open(info) as index:
        return _show(index.check(fix=args.fix))


def _bucket_reshard(args: argparse.Namespace, handle: rados.Rados) -> int:
    rgw = attach(handle)
    with rgw.indexes.open(rgw.buckets.get(args.bucket)) as index:
        return _show(index.reshard(args.num_shards).to_json())


def _bucket_rm(args: argparse.Namespace, handle: rados.Rados) -> int:
    attach(handle).buckets.delete(args.bucket)
    return 0


def _gc_list(args: argparse.Namespace, handle: rados.Rados) -> int:
    entries = attach(handle).objects.gc.list(include_all=args.include_all)
    listed = [{"tag": e.tag, "time": e.due, "objs": e.oids, **({"head": e.head} if e.head else {})} for e in entries]
    return _show(listed)  # an intent (gc.py) also names the head whose write it is for


def _gc_process(args: argparse.Namespace, handle: rados.Rados) -> int:
    removed = attach(handle).objects.gc.process(include_all=args.include_all)
    return _show({"removed_objects": removed})


def _lc_list(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show([entry.to_json() for entry in attach(handle).lifecycle.list()])


def _lc_get(args: argparse.Namespace, handle: rados.Rados) -> int:
    config = attach(handle).lifecycle.get(args.bucket)
    if config is None:
        raise CommandError(f"bucket {args.bucket!r} has no lifecycle configuration")
    return _show(config.to_json())


def _lc_process(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show(attach(handle).lifecycle.process(bucket=args.bucket))


def _object_stat(args: argparse.Namespace, handle: rados.Rados) -> int:
    rgw = attach(handle)
    info = rgw.objects.stat(rgw.buckets.get(args.bucket), args.object)
    return _show(
        {
            "name": info.key,
            "size": info.size,
            "etag": info.etag,
            "mtime": info.mtime,
            "content_type": info.content_type,
            "owner": info.owner,
            "tag": info.tag,
            "attrs": {f"user.rgw.x-amz-meta-{k}": v for k, v in info.metadata.items()},
            "tags": info.tags,
            "manifest": json.loads(info.manifest.encode()),
        }
    )


def _metadata_list(args: argparse.Namespace, handle: rados.Rados) -> int:
    rgw = attach(handle)
    listing = {
        None: lambda: list(METADATA_SECTIONS),
        "user": rgw.users.list,
        "bucket": rgw.buckets.list_all,
        "bucket.instance": rgw.buckets.list_instances,
    }
    return _show(listing[args.section]())


def _metadata_get(args: argparse.Namespace, handle: rados.Rados) -> int:
    section, _, key = args.key.partition(":")
    if section not in METADATA_SECTIONS or not key:
        raise CommandError(f"metadata key must be one of {', '.join(s + ':...' for s in METADATA_SECTIONS)}")
    rgw = attach(handle)
    if section == "user":
        data = rgw.users.get(key).to_json()
    elif section == "bucket":
        info = rgw.buckets.get(key)
        data = {
            "bucket": {
                "name": info.local_name,
                "tenant": info.tenant,
                "marker": info.marker,
                "bucket_id": info.bucket_id,
            },
            "owner": info.owner,
            "creation_time": info.creation_time,
            "linked": True,
        }
    else:
        data = rgw.buckets.get_instance(key).to_json()
    return _show({"key": args.key, "data": data})


def _user_create(args: argparse.Namespace, handle: rados.Rados) -> int:
    user = _users(handle).create(
        args.uid,
        args.display_name,
        email=args.email,
        access_key=args.access_key,
        secret_key=args.secret_key,
        generate_key=not args.no_key,
        max_buckets=args.max_buckets,
    )
    return _show(user.to_json())


def _user_info(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show(_users(handle).get(args.uid).to_json())


def _user_list(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show(_users(handle).list())


def _user_rm(args: argparse.Namespace, handle: rados.Rados) -> int:
    _users(handle).remove(args.uid)
    return 0


def _user_suspend(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show(_users(handle).suspend(args.uid).to_json())


def _user_enable(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show(_users(handle).enable(args.uid).to_json())


def _user_modify(args: argparse.Namespace, handle: rados.Rados) -> int:
    user = _users(handle).modify(
        args.uid,
        display_name=args.display_name,
        email=args.email,
        max_buckets=args.max_buckets,
        admin=None if args.admin is None else bool(args.admin),
    )
    return _show(user.to_json())


def _key_create(args: argparse.Namespace, handle: rados.Rados) -> int:
    user = _users(handle).create_key(
        args.uid, access_key=args.access_key, secret_key=args.secret_key, key_type=args.key_type, subuser=args.subuser
    )
    return _show(user.to_json())


def _key_rm(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show(_users(handle).remove_key(args.uid, args.access_key).to_json())


def _subuser_create(args: argparse.Namespace, handle: rados.Rados) -> int:
    user = _users(handle).create_subuser(args.uid, args.subuser, access=args.access, secret_key=args.secret_key)
    return _show(user.to_json())


def _quota_set(args: argparse.Namespace, handle: rados.Rados) -> int:
    user = _users(handle).set_quota(args.uid, args.quota_scope, max_objects=args.max_objects, max_size=args.max_size)
    return _show(user.to_json())


def _quota_enable(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show(_users(handle).set_quota(args.uid, args.quota_scope, enabled=True).to_json())


def _quota_disable(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show(_users(handle).set_quota(args.uid, args.quota_scope, enabled=False).to_json())


def _role_create(args: argparse.Namespace, handle: rados.Rados) -> int:
    role = attach(handle).roles.create(
        args.role_name, args.assume_role_policy_doc, args.path, args.max_session_duration
    )
    return _show(role.to_json())


def _role_get(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show(attach(handle).roles.get(args.role_name).to_json())


def _role_list(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show([role.to_json() for role in attach(handle).roles.list()])


def _role_delete(args: argparse.Namespace, handle: rados.Rados) -> int:
    attach(handle).roles.delete(args.role_name)
    return 0


def _role_policy_put(args: argparse.Namespace, handle: rados.Rados) -> int:
    try:
        parse_identity_policy(args.policy_doc)  # what the gateway will evaluate
    except ValueError as error:
        raise MalformedPolicyDocument(str(error)) from None
    attach(handle).roles.put_policy(args.role_name, args.policy_name, args.policy_doc)
    return 0


def _role_policy_get(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show({"Permission policy": attach(handle).roles.get_policy(args.role_name, args.policy_name)})


def _role_policy_list(args: argparse.Namespace, handle: rados.Rados) -> int:
    return _show(attach(handle).roles.list_policies(args.role_name))


def _role_policy_delete(args: argparse.Namespace, handle: rados.Rados) -> int:
    attach(handle).roles.delete_policy(args.role_name, args.policy_name)
    return 0
