"""The emulator's Sign and SigV4 code, and the test client's, against the document's worked vectors."""

from __future__ import annotations

import hashlib

import pytest

from app.emulator import verify
from tests.emulator.emulator_client import sign, sigv4
from tests.protocol_examples import SIGN_WORKED_EXAMPLE

# (path, Device-Time, Sign) captured from the real web app (2.2, "verified against real captures")
CAPTURED = [
    ("/mweb/v1/aigc_draft/generate", "1771893826", "19724735691862919106b8c4808a6ce7"),
    ("/mweb/v1/get_history_by_ids", "1771893881", "cd10f9d7d6a45a52bc58acf278a5314c"),
    ("/mweb/v1/get_history_queue_info", "1771893870", "b455ce04243cab9429ffbb87850c5686"),
    ("/commerce/v1/benefits/user_credit_history", "1771893831", "e689d5fa536721dee8945eaa6efb01b0"),
    ("/mweb/v1/aigc_draft/generate", "1775014539", "4a90b17caf48c79bae9e8020b32ea281"),
    ("/mweb/v1/aigc_draft/generate", "1789742348", "103979f37bb61af3a5a6d0a53f9e5992"),
    ("/mweb/v1/aigc_draft/generate", "1790786145", "2533662377211f0653b7759901657a92"),
]
AK, SK, ST = "AKTPEXAMPLEACCESSKEY", "EXAMPLESECRETACCESSKEY0123456789", "STSEXAMPLESESSIONTOKEN"
APPLY_QUERY = "Action=ApplyImageUpload&Version=2018-08-01&ServiceId=tb4s082cfz&FileSize=12345&s=k3j9x0abcd"
COMMIT_QUERY = "Action=CommitImageUpload&Version=2018-08-01&ServiceId=tb4s082cfz"
COMMIT_BODY = b'{"SessionKey":"EXAMPLESESSIONKEY","SuccessActionStatus":"200"}'
APPLY_SIGNATURE = "90d3be86a0b51132f9513788ccf727d04a8f1dd74ebfbcc126cd54f751498a5b"
COMMIT_SIGNATURE = "9e043f5ef2e392b2f009773e2b0144b1a0dc5bf5cc41da9bca910368624f97a2"


@pytest.mark.parametrize(("path", "expected"), SIGN_WORKED_EXAMPLE)
def test_sign_reproduces_the_worked_example_table(path: str, expected: str) -> None:
    assert verify.jimeng_sign(path, "7", "8.4.0", "1790000000", "") == expected
    assert sign(path, "1790000000") == expected


@pytest.mark.parametrize(("path", "device_time", "expected"), CAPTURED)
def test_sign_reproduces_the_captured_signs(path: str, device_time: str, expected: str) -> None:
    assert verify.jimeng_sign(path, "7", "8.4.0", device_time, "") == expected


@pytest.mark.parametrize(
    ("tdid", "appvr", "expected"),
    [("0", "8.4.0", "e213165f778dd54c4f0adf9b1f62ac77"), ("", "5.8.0", "180952f2b08eaace2db8c5d4a70cc57a")],
)
def test_the_counter_examples_give_the_documented_wrong_signs(tdid: str, appvr: str, expected: str) -> None:
    """Tdid "0" or the old Appvr hash to other values (2.2): Tdid and Appvr really enter the hash."""
    signed = verify.jimeng_sign("/mweb/v1/aigc_draft/generate", "7", appvr, "1790000000", tdid)
    assert signed == expected != "3f74a15553f9c99c1e6746750c692cb5"


def test_a_trailing_slash_counts_in_the_last_seven_characters() -> None:
    expected = hashlib.md5(b"9e2c|nfo/v2/|7|8.4.0|1790000000||11ac").hexdigest()
    assert verify.jimeng_sign("/passport/account/info/v2/", "7", "8.4.0", "1790000000", "") == expected


def test_sign_of_a_path_shorter_than_seven_characters_uses_the_whole_path() -> None:
    expected = hashlib.md5(b"9e2c|/a/b|7|8.4.0|1||11ac").hexdigest()
    assert verify.jimeng_sign("/a/b", "7", "8.4.0", "1", "") == expected


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
