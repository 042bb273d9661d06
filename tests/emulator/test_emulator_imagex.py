"""ImageX: SigV4 with issued credentials, the upload host's Auth/CRC32 checks, commit, and their use."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import requests

from app.emulator import EmulatorServer
from tests.emulator.conftest import png
from tests.emulator.emulator_client import Wire, amz_now, blend_body, sigv4, video_body

APPLY = [("Action", "ApplyImageUpload"), ("Version", "2018-08-01"), ("ServiceId", "tb4s082cfz"), ("FileSize", "100")]


def _token(wire: Wire) -> dict[str, str]:
    return wire.ok("/mweb/v1/get_upload_token", {"scene": 2})


def _error(answer: requests.Response) -> str:
    assert 400 <= answer.status_code < 500
    return answer.json()["ResponseMetadata"]["Error"]["Code"]


def test_a_full_upload_is_committed_with_the_image_metadata(wire: Wire, emulator: EmulatorServer) -> None:
    data = png(30, 20)
    token = _token(wire)
    address = wire.apply(token, len(data))
    store_uri = address["StoreInfos"][0]["StoreUri"]
    assert store_uri.startswith("tos-cn-i-tb4s082cfz/") and len(store_uri.split("/")[1]) == 32
    assert address["UploadHosts"] == [emulator.url.removeprefix("http://")]
    upload = wire.put_bytes(address, data)
    assert upload.json() == {"code": 2000, "apiversion": "v1", "message": "Success",
                             "data": {"crc32": upload.request.headers["Content-CRC32"]}}  # fmt: skip
    result = wire.commit(token, address["SessionKey"]).json()["Result"]
    assert result["Results"] == [{"Uri": store_uri, "UriStatus": 2000}]
    plugin = result["PluginResult"][0]
    assert (plugin["ImageUri"], plugin["ImageWidth"], plugin["ImageHeight"]) == (store_uri, 30, 20)
    assert (plugin["ImageFormat"], plugin["ImageSize"]) == ("png", len(data))
    assert plugin["ImageMd5"] == hashlib.md5(data).hexdigest()


def _signed_get(wire: Wire, token: dict[str, str], headers: dict[str, str], **changes: Any) -> requests.Response:
    """ApplyImageUpload with the signature computed over ``headers`` and then ``changes`` applied."""
    query = "&".join(f"{k}={v}" for k, v in APPLY)
    auth = sigv4("GET", query, headers, changes.pop("secret", token["secret_access_key"]),
                 changes.pop("access_key", token["access_key_id"]), b"")  # fmt: skip
    sent = {**headers, "authorization": changes.pop("authorization", auth), **changes.pop("extra", {})}
    return wire.http.get(f"{wire.base_url}/?{query}", headers=sent, timeout=5)


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ({"secret": "wrong-secret"}, "SignatureDoesNotMatch"),
        ({"extra": {"x-amz-date": amz_now(-1)}}, "SignatureDoesNotMatch"),
        ({"access_key": "AKTPUNKNOWN"}, "InvalidAccessKey"),
        ({"authorization": ""}, "MissingAuthenticationToken"),
        ({"authorization": "AWS4-HMAC-SHA256 Credential=x"}, "InvalidAuthorization"),
        ({"extra": {"x-amz-security-token": "STS-forged"}}, "InvalidSecurityToken"),
    ],
)
def test_apply_refuses_a_bad_sigv4(wire: Wire, case: dict[str, Any], code: str) -> None:
    token = _token(wire)
    headers = {"x-amz-date": amz_now(), "x-amz-security-token": token["session_token"]}
    assert _error(_signed_get(wire, token, headers, **case)) == code


def test_apply_refuses_a_signature_that_signs_host(wire: Wire) -> None:
    token = _token(wire)
    headers = {"host": wire.base_url.removeprefix("http://"), "x-amz-date": amz_now(),
               "x-amz-security-token": token["session_token"]}  # fmt: skip
    assert _error(_signed_get(wire, token, headers)) == "InvalidAuthorization"


def test_apply_refuses_a_stale_x_amz_date_and_an_expired_token(wire: Wire, emulator: EmulatorServer) -> None:
    token = _token(wire)
    stale = {"x-amz-date": amz_now(-3600), "x-amz-security-token": token["session_token"]}
    assert _error(_signed_get(wire, token, stale)) == "InvalidTimestamp"
    emulator.configure(token_ttl=0)
    expired = _token(wire)
    fresh = {"x-amz-date": amz_now(), "x-amz-security-token": expired["session_token"]}
    assert _error(_signed_get(wire, expired, fresh)) == "TokenExpired"


def test_apply_refuses_another_service_id(wire: Wire) -> None:
    token = {**_token(wire), "service_id": "other"}
    params = [("Action", "ApplyImageUpload"), ("Version", "2018-08-01"), ("ServiceId", "other"), ("FileSize", "9")]
    assert _error(wire.imagex(token, "GET", params)) == "InvalidParameter"


def test_commit_refuses_a_body_hash_that_does_not_match(wire: Wire) -> None:
    token = _token(wire)
    address = wire.apply(token, 10)
    body = json.dumps({"SessionKey": address["SessionKey"], "SuccessActionStatus": "200"}).encode()
    params = "Action=CommitImageUpload&Version=2018-08-01&ServiceId=tb4s082cfz"
    headers = {
        "x-amz-content-sha256": "0" * 64,
        "x-amz-date": amz_now(),
        "x-amz-security-token": token["session_token"],
    }
    auth = sigv4("POST", params, headers, token["secret_access_key"], token["access_key_id"], body)
    answer = wire.http.post(
        f"{wire.base_url}/?{params}", data=body, headers={**headers, "authorization": auth}, timeout=5
    )
    assert _error(answer) == "XAmzContentSHA256Mismatch"


@pytest.mark.parametrize(
    ("change", "status"),
    [({"crc": "00000000"}, 400), ({"crc": "ABCDEF12"}, 400), ({"auth": "SpaceKey/forged"}, 401),
     ({"data": b"short"}, 400)],
)  # fmt: skip
def test_the_upload_host_refuses_bad_auth_crc32_or_length(wire: Wire, change: dict[str, Any], status: int) -> None:
    data = png(8, 8)
    address = wire.apply(_token(wire), len(data))
    if "auth" in change:
        address["StoreInfos"][0]["Auth"] = change["auth"]
    answer = wire.put_bytes(address, change.get("data", data), crc=change.get("crc"))
    assert answer.status_code == status and answer.json()["code"] != 2000


def test_commit_refuses_an_unknown_session_key_and_a_never_uploaded_store(wire: Wire) -> None:
    token = _token(wire)
    assert _error(wire.commit(token, "no-such-key")) == "InvalidSessionKey"
    address = wire.apply(token, 10)
    assert _error(wire.commit(token, address["SessionKey"])) == "FileNotUploaded"


def test_a_blend_of_an_uploaded_uri_completes_and_records_the_hash_prefix(wire: Wire, emulator: EmulatorServer) -> None:
    uris = [wire.upload(png(16, 16)), wire.upload(png(24, 16))]
    history_id = wire.submit(blend_body("mix them [gen=100ms]", uris))
    record = wire.wait(history_id)
    assert record["status"] == 50 and len(record["item_list"]) == 4
    assert emulator.stats()["generations"][history_id]["hash_prefix_ok"] is True
    odd_prefix = wire.submit(blend_body("#" + "x", uris))  # 5 leading '#' for 2 images
    assert emulator.stats()["generations"][odd_prefix]["hash_prefix_ok"] is False


def test_a_blend_of_a_never_uploaded_or_uncommitted_uri_is_ret_1000(wire: Wire) -> None:
    token = _token(wire)
    data = png(8, 8)
    address = wire.apply(token, len(data))
    wire.put_bytes(address, data)
    uncommitted = address["StoreInfos"][0]["StoreUri"]
    for uri in ("tos-cn-i-tb4s082cfz/" + "f" * 32, uncommitted):
        answer = wire.generate(blend_body("mix", [uri]))
        assert answer["ret"] == "1000" and "never uploaded" in answer["errmsg"]


def test_a_video_with_an_uploaded_first_frame_completes_with_a_fetchable_mp4(wire: Wire) -> None:
    frame = wire.upload(png(32, 18))
    record = wire.wait(wire.submit(video_body("waves [gen=200ms]", first_frame=frame)))
    assert record["status"] == 50
    url = record["item_list"][0]["video"]["transcoded_video"]["origin"]["video_url"]
    with wire.http.get(url, timeout=5) as answer:
        assert answer.status_code == 200 and answer.content[4:8] == b"ftyp"
