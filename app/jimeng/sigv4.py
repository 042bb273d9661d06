"""Signing of ImageX OpenAPI requests (protocol 9.6) and the upload checksum (9.3).

ImageX wants AWS Signature V4 with two departures from the usual client defaults: ``host`` is **not** signed,
and only ``x-amz-date`` and ``x-amz-security-token`` are (plus ``x-amz-content-sha256`` for a POST with a
body). We use requests-aws4auth because it can be told exactly which headers to sign (``include_hdrs``) and
takes the time stamp from the request's own ``x-amz-date``, so signing is deterministic and both of the
protocol's test vectors come out byte for byte. botocore's ``SigV4Auth`` did not fit: it always adds and
signs ``host`` and reads the clock itself.

One difference from the protocol's wording: the library re-encodes the decoded query values with AWS's
unreserved set, where the protocol says "not re-encoded". For the values ImageX gets (letters, digits, ``-``,
``.``) the two are the same string.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
from requests_aws4auth import AWS4Auth  # untyped (no py.typed marker): mypy is told to ignore missing stubs

AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_SIGNING_URL = "https://imagex.invalid/"  # host is not signed: only the path "/" and the query matter


@dataclass(frozen=True)
class SigningSteps:
    """The intermediate strings of one signature, for tests and for debugging a SignatureDoesNotMatch."""

    canonical_request: str
    string_to_sign: str
    authorization: str
    content_sha256: str


def amz_date_now(now: datetime | None = None) -> str:
    """The ``x-amz-date`` time stamp: UTC, ``YYYYMMDDTHHMMSSZ``, no milliseconds."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime(AMZ_DATE_FORMAT)


def crc32_hex(data: bytes) -> str:
    """The ``Content-CRC32`` of an upload: zlib's CRC-32 as 8 lowercase hex digits, zero padded."""
    return f"{zlib.crc32(data) & 0xFFFFFFFF:08x}"


def _check_amz_date(amz_date: str) -> None:
    """ValueError unless the stamp is exactly ``YYYYMMDDTHHMMSSZ`` (strptime alone accepts short fields)."""
    if datetime.strptime(amz_date, AMZ_DATE_FORMAT).strftime(AMZ_DATE_FORMAT) != amz_date:
        raise ValueError(f"x-amz-date must look like 20250929T080000Z, got {amz_date!r}")


def _signed_header_names(body: bytes) -> list[str]:
    names = ["x-amz-date", "x-amz-security-token"]
    return ["x-amz-content-sha256", *names] if body else names


def signing_steps(
    method: str,
    query: Sequence[tuple[str, str]],
    body: bytes,
    *,
    access_key: str,
    secret_key: str,
    session_token: str,
    amz_date: str,
    region: str,
    service: str,
) -> SigningSteps:
    """Sign one request and return every intermediate string; ``imagex_headers`` is the usual entry point.

    ``amz_date`` is checked first: given a malformed stamp the library would silently sign with the clock
    (its ``raise_invalid_date`` option is documented but not wired up in 1.4).
    """
    _check_amz_date(amz_date)
    prepared = requests.Request(
        method, _SIGNING_URL, params=list(query), data=body or None, headers={"x-amz-date": amz_date}
    ).prepare()
    auth = AWS4Auth(
        access_key,
        secret_key,
        region,
        service,
        amz_date[:8],
        session_token=session_token,
        include_hdrs=_signed_header_names(body),
    )
    auth(prepared)
    canonical_headers, signed_headers = auth.get_canonical_headers(prepared, auth.include_hdrs)
    canonical = auth.get_canonical_request(prepared, canonical_headers, signed_headers)
    return SigningSteps(
        canonical_request=canonical,
        string_to_sign=auth.get_sig_string(prepared, canonical, auth.signing_key.scope),
        authorization=_text(prepared.headers["Authorization"]),
        content_sha256=_text(prepared.headers["x-amz-content-sha256"]),
    )


def imagex_headers(
    method: str,
    query: Sequence[tuple[str, str]],
    body: bytes,
    *,
    access_key: str,
    secret_key: str,
    session_token: str,
    amz_date: str,
    region: str,
    service: str,
) -> dict[str, str]:
    """The SigV4 headers of one ImageX call: ``authorization``, ``x-amz-date``, ``x-amz-security-token``,
    and ``x-amz-content-sha256`` when there is a body (the only case in which it is signed)."""
    steps = signing_steps(
        method,
        query,
        body,
        access_key=access_key,
        secret_key=secret_key,
        session_token=session_token,
        amz_date=amz_date,
        region=region,
        service=service,
    )
    headers = {"authorization": steps.authorization, "x-amz-date": amz_date, "x-amz-security-token": session_token}
    if body:
        headers["x-amz-content-sha256"] = steps.content_sha256
    return headers


def _text(value: str | bytes) -> str:
    """requests types header values as str | bytes; the signer always sets str."""
    return value.decode("ascii") if isinstance(value, bytes) else value
