"""ImageX SigV4 against the protocol's test vectors, and the upload CRC32 (protocol 9.3, 9.6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from app.jimeng.sigv4 import amz_date_now, crc32_hex, imagex_headers, signing_steps

CREDENTIALS: dict[str, Any] = {
    "access_key": "AKTPEXAMPLEACCESSKEY",
    "secret_key": "EXAMPLESECRETACCESSKEY0123456789",
    "session_token": "STSEXAMPLESESSIONTOKEN",
    "region": "cn-north-1",
    "service": "imagex",
}
APPLY_QUERY = [  # in the order sent; the signature sorts them
    ("Action", "ApplyImageUpload"),
    ("Version", "2018-08-01"),
    ("ServiceId", "tb4s082cfz"),
    ("FileSize", "12345"),
    ("s", "k3j9x0abcd"),
]
COMMIT_QUERY = [("Action", "CommitImageUpload"), ("Version", "2018-08-01"), ("ServiceId", "tb4s082cfz")]
COMMIT_BODY = b'{"SessionKey":"EXAMPLESESSIONKEY","SuccessActionStatus":"200"}'
COMMIT_SHA256 = "a0ae3b7692ece6bb269efbf038e514e318ef51232aeb662a0a899eb0e89d164c"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SCOPE = "20250929/cn-north-1/imagex/aws4_request"

VECTOR_1 = {
    "canonical_request": (
        "GET\n/\n"
        "Action=ApplyImageUpload&FileSize=12345&ServiceId=tb4s082cfz&Version=2018-08-01&s=k3j9x0abcd\n"
        "x-amz-date:20250929T080000Z\nx-amz-security-token:STSEXAMPLESESSIONTOKEN\n\n"
        "x-amz-date;x-amz-security-token\n" + EMPTY_SHA256
    ),
    "string_to_sign": (
        f"AWS4-HMAC-SHA256\n20250929T080000Z\n{SCOPE}\na1c481e50fdf080e8bbbfb90eacff660646871e733089b60566fb491e8f33bbb"
    ),
    "authorization": (
        f"AWS4-HMAC-SHA256 Credential=AKTPEXAMPLEACCESSKEY/{SCOPE}, "
        "SignedHeaders=x-amz-date;x-amz-security-token, "
        "Signature=90d3be86a0b51132f9513788ccf727d04a8f1dd74ebfbcc126cd54f751498a5b"
    ),
}
VECTOR_2 = {
    "canonical_request": (
        "POST\n/\nAction=CommitImageUpload&ServiceId=tb4s082cfz&Version=2018-08-01\n"
        f"x-amz-content-sha256:{COMMIT_SHA256}\nx-amz-date:20250929T080005Z\n"
        "x-amz-security-token:STSEXAMPLESESSIONTOKEN\n\n"
        f"x-amz-content-sha256;x-amz-date;x-amz-security-token\n{COMMIT_SHA256}"
    ),
    "string_to_sign": (
        f"AWS4-HMAC-SHA256\n20250929T080005Z\n{SCOPE}\n42764be5b509e685829d8b49a55c0ec11f99a0f94c3ebd779b9ab6d73379a051"
    ),
    "authorization": (
        f"AWS4-HMAC-SHA256 Credential=AKTPEXAMPLEACCESSKEY/{SCOPE}, "
        "SignedHeaders=x-amz-content-sha256;x-amz-date;x-amz-security-token, "
        "Signature=9e043f5ef2e392b2f009773e2b0144b1a0dc5bf5cc41da9bca910368624f97a2"
    ),
}
CASES = [
    pytest.param("GET", APPLY_QUERY, b"", "20250929T080000Z", VECTOR_1, id="vector-1-apply"),
    pytest.param("POST", COMMIT_QUERY, COMMIT_BODY, "20250929T080005Z", VECTOR_2, id="vector-2-commit"),
]


@pytest.mark.parametrize(("method", "query", "body", "amz_date", "vector"), CASES)
def test_signing_reproduces_the_protocol_vectors_step_by_step(
    method: str, query: list[tuple[str, str]], body: bytes, amz_date: str, vector: dict[str, str]
) -> None:
    steps = signing_steps(method, query, body, amz_date=amz_date, **CREDENTIALS)
    assert steps.canonical_request == vector["canonical_request"]
    assert steps.string_to_sign == vector["string_to_sign"]
    assert steps.authorization == vector["authorization"]


def test_apply_headers_sign_only_date_and_token() -> None:
    headers = imagex_headers("GET", APPLY_QUERY, b"", amz_date="20250929T080000Z", **CREDENTIALS)
    assert headers == {
        "authorization": VECTOR_1["authorization"],
        "x-amz-date": "20250929T080000Z",
        "x-amz-security-token": "STSEXAMPLESESSIONTOKEN",
    }


def test_commit_headers_add_the_body_hash() -> None:
    headers = imagex_headers("POST", COMMIT_QUERY, COMMIT_BODY, amz_date="20250929T080005Z", **CREDENTIALS)
    assert headers == {
        "authorization": VECTOR_2["authorization"],
        "x-amz-date": "20250929T080005Z",
        "x-amz-security-token": "STSEXAMPLESESSIONTOKEN",
        "x-amz-content-sha256": COMMIT_SHA256,
    }


def test_query_order_does_not_change_the_signature() -> None:
    shuffled = list(reversed(APPLY_QUERY))
    headers = imagex_headers("GET", shuffled, b"", amz_date="20250929T080000Z", **CREDENTIALS)
    assert headers["authorization"] == VECTOR_1["authorization"]


@pytest.mark.parametrize(
    ("changed", "value"),
    [("secret_key", "OTHER"), ("session_token", "OTHER"), ("region", "us-east-1"), ("service", "vod")],
)
def test_every_credential_input_changes_the_signature(changed: str, value: str) -> None:
    credentials = CREDENTIALS | {changed: value}
    headers = imagex_headers("GET", APPLY_QUERY, b"", amz_date="20250929T080000Z", **credentials)
    assert headers["authorization"] != VECTOR_1["authorization"]


@pytest.mark.parametrize("amz_date", ["yesterday", "2025-09-29T08:00:00Z", "20250929T080000", "20250929T80000Z", ""])
def test_a_malformed_time_stamp_is_refused_rather_than_replaced_by_the_clock(amz_date: str) -> None:
    with pytest.raises(ValueError):
        imagex_headers("GET", APPLY_QUERY, b"", amz_date=amz_date, **CREDENTIALS)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2025, 9, 29, 8, 0, 0, 999_999, tzinfo=UTC), "20250929T080000Z"),
        (datetime(2025, 9, 29, 16, 0, 5, tzinfo=timezone(timedelta(hours=8))), "20250929T080005Z"),
    ],
)
def test_amz_date_is_utc_without_separators_or_fractions(now: datetime, expected: str) -> None:
    assert amz_date_now(now) == expected


def test_amz_date_now_defaults_to_the_clock() -> None:
    stamp = amz_date_now()
    assert len(stamp) == 16
    assert datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"hello world", "0d4a1185"), (b"", "00000000"), (b"a", "e8b7be43"), (b"\xff" * 4, "ffffffff")],
)
def test_crc32_is_eight_lowercase_zero_padded_hex_digits(data: bytes, expected: str) -> None:
    assert crc32_hex(data) == expected
