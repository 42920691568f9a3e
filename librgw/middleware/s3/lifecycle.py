"""Lifecycle: Put/Get/DeleteBucketLifecycleConfiguration over the native ``?lifecycle``
sub-resource (``swift/lifecycle.py``), and GetObject's and HeadObject's ``x-amz-expiration``.

The document is S3's (the older top-level ``Prefix`` is taken too)::

    <LifecycleConfiguration>
      <Rule>
        <ID>logs</ID>
        <Filter><And><Prefix>logs/</Prefix><Tag><Key>temp</Key><Value>yes</Value></Tag></And></Filter>
        <Status>Enabled</Status>
        <Expiration><Days>30</Days></Expiration>
        <NoncurrentVersionExpiration><NoncurrentDays>7</NoncurrentDays></NoncurrentVersionExpiration>
        <AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload>
      </Rule>
    </LifecycleConfiguration>

Translated here into the native JSON form (``librgw/lifecycle.py``) and back; a document of
the wrong shape is ``MalformedXML`` (no rules, a rule without a Status of ``Enabled`` or
``Disabled``, with both or neither of Filter and Prefix, a Filter with two conditions
outside ``And``, a number that is not one), and the core's checks give ``InvalidArgument``
(``Days`` not positive, a ``Date`` not at midnight UTC, an ID used twice) and
``InvalidRequest`` (a rule without an action, tags on ``AbortIncompleteMultipartUpload``).
Transitions are ``NotImplemented``: there is one storage class. The rules are applied by
``librgw admin lc process`` (the agent), not by the gateway.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from webob import Response

from ..swift.lifecycle import EXPIRATION_HEADER, LIFECYCLE
from .bucket_config import BucketConfiguration
from .errors import S3Error
from .xml_doc import add, document, parse, schema_int, serialize

SIZES = (("ObjectSizeGreaterThan", "object_size_greater_than"), ("ObjectSizeLessThan", "object_size_less_than"))
UNSERVED_ACTIONS = ("Transition", "NoncurrentVersionTransition")


def _malformed(message: str = "The XML you provided was not well-formed or did not validate") -> S3Error:
    return S3Error("MalformedXML", message)


def _one(parent: ET.Element, tag: str) -> ET.Element | None:
    found = parent.findall(tag)
    if len(found) > 1:
        raise _malformed(f"{parent.tag} has more than one {tag}")
    return found[0] if found else None


def _integer(parent: ET.Element, tag: str) -> int | None:
    element = _one(parent, tag)
    if element is None:
        return None
    value = schema_int(element.text or "")
    if value is None:
        raise _malformed(f"{tag} must be an integer")
    return value


def _tag(element: ET.Element) -> tuple[str, str]:
    key, value = _one(element, "Key"), _one(element, "Value")
    if key is None or value is None:
        raise _malformed("Each Tag needs a Key and a Value")
    return key.text or "", value.text or ""


def _filter(element: ET.Element) -> dict:
    conditions = list(element)
    if len(conditions) > 1:
        raise _malformed("A Filter has one condition; use And for more")
    if not conditions:
        return {}
    condition = conditions[0]
    if condition.tag == "And":
        doc: dict = {}
        prefix = _one(condition, "Prefix")
        if prefix is not None:
            doc["prefix"] = prefix.text or ""
        tags = [_tag(tag) for tag in condition.findall("Tag")]
        if len({key for key, _ in tags}) != len(tags):
            raise S3Error("InvalidRequest", "Duplicate Tag Keys are not allowed.")
        if tags:
            doc["tags"] = dict(tags)
        for tag, field in SIZES:
            if (size := _integer(condition, tag)) is not None:
                doc[field] = size
        return doc
    if condition.tag == "Prefix":
        return {"prefix": condition.text or ""}
    if condition.tag == "Tag":
        return {"tags": dict([_tag(condition)])}
    for tag, field in SIZES:
        if condition.tag == tag:
            return {field: _integer(element, tag)}
    raise _malformed(f"Unknown Filter condition {condition.tag[:32]}")


def _expiration(element: ET.Element) -> dict:
    doc: dict = {}
    days = _integer(element, "Days")
    if days is not None:
        doc["days"] = days
    date = _one(element, "Date")
    if date is not None:
        doc["date"] = (date.text or "").strip()
    marker = _one(element, "ExpiredObjectDeleteMarker")
    if marker is not None:
        text = (marker.text or "").strip().lower()
        if text not in ("true", "false"):
            raise _malformed("ExpiredObjectDeleteMarker is true or false")
        doc["expired_object_delete_marker"] = text == "true"
    if len(doc) != 1:
        raise _malformed("An Expiration has one of Days, Date or ExpiredObjectDeleteMarker")
    return doc


def _rule(element: ET.Element) -> dict:
    for action in UNSERVED_ACTIONS:
        if element.find(action) is not None:
            raise S3Error("NotImplemented", f"{action} is not supported: there is one storage class")
    doc: dict = {}
    rule_id = _one(element, "ID")
    if rule_id is not None:
        doc["id"] = rule_id.text or ""
    status = (element.findtext("Status") or "").strip()
    if status not in ("Enabled", "Disabled"):
        raise _malformed("A Rule's Status is Enabled or Disabled")
    doc["status"] = status
    prefix, rule_filter = _one(element, "Prefix"), _one(element, "Filter")
    if (prefix is None) == (rule_filter is None):
        raise _malformed("A Rule has a Filter or a Prefix, and not both")
    if prefix is not None:
        doc["prefix"] = prefix.text or ""
    else:
        doc["filter"] = _filter(rule_filter)
    expiration = _one(element, "Expiration")
    if expiration is not None:
        doc["expiration"] = _expiration(expiration)
    noncurrent = _one(element, "NoncurrentVersionExpiration")
    if noncurrent is not None:
        days = _integer(noncurrent, "NoncurrentDays")
        if days is None:
            raise _malformed("NoncurrentVersionExpiration needs NoncurrentDays")
        doc["noncurrent_version_expiration"] = {"noncurrent_days": days}
        newer = _integer(noncurrent, "NewerNoncurrentVersions")
        if newer is not None:
            doc["noncurrent_version_expiration"]["newer_noncurrent_versions"] = newer
    abort = _one(element, "AbortIncompleteMultipartUpload")
    if abort is not None:
        days = _integer(abort, "DaysAfterInitiation")
        if days is None:
            raise _malformed("AbortIncompleteMultipartUpload needs DaysAfterInitiation")
        doc["abort_incomplete_multipart_upload"] = {"days_after_initiation": days}
    return doc


def requested_configuration(body: bytes) -> dict:
    """The native JSON form of a ``LifecycleConfiguration`` document; ``MalformedXML`` for
    one of the wrong shape (the core checks the values)."""
    root = parse(body)
    rules = root.findall("Rule")
    if root.tag != "LifecycleConfiguration" or not rules:
        raise _malformed("A LifecycleConfiguration has at least one Rule")
    return {"rules": [_rule(rule) for rule in rules]}


def _add_filter(parent: ET.Element, doc: dict) -> None:
    element = add(parent, "Filter")
    tags = list(doc.get("tags", {}).items())
    sizes = [(tag, doc[field]) for tag, field in SIZES if field in doc]
    count = ("prefix" in doc) + len(tags) + len(sizes)
    target = add(element, "And") if count > 1 else element
    if "prefix" in doc:
        add(target, "Prefix", doc["prefix"])
    for key, value in tags:
        tag = add(target, "Tag")
        add(tag, "Key", key)
        add(tag, "Value", value)
    for tag, size in sizes:
        add(target, tag, size)


def configuration_document(doc: dict) -> bytes:
    root = document("LifecycleConfiguration")
    for rule in doc["rules"]:
        element = add(root, "Rule")
        add(element, "ID", rule["id"])
        if "prefix" in rule:
            add(element, "Prefix", rule["prefix"])
        else:
            _add_filter(element, rule.get("filter", {}))
        add(element, "Status", rule["status"])
        expiration = rule.get("expiration")
        if expiration:
            target = add(element, "Expiration")
            if "days" in expiration:
                add(target, "Days", expiration["days"])
            elif "date" in expiration:
                add(target, "Date", expiration["date"])
            else:
                add(target, "ExpiredObjectDeleteMarker", "true")
        noncurrent = rule.get("noncurrent_version_expiration")
        if noncurrent:
            target = add(element, "NoncurrentVersionExpiration")
            add(target, "NoncurrentDays", noncurrent["noncurrent_days"])
            if "newer_noncurrent_versions" in noncurrent:
                add(target, "NewerNoncurrentVersions", noncurrent["newer_noncurrent_versions"])
        abort = rule.get("abort_incomplete_multipart_upload")
        if abort:
            add(add(element, "AbortIncompleteMultipartUpload"), "DaysAfterInitiation", abort["days_after_initiation"])
    return serialize(root)


CONFIGURATION = BucketConfiguration(
    LIFECYCLE,
    requested_configuration,
    configuration_document,
    "NoSuchLifecycleConfiguration",
    "The lifecycle configuration does not exist",
)
handle = CONFIGURATION.handle


def expiration_header(answer: Response) -> list[tuple[str, str]]:
    """``x-amz-expiration`` of a GetObject's or HeadObject's answer, from the native one."""
    value = answer.headers.get(EXPIRATION_HEADER)
    return [("x-amz-expiration", value)] if value else []
