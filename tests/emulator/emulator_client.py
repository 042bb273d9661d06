"""A tiny protocol client written in the tests from the protocol notes' worked examples.

Deliberately independent of app/jimeng and of app/emulator: signing, cookie, common parameters, drafts
and SigV4 are re-derived here so that the emulator is checked against the document, not against itself.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import time
import uuid
import zlib
from typing import Any
from urllib.parse import parse_qsl, urlencode

import requests

WEB_ID = "7412345678901234000"
USER_ID = "fb7b1e21e96311f18a3e93d04a678416"
COMMON_PARAMS = [
    ("aid", "513695"), ("device_platform", "web"), ("region", "cn"), ("webId", WEB_ID), ("da_version", "3.3.2"),
    ("web_component_open_flag", "1"), ("web_version", "7.5.0"), ("aigc_features", "app_lip_sync"),
]  # fmt: skip
V40 = "high_aes_general_v40"
VIDEO_MODEL = "dreamina_ic_generate_video_model_vgfm_3.0"


def sign(path: str, device_time: str, pf: str = "7", appvr: str = "1.0.0") -> str:
    """Section 3.2."""
    return hashlib.md5(f"9e2c|{path[-7:]}|{pf}|{appvr}|{device_time}||11ac".encode()).hexdigest()


def cookie(sessionid: str, now: int) -> str:
    """Section 4.1, all 11 cookies including the duplicate sid_tt."""
    guard = f"{sessionid}%7C{now}%7C5184000%7CMon%2C+03-Feb-2025+08%3A17%3A09+GMT"
    parts = [("_tea_web_id", WEB_ID), ("is_staff_user", "false"), ("store-region", "cn-gd"),
             ("store-region-src", "uid"), ("sid_guard", guard), ("uid_tt", USER_ID), ("uid_tt_ss", USER_ID),
             ("sid_tt", sessionid), ("sessionid", sessionid), ("sessionid_ss", sessionid), ("sid_tt", sessionid)]  # fmt: skip
    return "; ".join(f"{name}={value}" for name, value in parts)


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sigv4(method: str, query: str, headers: dict[str, str], secret: str, access_key: str, body: bytes) -> str:
    """Section 9.6: the Authorization header for an ImageX request (headers: lower-case, to be signed)."""
    amz_date = headers["x-amz-date"]
    names = sorted(headers)
    canonical_query = "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(query, keep_blank_values=True)))
    canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in names)
    payload = hashlib.sha256(body).hexdigest()
    creq = "\n".join([method, "/", canonical_query, canonical_headers, ";".join(names), payload])
    scope = f"{amz_date[:8]}/cn-north-1/imagex/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    key = _hmac(f"AWS4{secret}".encode(), amz_date[:8])
    for part in ("cn-north-1", "imagex", "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"


def amz_now(offset: float = 0.0) -> str:
    return datetime.datetime.fromtimestamp(time.time() + offset, datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _u() -> str:
    return str(uuid.uuid4())


def image_core(prompt: str, model: str, width: int, height: int, ratio: int | None, res: str) -> dict[str, Any]:
    core = {"type": "", "id": _u(), "model": model, "prompt": prompt, "negative_prompt": "", "seed": 2512345678,
            "sample_strength": 0.5, "image_ratio": ratio,
            "large_image_info": {"type": "", "id": _u(), "height": height, "width": width, "resolution_type": res},
            "intelligent_ratio": False}  # fmt: skip
    if ratio is None:
        del core["image_ratio"]
    return core


def _component(generate_type: str, abilities: dict[str, Any]) -> dict[str, Any]:
    return {"type": "image_base_component", "id": _u(), "min_version": "3.3.2", "aigc_mode": "workbench",
            "metadata": {"type": "", "id": _u(), "created_platform": 3, "created_time_in_ms": "1759132800123"},
            "generate_type": generate_type, "abilities": {"type": "", "id": _u(), **abilities}}  # fmt: skip


def draft_body(component: dict[str, Any], root_model: str, submit_id: str | None = None) -> dict[str, Any]:
    draft = {"type": "draft", "id": _u(), "min_version": "3.3.2", "min_features": [], "is_from_tsn": True,
             "version": "3.3.2", "main_component_id": component["id"], "component_list": [component]}  # fmt: skip
    metrics = {"promptSource": "custom", "generateCount": 1, "enterFrom": "click", "generateId": _u()}
    return {"extend": {"root_model": root_model, "template_id": ""}, "submit_id": submit_id or _u(),
            "metrics_extra": json.dumps(metrics, separators=(",", ":")),
            "draft_content": json.dumps(draft, separators=(",", ":"), ensure_ascii=False),
            "http_common_info": {"aid": 513695}}  # fmt: skip


def image_body(prompt: str, *, model: str = V40, size: tuple[int, int] = (2048, 2048), ratio: int | None = 1,
               res: str = "2k", submit_id: str | None = None) -> dict[str, Any]:  # fmt: skip
    core = image_core(prompt, model, size[0], size[1], ratio, res)
    generate = {"type": "", "id": _u(), "core_param": core, "history_option": {"type": "", "id": _u()}}
    return draft_body(_component("generate", {"generate": generate}), model, submit_id)


def blend_body(prompt: str, uris: list[str], *, model: str = V40) -> dict[str, Any]:
    core = image_core("##" * len(uris) + prompt, model, 2048, 2048, 1, "2k")
    del core["negative_prompt"], core["seed"]
    entries = [{"type": "", "id": _u(), "name": "byte_edit", "image_uri_list": [uri], "strength": 0.5,
                "image_list": [{"type": "image", "id": _u(), "source_from": "upload", "platform_type": 1,
                                "name": "", "image_uri": uri, "width": 0, "height": 0, "format": "", "uri": uri}]}
               for uri in uris]  # fmt: skip
    blend = {"type": "", "id": _u(), "min_version": "3.2.9", "min_features": [], "core_param": core,
             "ability_list": entries,
             "prompt_placeholder_info_list": [{"type": "", "id": _u(), "ability_index": i} for i in range(len(uris))],
             "postedit_param": {"type": "", "id": _u(), "generate_type": 0}}  # fmt: skip
    return draft_body(_component("blend", {"blend": blend}), model)


def video_body(prompt: str, *, ratio: str = "16:9", duration_ms: int = 5000, first_frame: str | None = None,
               resolution: str = "720p", model: str = VIDEO_MODEL) -> dict[str, Any]:  # fmt: skip
    inputs: dict[str, Any] = {"duration_ms": duration_ms, "fps": 24, "id": _u(), "min_version": "3.0.5",
                              "prompt": prompt, "resolution": resolution, "type": "", "video_mode": 2}  # fmt: skip
    if first_frame:
        inputs["first_frame_image"] = {"format": "", "height": 720, "id": _u(), "image_uri": first_frame, "name": "",
                                       "platform_type": 1, "source_from": "upload", "type": "image",
                                       "uri": first_frame, "width": 1280}  # fmt: skip
    params = {"type": "", "id": _u(), "model_req_key": model, "priority": 0, "seed": 2534567890,
              "video_aspect_ratio": ratio, "video_gen_inputs": [inputs]}  # fmt: skip
    gen_video = {"id": _u(), "type": "", "text_to_video_params": params, "video_task_extra": "{}"}
    component = _component("gen_video", {"gen_video": gen_video})
    component.update(type="video_base_component", min_version="1.0.0")
    return draft_body(component, model)


class Wire:
    """One account talking to the emulator the way the document says a client does."""

    def __init__(self, base_url: str, sessionid: str, http: requests.Session) -> None:
        self.base_url, self.sessionid, self.http = base_url, sessionid, http

    def call(self, path: str, body: Any = None, *, device_time: int | None = None, sign_value: str | None = None,
             params: list[tuple[str, str]] | None = None, headers: dict[str, str] | None = None,
             raw: bytes | None = None) -> requests.Response:  # fmt: skip
        now = int(time.time()) if device_time is None else device_time
        hdrs = {"Appid": "513695", "Appvr": "1.0.0", "Pf": "7", "Sign-Ver": "1", "Device-Time": str(now),
                "Sign": sign_value or sign(path, str(now)), "Cookie": cookie(self.sessionid, now)}  # fmt: skip
        hdrs.update(headers or {})
        query = urlencode(COMMON_PARAMS if params is None else params)
        url = f"{self.base_url}{path}?{query}"
        if raw is not None:
            return self.http.post(url, data=raw, headers=hdrs, timeout=10)
        if body is None:
            return self.http.post(url, headers=hdrs, timeout=10)
        return self.http.post(url, json=body, headers=hdrs, timeout=10)

    def ok(self, path: str, body: Any = None) -> Any:
        """Call and require ret "0"; returns data."""
        answer = self.call(path, body).json()
        assert answer["ret"] == "0", answer
        return answer["data"]

    def credits(self) -> dict[str, int]:
        return self.ok("/commerce/v1/benefits/user_credit", {})["credit"]

    def generate(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("/mweb/v1/aigc_draft/generate", body).json()

    def submit(self, body: dict[str, Any]) -> str:
        return self.ok("/mweb/v1/aigc_draft/generate", body)["aigc_data"]["history_record_id"]

    def history(self, history_ids: list[str] | None = None, submit_ids: list[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"history_ids": history_ids or []}
        if submit_ids is not None:
            body["submit_ids"] = submit_ids
        return self.ok("/mweb/v1/get_history_by_ids", body)

    def wait(self, history_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = self.history([history_id]).get(history_id)
            if record and record["status"] in (30, 50):
                return record
            time.sleep(0.05)
        raise AssertionError(f"{history_id} did not finish within {timeout}s")

    def imagex(self, token: dict[str, str], method: str, params: list[tuple[str, str]], body: bytes = b"",
               amz_date: str | None = None, secret: str | None = None) -> requests.Response:  # fmt: skip
        query = urlencode(params)
        headers = {"x-amz-date": amz_date or amz_now(), "x-amz-security-token": token["session_token"]}
        if body:
            headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
        auth = sigv4(method, query, headers, secret or token["secret_access_key"], token["access_key_id"], body)
        hdrs = {**headers, "authorization": auth}
        if body:
            hdrs["content-type"] = "application/json"
        return self.http.request(method, f"{self.base_url}/?{query}", data=body or None, headers=hdrs, timeout=10)

    def apply(self, token: dict[str, str], size: int) -> dict[str, Any]:
        params = [("Action", "ApplyImageUpload"), ("Version", "2018-08-01"), ("ServiceId", token["service_id"]),
                  ("FileSize", str(size)), ("s", "k3j9x0abcd")]  # fmt: skip
        answer = self.imagex(token, "GET", params)
        assert answer.status_code == 200, answer.text
        return answer.json()["Result"]["UploadAddress"]

    def put_bytes(self, address: dict[str, Any], data: bytes, crc: str | None = None) -> requests.Response:
        store = address["StoreInfos"][0]
        headers = {"Authorization": store["Auth"], "Content-CRC32": crc or f"{zlib.crc32(data):08x}",
                   "Content-Type": "application/octet-stream"}  # fmt: skip
        url = f"http://{address['UploadHosts'][0]}/upload/v1/{store['StoreUri']}"
        return self.http.post(url, data=data, headers=headers, timeout=10)

    def commit(self, token: dict[str, str], session_key: str) -> requests.Response:
        params = [("Action", "CommitImageUpload"), ("Version", "2018-08-01"), ("ServiceId", token["service_id"])]
        body = json.dumps({"SessionKey": session_key, "SuccessActionStatus": "200"}, separators=(",", ":"))
        return self.imagex(token, "POST", params, body.encode())

    def upload(self, data: bytes) -> str:
        """The four steps of section 9; returns the committed image URI."""
        token = self.ok("/mweb/v1/get_upload_token", {"scene": 2})
        address = self.apply(token, len(data))
        assert self.put_bytes(address, data).status_code == 200
        answer = self.commit(token, address["SessionKey"])
        assert answer.status_code == 200, answer.text
        return answer.json()["Result"]["PluginResult"][0]["ImageUri"]
