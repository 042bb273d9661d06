"""The emulator's Sign and SigV4 code, and the test client's, against the document's worked vectors."""

from __future__ import annotations

import hashlib

import pytest

from app.emulator import verify
from tests.emulator.emulator_client import sign, sigv4

SIGN_VECTORS = [
    ("/mweb/v1/aigc_draft/generate", "1.0.0", "0e4907053592c4e691d5adda57dae4e5"),
    ("/mweb/v1/get_history_by_ids", "1.0.0", "661c1a5b665acaba51dcf760b8fca414"),
    ("/commerce/v1/benefits/user_credit", "1.0.0", "2bd5d37cd2a564678a3764247a10afbb"),
    ("/commerce/v1/benefits/credit_receive", "1.0.0", "6d8b869d07ac75a6f8f7669231576472"),
    ("/mweb/v1/get_upload_token", "1.0.0", "99e0253af5fed93ac8cabd50a40ed219"),
    ("/passport/account/info/v2", "1.0.0", "0d5b9e0d6afed141f88e2efb64f1a723"),
    ("/mweb/v1/aigc_draft/generate", "8.4.0", "8dfddc9b8f1ed770feff43dde0343959"),
]
AK, SK, ST = "AKTPEXAMPLEACCESSKEY", "EXAMPLESECRETACCESSKEY0123456789", "STSEXAMPLESESSIONTOKEN"
APPLY_QUERY = "Action=ApplyImageUpload&Version=2018-08-01&ServiceId=tb4s082cfz&FileSize=12345&s=k3j9x0abcd"
COMMIT_QUERY = "Action=CommitImageUpload&Version=2018-08-01&ServiceId=tb4s082cfz"
COMMIT_BODY = b'{"SessionKey":"EXAMPLESESSIONKEY","SuccessActionStatus":"200"}'
APPLY_SIGNATURE = "90d3be86a0b51132f9513788ccf727d04a8f1dd74ebfbcc126cd54f751498a5b"
COMMIT_SIGNATURE = "9e043f5ef2e392b2f009773e2b0144b1a0dc5bf5cc41da9bca910368624f97a2"


@pytest.mark.parametrize(("path", "appvr", "expected"), SIGN_VECTORS)
def test_sign_matches_the_documented_vectors(path: str, appvr: str, expected: str) -> None:
    assert verify.jimeng_sign(path, "7", appvr, "1759132800", "9e2c", "11ac") == expected
    assert sign(path, "1759132800", appvr=appvr) == expected


def test_sign_of_a_path_shorter_than_seven_characters_uses_the_whole_path() -> None:
    expected = hashlib.md5(b"9e2c|/a/b|7|1.0.0|1||11ac").hexdigest()
    assert verify.jimeng_sign("/a/b", "7", "1.0.0", "1", "9e2c", "11ac") == expected


def test_sigv4_vector_1_apply_image_upload() -> None:
    headers = {"x-amz-date": "20250929T080000Z", "x-amz-security-token": ST}
    creq = verify.canonical_request("GET", "/", APPLY_QUERY, headers, verify.GET_SIGNED_HEADERS, verify.EMPTY_SHA256)
    assert (
        creq.splitlines()[2]
        == "Action=ApplyImageUpload&FileSize=12345&ServiceId=tb4s082cfz&Version=2018-08-01&s=k3j9x0abcd"
    )
    assert verify.string_to_sign("20250929T080000Z", creq).endswith(
        "a1c481e50fdf080e8bbbfb90eacff660646871e733089b60566fb491e8f33bbb"
    )
    assert verify.signature(SK, "20250929T080000Z", creq) == APPLY_SIGNATURE
    header = sigv4("GET", APPLY_QUERY, headers, SK, AK, b"")
    assert header == (
        f"AWS4-HMAC-SHA256 Credential={AK}/20250929/cn-north-1/imagex/aws4_request, "
        f"SignedHeaders=x-amz-date;x-amz-security-token, Signature={APPLY_SIGNATURE}"
    )
    parsed = verify.parse_authorization(header)
    assert parsed is not None and parsed.signature == APPLY_SIGNATURE and parsed.access_key == AK


def test_sigv4_vector_2_commit_image_upload() -> None:
    payload = hashlib.sha256(COMMIT_BODY).hexdigest()
    assert payload == "a0ae3b7692ece6bb269efbf038e514e318ef51232aeb662a0a899eb0e89d164c"
    headers = {"x-amz-date": "20250929T080005Z", "x-amz-security-token": ST, "x-amz-content-sha256": payload}
    creq = verify.canonical_request("POST", "/", COMMIT_QUERY, headers, verify.POST_SIGNED_HEADERS, payload)
    assert verify.string_to_sign("20250929T080005Z", creq).endswith(
        "42764be5b509e685829d8b49a55c0ec11f99a0f94c3ebd779b9ab6d73379a051"
    )
    assert verify.signature(SK, "20250929T080005Z", creq) == COMMIT_SIGNATURE
    assert sigv4("POST", COMMIT_QUERY, headers, SK, AK, COMMIT_BODY).endswith(f"Signature={COMMIT_SIGNATURE}")


@pytest.mark.parametrize(
    "header",
    [
        f"AWS4-HMAC-SHA256 Credential={AK}/20250929/cn-north-1/imagex/aws4_request,SignedHeaders=x-amz-date,"
        f" Signature={APPLY_SIGNATURE}",
        f"AWS4-HMAC-SHA1 Credential={AK}/20250929/cn-north-1/imagex/aws4_request, SignedHeaders=x-amz-date,"
        f" Signature={APPLY_SIGNATURE}",
        "Bearer abc",
        "",
    ],
)
def test_authorization_headers_not_in_the_documented_layout_are_not_parsed(header: str) -> None:
    assert verify.parse_authorization(header) is None
