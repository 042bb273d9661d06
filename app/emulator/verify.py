"""Signature checks, written from the document alone: the ``Sign`` header (2026 notes 2.2) and ImageX SigV4
(baseline 9.6)."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl

ALGORITHM = "AWS4-HMAC-SHA256"
REGION = "cn-north-1"
SERVICE = "imagex"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
GET_SIGNED_HEADERS = "x-amz-date;x-amz-security-token"
POST_SIGNED_HEADERS = "x-amz-content-sha256;x-amz-date;x-amz-security-token"

_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<ak>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/"
    r"(?P<service>[^/,\s]+)/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;\-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


def jimeng_sign(
    path: str, pf: str, appvr: str, device_time: str, tdid: str, prefix: str = "9e2c", suffix: str = "11ac"
) -> str:
    """The ``Sign`` header: md5 of ``prefix|last7(path)|pf|appvr|device_time|tdid|suffix``; ``tdid`` is the
    ``Tdid`` header (sent empty, which gives the baseline's two adjacent bars)."""
    raw = f"{prefix}|{path[-7:]}|{pf}|{appvr}|{device_time}|{tdid}|{suffix}"
    return hashlib.md5(raw.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Authorization:
    """The parts of a SigV4 ``Authorization`` header."""

    access_key: str
    date: str
    region: str
    service: str
    signed_headers: str
    signature: str


def parse_authorization(header: str) -> Authorization | None:
    """Parse the exact header layout of 9.6 (", " between the parts); None if it does not match."""
    match = _AUTH_RE.match(header)
    if match is None:
        return None
    return Authorization(
        access_key=match["ak"],
        date=match["date"],
        region=match["region"],
        service=match["service"],
        signed_headers=match["signed"],
        signature=match["signature"],
    )


def canonical_query(query_string: str) -> str:
    """Decoded parameters sorted by name (byte order), joined as ``name=value``, not re-encoded."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def canonical_request(
    method: str,
    path: str,
    query_string: str,
    headers: Mapping[str, str],
    signed_headers: str,
    payload_hash: str,
) -> str:
    """The six-part canonical request; ``headers`` maps lower-case names to values."""
    names = signed_headers.split(";")
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in names)
    return "\n".join([method, path, canonical_query(query_string), canonical_headers, signed_headers, payload_hash])


def string_to_sign(amz_date: str, creq: str, region: str = REGION) -> str:
    scope = f"{amz_date[:8]}/{region}/{SERVICE}/aws4_request"
    return "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signature(secret_key: str, amz_date: str, creq: str, region: str = REGION) -> str:
    """Hex HMAC-SHA256 of the string to sign with the date/region/service/aws4_request key chain."""
    key = _hmac(f"AWS4{secret_key}".encode(), amz_date[:8])
    for part in (region, SERVICE, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, string_to_sign(amz_date, creq, region).encode(), hashlib.sha256).hexdigest()


def signatures_equal(expected: str, received: str) -> bool:
    return hmac.compare_digest(expected, received)
