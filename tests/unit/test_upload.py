"""The ImageX upload sequence on a recording fake transport: exact requests, the protocol's SigV4 vectors,
retries, token renewal, and error messages without secrets."""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from app.domain.errors import UpstreamUnavailableError
from app.domain.models import InputImage
from app.jimeng.client import ClientConfig, JimengClient
from app.jimeng.sigv4 import crc32_hex
from app.jimeng.upload import ImageUploader
from config.upstream import load_upstream
from tests.fake_http import FakeHttp

AK, SK, ST = "AKTPEXAMPLEACCESSKEY", "EXAMPLESECRETACCESSKEY0123456789", "STSEXAMPLESESSIONTOKEN"
TOKEN = {"access_key_id": AK, "secret_access_key": SK, "session_token": ST, "service_id": "tb4s082cfz"}
STORE_URI = "tos-cn-i-tb4s082cfz/bab623359bd9410da0c1f07897b16fec"
AUTH = "SpaceKey/tb4s082cfz/1/:version:v2:EXAMPLE-OPAQUE-TOKEN"
SESSION = "sessionid-0123456789abcdef"
VECTOR_1 = (
    "AWS4-HMAC-SHA256 Credential=AKTPEXAMPLEACCESSKEY/20250929/cn-north-1/imagex/aws4_request, "
    "SignedHeaders=x-amz-date;x-amz-security-token, "
    "Signature=90d3be86a0b51132f9513788ccf727d04a8f1dd74ebfbcc126cd54f751498a5b"
)
VECTOR_2 = (
    "AWS4-HMAC-SHA256 Credential=AKTPEXAMPLEACCESSKEY/20250929/cn-north-1/imagex/aws4_request, "
    "SignedHeaders=x-amz-content-sha256;x-amz-date;x-amz-security-token, "
    "Signature=9e043f5ef2e392b2f009773e2b0144b1a0dc5bf5cc41da9bca910368624f97a2"
)
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36"
SEC_CH_UA = '"Not A(Brand";v="8", "Chromium";v="132", "Google Chrome";v="132"'
IMAGE_REFERER = "https://jimeng.jianying.com/ai-tool/generate"
VIDEO_REFERER = "https://jimeng.jianying.com/ai-tool/video/generate"


def apply_answer(session_key: str = "EXAMPLESESSIONKEY") -> dict[str, Any]:
    address = {"StoreInfos": [{"StoreUri": STORE_URI, "Auth": AUTH}],
               "UploadHosts": ["upload.example-imagex-host.com"], "SessionKey": session_key}  # fmt: skip
    return {"ResponseMetadata": {"Action": "ApplyImageUpload"}, "Result": {"UploadAddress": address}}


def commit_answer(plugin: bool = True, status: int = 2000) -> dict[str, Any]:
    result: dict[str, Any] = {"Results": [{"Uri": STORE_URI, "UriStatus": status}]}
    if plugin:
        result["PluginResult"] = [{"ImageUri": STORE_URI + "~plugin", "SourceUri": STORE_URI}]
    return {"ResponseMetadata": {"Action": "CommitImageUpload"}, "Result": result}


UPLOADED = {"code": 2000, "apiversion": "v1", "message": "Success", "data": {"crc32": "x"}}


def imagex_error(code: str, message: str = "refused", status: int = 400) -> tuple[int, Any]:
    return status, {"ResponseMetadata": {"Action": "ApplyImageUpload", "Error": {"Code": code, "Message": message}}}


class ScriptedRng(random.Random):
    """Draws the protocol example's nonce ``k3j9x0abcd``; backoff draws stay random (their sleep is a no-op)."""

    def __init__(self) -> None:
        super().__init__(0)
        self._nonce: Iterator[str] = iter("k3j9x0abcd" * 10)

    def choice(self, seq: Any) -> Any:
        return next(self._nonce)


def clock() -> Any:
    stamps = iter([datetime(2025, 9, 29, 8, 0, 0, tzinfo=UTC), datetime(2025, 9, 29, 8, 0, 5, tzinfo=UTC)] * 10)
    return lambda: next(stamps)


def uploader(
    script: list[Any], monkeypatch: pytest.MonkeyPatch, tokens: list[dict[str, Any]] | None = None
) -> tuple[ImageUploader, FakeHttp, list[str]]:
    http = FakeHttp(script)
    config = ClientConfig(
        base_url="https://jimeng.example", imagex_url="https://imagex.example", connect_timeout=2.5, read_timeout=12.0,
        submit_settle_seconds=0,
    )  # fmt: skip
    client = JimengClient(load_upstream(), config, http=http, sleep=lambda _: None)  # type: ignore[arg-type]
    issued: list[str] = []
    queue = list(tokens or [TOKEN] * 4)

    def upload_token(session_id: str) -> dict[str, Any]:
        issued.append(session_id)
        return queue.pop(0)

    monkeypatch.setattr(client, "upload_token", upload_token)
    return ImageUploader(client, now=clock(), sleep=lambda _: None, rng=ScriptedRng()), http, issued


IMAGE = InputImage(b"x" * 12345, "url", "image/png")


@pytest.mark.parametrize(("data", "crc"), [(b"hello world", "0d4a1185"), (b"", "00000000"), (b"\x00", "d202ef8d")])
def test_crc32_is_eight_lowercase_hex_digits(data: bytes, crc: str) -> None:
    assert crc32_hex(data) == crc == f"{zlib.crc32(data):08x}"


def test_the_upload_is_apply_upload_commit_exactly_per_the_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    up, http, issued = uploader([apply_answer(), UPLOADED, commit_answer()], monkeypatch)
    assert up.upload_images(SESSION, [IMAGE], video=False) == [STORE_URI + "~plugin"]
    assert issued == [SESSION]
    browser = {"origin": "https://jimeng.jianying.com", "referer": IMAGE_REFERER, "sec-fetch-dest": "empty",
               "sec-fetch-mode": "cors", "sec-fetch-site": "cross-site", "user-agent": UA, "sec-ch-ua": SEC_CH_UA,
               "sec-ch-ua-mobile": "?0", "sec-ch-ua-platform": '"Windows"', "accept": "*/*",
               "accept-language": "zh-CN,zh;q=0.9"}  # fmt: skip
    apply, upload, commit = http.calls
    assert apply["method"] == "GET" and apply["data"] is None
    assert http.url(0) == (
        "https://imagex.example/?Action=ApplyImageUpload&Version=2018-08-01&ServiceId=tb4s082cfz&FileSize=12345&s=k3j9x0abcd"
    )
    assert apply["headers"] == {**browser, "authorization": VECTOR_1, "x-amz-date": "20250929T080000Z",
                                "x-amz-security-token": ST}  # fmt: skip
    assert upload["method"] == "POST" and upload["data"] == IMAGE.data
    assert upload["url"] == f"https://upload.example-imagex-host.com/upload/v1/{STORE_URI}"
    assert upload["headers"] == {
        "Accept": "*/*", "Accept-Language": "zh-CN,zh;q=0.9", "Authorization": AUTH, "Connection": "keep-alive",
        "Content-CRC32": f"{zlib.crc32(IMAGE.data):08x}", "Content-Disposition": 'attachment; filename="undefined"',
        "Content-Type": "application/octet-stream", "Origin": "https://jimeng.jianying.com", "Referer": IMAGE_REFERER,
        "Sec-Fetch-Dest": "empty", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "cross-site", "User-Agent": UA,
        "X-Storage-U": "704135154117550",
    }  # fmt: skip
    assert http.url(2) == "https://imagex.example/?Action=CommitImageUpload&Version=2018-08-01&ServiceId=tb4s082cfz"
    assert commit["data"] == b'{"SessionKey":"EXAMPLESESSIONKEY","SuccessActionStatus":"200"}'
    assert commit["headers"] == {
        **browser, "authorization": VECTOR_2, "x-amz-date": "20250929T080005Z", "x-amz-security-token": ST,
        "content-type": "application/json",
        "x-amz-content-sha256": "a0ae3b7692ece6bb269efbf038e514e318ef51232aeb662a0a899eb0e89d164c",
    }  # fmt: skip
    assert all(call["timeout"] == (2.5, 12.0) and call["allow_redirects"] is False for call in http.calls)


def test_video_frames_use_the_video_referer(monkeypatch: pytest.MonkeyPatch) -> None:
    up, http, _ = uploader([apply_answer(), UPLOADED, commit_answer()], monkeypatch)
    up.upload_images(SESSION, [IMAGE], video=True)
    assert [call["headers"].get("referer") or call["headers"]["Referer"] for call in http.calls] == [VIDEO_REFERER] * 3


def test_without_plugin_result_the_uri_is_results_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    up, _, _ = uploader([apply_answer(), UPLOADED, commit_answer(plugin=False)], monkeypatch)
    assert up.upload_images(SESSION, [IMAGE], video=False) == [STORE_URI]


def test_an_empty_service_id_falls_back_to_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    up, http, _ = uploader([apply_answer(), UPLOADED, commit_answer()], monkeypatch, [{**TOKEN, "service_id": ""}])
    up.upload_images(SESSION, [IMAGE], video=False)
    assert "ServiceId=tb4s082cfz" in http.url(0)


LOST = [
    (502, b"<html>502 Bad Gateway</html>"),
    (429, b"Too Many Requests"),
    requests.exceptions.ConnectionError("Connection reset by peer"),
    requests.exceptions.ReadTimeout("read timed out"),
]
TRUNCATED = (200, b'{"ResponseMetadata": {"Act')


# A truncated 2xx answer of the upload host is not retried: its status already says the bytes arrived (the
# reference ignores that body too); for the OpenAPI calls the body is the answer, so it is.
@pytest.mark.parametrize(
    ("step", "lost"), [(step, lost) for step in (0, 1, 2) for lost in LOST] + [(0, TRUNCATED), (2, TRUNCATED)]
)
def test_every_step_is_retried_after_a_lost_answer(monkeypatch: pytest.MonkeyPatch, lost: Any, step: int) -> None:
    script: list[Any] = [apply_answer(), UPLOADED, commit_answer()]
    script.insert(step, lost)
    up, http, issued = uploader(script, monkeypatch)
    assert up.upload_images(SESSION, [IMAGE], video=False) == [STORE_URI + "~plugin"]
    assert len(http.calls) == 4 and len(issued) == 1
    assert http.calls[step]["url"] == http.calls[step + 1]["url"]


@pytest.mark.parametrize(
    ("first", "at_step"),
    [
        (imagex_error("TokenExpired", status=401), 0),
        (imagex_error("ExpiredToken", status=401), 0),
        (imagex_error("SignatureDoesNotMatch", status=403), 0),
        (imagex_error("InvalidAccessKey", status=401), 2),
        ((401, {"code": 4001, "message": "bad auth"}), 1),
    ],
)
def test_a_refused_token_is_renewed_once_and_the_image_redone(
    monkeypatch: pytest.MonkeyPatch, first: Any, at_step: int
) -> None:
    done = [apply_answer(), UPLOADED, commit_answer()]
    script = [*done[:at_step], first, *done]
    up, http, issued = uploader(script, monkeypatch)
    assert up.upload_images(SESSION, [IMAGE], video=False) == [STORE_URI + "~plugin"]
    assert issued == [SESSION, SESSION]
    assert "Action=ApplyImageUpload" in http.url(at_step + 1)


def test_a_token_refused_twice_fails_without_a_third_token(monkeypatch: pytest.MonkeyPatch) -> None:
    up, _, issued = uploader([imagex_error("TokenExpired", status=401)] * 2, monkeypatch)
    with pytest.raises(UpstreamUnavailableError, match=r"fresh upload token too \(TokenExpired\)"):
        up.upload_images(SESSION, [IMAGE], video=False)
    assert len(issued) == 2


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ([imagex_error("InvalidParameter", f"bad FileSize; canonical request had {ST} and {AK}")],
         "ImageX ApplyImageUpload refused: InvalidParameter (bad FileSize; canonical request had <redacted> and <redacted>)"),
        ([(403, {"ResponseMetadata": {}})], "ImageX ApplyImageUpload answered HTTP 403"),
        ([{"ResponseMetadata": {}, "Result": {"UploadAddress": {"StoreInfos": []}}}], "lacks StoreUri, Auth"),
        ([{"ResponseMetadata": {}, "Result": {"UploadAddress": {**apply_answer()["Result"]["UploadAddress"],
                                                                "UploadHosts": ["evil.example/path@x"]}}}],
         "lacks StoreUri, Auth, UploadHosts"),
        ([apply_answer(), (400, {"code": 4003, "message": "crc"})], "upload host refused the image (HTTP 400, code 4003)"),
        ([apply_answer(), (200, {"code": 4002})], "upload host refused the image (HTTP 200, code 4002)"),
        ([apply_answer(), UPLOADED, commit_answer(status=2001)], "UriStatus 2001"),
        ([apply_answer(), UPLOADED, {"ResponseMetadata": {}, "Result": {"Results": []}}], "UriStatus None"),
        ([apply_answer(), UPLOADED, imagex_error("FileNotUploaded")], "CommitImageUpload refused: FileNotUploaded"),
        ([(502, b"")] * 4, "ImageX ApplyImageUpload: HTTP 502"),
    ],
)  # fmt: skip
def test_an_imagex_failure_is_an_upstream_error_without_secrets(
    monkeypatch: pytest.MonkeyPatch, script: list[Any], message: str
) -> None:
    up, _, issued = uploader(script, monkeypatch)
    with pytest.raises(UpstreamUnavailableError) as caught:
        up.upload_images(SESSION, [IMAGE], video=False)
    text = str(caught.value)
    assert message in text and len(issued) == 1
    assert not any(secret in text for secret in (AK, SK, ST, AUTH, "EXAMPLESESSIONKEY", SESSION))


def test_a_token_without_credentials_is_an_upstream_error(monkeypatch: pytest.MonkeyPatch) -> None:
    up, http, _ = uploader([], monkeypatch, [{**TOKEN, "session_token": ""}])
    with pytest.raises(UpstreamUnavailableError, match="upload token lacks"):
        up.upload_images(SESSION, [IMAGE], video=False)
    assert http.calls == []
