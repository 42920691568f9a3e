"""S3's XML documents: built with ElementTree in S3's namespace, parsed with defusedxml.

Request bodies are parsed with DTDs and entities forbidden and a size cap, so a hostile
document is a ``MalformedXML`` error, never a crash or a memory blow-up. Their numbers are
``xsd:int`` (``schema_int``): one of 5,000 digits is not one, rather than a 500 from int()'s
limit of 4,300 digits.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from .errors import S3Error

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_BODY = 1024 * 1024  # no S3 request document this middleware reads is larger
INT_RE = re.compile(r"-?[0-9]+")
XSD_INT = range(-(2**31), 2**31)
XSD_INT_DIGITS = 10


def document(root: str, **attrs: str) -> ET.Element:
    return ET.Element(root, xmlns=S3_NS, **attrs)


def add(parent: ET.Element, tag: str, text: object | None = None) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = str(text)
    return child


def serialize(root: ET.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


def parse(body: bytes) -> ET.Element:
    """The root of an XML request body, namespaces stripped; ``MalformedXML`` if it is not XML."""
    if len(body) > MAX_BODY:
        raise S3Error("MalformedXML", f"The XML you provided is larger than {MAX_BODY} bytes")
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException, ValueError):
        raise S3Error("MalformedXML", "The XML you provided was not well-formed") from None
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return root


def schema_int(text: str) -> int | None:
    """The value of ``text`` as an ``xsd:int``, the type S3 gives the numbers of its documents
    and forms: digits with an optional minus sign, from -2**31 to 2**31 - 1; None if it is not one."""
    text = text.strip()
    if not INT_RE.fullmatch(text) or len(text.lstrip("-").lstrip("0")) > XSD_INT_DIGITS:
        return None
    value = int(text)
    return value if value in XSD_INT else None


def s3_time(when: float) -> str:
    """A timestamp as S3's XML writes it: ``2026-11-21T18:00:00.000Z``."""
    moment = datetime.fromtimestamp(when, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def swift_listing_time(text: str) -> str:
    """A Swift listing's ``last_modified`` (``2026-11-21T18:00:00.123456``) in S3's form."""
    moment = datetime.fromisoformat(text)  # strptime costs a tenth of a 1,000-key listing
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
