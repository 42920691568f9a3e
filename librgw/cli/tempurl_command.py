"""``librgw tempurl METHOD SECONDS PATH KEY``: make a Swift temporary URL, as ``swift tempurl`` does.

PATH is an object's path (``/v1/AUTH_alice/photos/cat.jpg``) or a whole URL
(``http://127.0.0.1:8080/v1/AUTH_alice/photos/cat.jpg``), names as text, not percent-encoded
(the printed URL is); KEY is one of the account's or the
container's ``Temp-URL-Key`` values (``swift post -m Temp-URL-Key:KEY``). The URL is good for
SECONDS (a number, or with a unit: ``30m``, ``12h``, ``7d``), or until SECONDS as unix time
with ``--absolute``, or until an ISO 8601 time (``2026-12-31T23:59:59Z``). It prints the URL.

Examples::

    librgw tempurl GET 3600 /v1/AUTH_alice/photos/cat.jpg mykey
    librgw tempurl PUT 1d http://127.0.0.1:8080/v1/AUTH_alice/inbox/upload.bin mykey --digest sha512
    librgw tempurl GET 2h /v1/AUTH_alice/photos/2026/ mykey --prefix-based --ip-range 10.0.0.0/8

The gateway's ``tempurl`` filter (``librgw/middleware/tempurl.py``) and an OpenStack Swift proxy's
both accept it. It needs no cluster.
"""

from __future__ import annotations

import argparse
import base64
import time
from urllib.parse import quote, urlsplit

from librgw import temp_urls

from .arguments import help_text
from .errors import UsageError

UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "tempurl",
        parents=[common],
        help="make a Swift temporary URL (as swift tempurl)",
        description=help_text(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("method", metavar="METHOD", help="GET, HEAD, PUT, POST or DELETE")
    parser.add_argument("seconds", metavar="SECONDS", help="how long it is good for, or until when")
    parser.add_argument("path", metavar="PATH", help="/v1/<account>/<container>/<object>, or a URL")
    parser.add_argument("key", metavar="KEY", help="a Temp-URL-Key of the account or the container")
    parser.add_argument("--absolute", action="store_true", help="SECONDS is unix time, not a duration")
    parser.add_argument("--prefix-based", action="store_true", help="good for every object under PATH")
    parser.add_argument("--iso8601", action="store_true", help="write the expiry in ISO 8601")
    parser.add_argument("--ip-range", help="only for clients in this address range (10.0.0.0/8)")
    parser.add_argument("--digest", choices=sorted(temp_urls.DIGESTS), default="sha256")
    parser.set_defaults(handler=do_tempurl, needs_cluster=False)


def expiry(seconds: str, absolute: bool, now: float) -> int:
    """Unix time the URL expires at, from SECONDS as given; UsageError if it is none of the forms."""
    number, unit = seconds, "s"
    for suffix in sorted(UNITS, key=len, reverse=True):
        if not absolute and seconds.endswith(suffix) and seconds[: -len(suffix)].isdigit():
            number, unit = seconds[: -len(suffix)], suffix
            break
    if number.isdigit():
        return int(number) if absolute else int(now) + int(number) * UNITS[unit]
    try:
        return temp_urls.parse_expires(seconds)
    except ValueError:
        raise UsageError(
            f"SECONDS must be a number of seconds (or 30m, 12h, 7d) or ISO 8601, not {seconds!r}"
        ) from None


def do_tempurl(args: argparse.Namespace, _handle: None) -> int:
    url = urlsplit(args.path)
    path = url.path
    parts = path.split("/", 4)
    if len(parts) != 5 or parts[0] or parts[1] != "v1" or not all(parts[2:4]) or not (parts[4] or args.prefix_based):
        raise UsageError(f"PATH must be /v1/<account>/<container>/<object>, not {path!r}")
    method = args.method.upper()
    expires = expiry(args.seconds, args.absolute, time.time())
    scope = temp_urls.Scope(method, expires, path, args.prefix_based, args.ip_range)
    sig = temp_urls.sign(scope, args.key, args.digest)
    if args.digest == "sha512":  # 128 hex digits are long: swift tempurl writes it sha512:<base64>
        sig = "sha512:" + base64.urlsafe_b64encode(bytes.fromhex(sig)).decode().rstrip("=")
    written = time.strftime(temp_urls.ISO8601, time.gmtime(expires)) if args.iso8601 else str(expires)
    query = f"temp_url_sig={sig}&temp_url_expires={written}"
    if args.ip_range:
        query += f"&temp_url_ip_range={quote(args.ip_range, safe='')}"
    if args.prefix_based:
        query += f"&temp_url_prefix={quote(parts[4], safe='')}"
    base = f"{url.scheme}://{url.netloc}" if url.netloc else ""
    print(f"{base}{quote(path)}?{query}")
    return 0
