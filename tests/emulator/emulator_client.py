"""A tiny protocol client written in the tests from the 2026 protocol notes' worked examples.

Deliberately independent of app/jimeng and of app/emulator: signing, cookie, query sets, drafts and SigV4
are re-derived here so that the emulator is checked against the document, not against itself.
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
APPVR = "8.4.0"
DA_VERSION = "3.3.28"
QUERY_A = [
    ("aid", "513695"), ("device_platform", "web"), ("region", "cn"), ("webId", WEB_ID), ("da_version", DA_VERSION),
    ("web_version", "7.5.0"), ("aigc_features", "app_lip_sync"),
]  # fmt: skip
GENERATE_EXTRA = [("os", "windows"), ("web_component_open_flag", "1")]
GENERATE = "/mweb/v1/aigc_draft/generate"
HISTORY = "/mweb/v1/get_history_by_ids"
USER_CREDIT = "/commerce/v1/benefits/user_credit"
CREDIT_REFERER = "https://jimeng.jianying.com/ai-tool/image/generate"
V50 = "high_aes_general_v50"
S20 = "dreamina_seedance_40_pro"
S20_BENEFIT = "dreamina_video_seedance_20_pro"
TERMINAL = (10, 30, 40, 50, 100)


def sign(path: str, device_time: str, pf: str = "7", appvr: str = APPVR, tdid: str = "") -> str:
    """2026 notes 2.2."""
    return hashlib.md5(f"9e2c|{path[-7:]}|{pf}|{appvr}|{device_time}|{tdid}|11ac".encode()).hexdigest()


def cookie(sessionid: str) -> str:
    """Only ``sessionid`` identifies the account; ``_tea_web_id`` equals the ``webId`` query (2.5)."""
    return f"_tea_web_id={WEB_ID}; sessionid={sessionid}; sessionid_ss={sessionid}; sid_tt={sessionid}"


def default_params(path: str) -> list[tuple[str, str]]:
    """2.4: nothing on /commerce, set A elsewhere, plus os and the flag on generate."""
    if path.startswith("/commerce/"):
        return []
    return QUERY_A + GENERATE_EXTRA if path == GENERATE else list(QUERY_A)


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sigv4(method: str, query: str, headers: dict[str, str], secret: str, access_key: str, body: bytes) -> str:
    """Baseline 9.6: the Authorization header for an ImageX request (headers: lower-case, to be signed)."""
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


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def gen_option(count: int) -> dict[str, Any]:
    return {"type": "", "id": _u(), "gen_count": count, "generate_all": False}


def image_core(prompt: str, model: str, width: int, height: int, ratio: int | None, res: str) -> dict[str, Any]:
    core = {"type": "", "id": _u(), "model": model, "prompt": prompt, "negative_prompt": "", "seed": 1357613421,
            "sample_strength": 0.5, "image_ratio": ratio,
            "large_image_info": {"type": "", "id": _u(), "height": height, "width": width, "resolution_type": res},
            "intelligent_ratio": False, "generate_type": 0}  # fmt: skip
    if ratio is None:
        del core["image_ratio"]
    return core


def _component(generate_type: str, abilities: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "image_base_component", "id": _u(), "min_version": "3.0.2", "aigc_mode": "workbench",
            "metadata": {"type": "", "id": _u(), "created_platform": 3, "created_platform_version": "",
                         "created_time_in_ms": "1790000000123", "created_did": ""},
            "generate_type": generate_type, "abilities": {"type": "", "id": _u(), **abilities}, **extra}  # fmt: skip


def draft_body(component: dict[str, Any], root_model: str, submit_id: str | None = None, *,
               version: str = DA_VERSION, min_version: str = "3.0.2",
               extend: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    draft = {"type": "draft", "id": _u(), "min_version": min_version, "min_features": [], "is_from_tsn": True,
             "version": version, "main_component_id": component["id"], "component_list": [component]}  # fmt: skip
    submit_id = submit_id or _u()
    metrics = {"promptSource": "custom", "generateCount": 1, "enterFrom": "click", "position": "page_bottom_box",
               "isBoxSelect": False, "isCutout": False, "generateId": submit_id, "isRegenerate": False}  # fmt: skip
    return {"extend": {"root_model": root_model, **(extend or {})}, "submit_id": submit_id,
            "metrics_extra": _compact(metrics), "draft_content": _compact(draft),
            "http_common_info": {"aid": 513695}}  # fmt: skip


def image_body(prompt: str, *, model: str = V50, size: tuple[int, int] = (2048, 2048), ratio: int | None = 1,
               res: str = "2k", count: int | None = None, placement: str = "abilities",
               submit_id: str | None = None, version: str = DA_VERSION) -> dict[str, Any]:  # fmt: skip
    """3.4: ``gen_option`` as a sibling of ``generate`` (``placement="generate"`` nests it, as iptag did)."""
    generate: dict[str, Any] = {"type": "", "id": _u(), "core_param": image_core(prompt, model, *size, ratio, res)}
    abilities: dict[str, Any] = {"generate": generate}
    if count is not None:
        (abilities if placement == "abilities" else generate)["gen_option"] = gen_option(count)
    return draft_body(_component("generate", abilities), model, submit_id, version=version)


def _image_object(uri: str) -> dict[str, Any]:
    return {"type": "image", "id": _u(), "source_from": "upload", "platform_type": 1, "name": "", "image_uri": uri,
            "width": 0, "height": 0, "format": "", "uri": uri}  # fmt: skip


def blend_body(prompt: str, uris: list[str], *, model: str = V50, one_ability: bool = True,
               count: int | None = None) -> dict[str, Any]:  # fmt: skip
    """3.5: one ``byte_edit`` ability listing every image, or (iptag) one ability per image."""
    core = image_core("##" * len(uris) + prompt, model, 2048, 2048, 1, "2k")
    groups = [uris] if one_ability else [[uri] for uri in uris]
    entries = [{"type": "", "id": _u(), "name": "byte_edit", "image_uri_list": group, "strength": 0.5,
                "image_list": [_image_object(uri) for uri in group]} for group in groups]  # fmt: skip
    blend = {"type": "", "id": _u(), "min_features": [], "core_param": core, "ability_list": entries,
             "history_option": {"type": "", "id": _u()},
             "prompt_placeholder_info_list": [{"type": "", "id": _u(), "ability_index": 0}],
             "postedit_param": {"type": "", "id": _u(), "generate_type": 0}}  # fmt: skip
    abilities: dict[str, Any] = {"blend": blend}
    if count is not None:
        abilities["gen_option"] = gen_option(count)
    return draft_body(_component("blend", abilities, gen_type=12), model)


def post_edit_body(tool: str, *, uri: str | None = None, item: tuple[int, int] | None = None, model: str = V50,
                   count: int | None = 1, extra: dict[str, Any] | None = None,
                   gen_type: int | None = None) -> dict[str, Any]:  # fmt: skip
    """2026 8.2 (an uploaded image) and 8.3 (an earlier result's item and record): one component whose
    ``generate_type`` and ability key name the tool; ``extra`` goes beside ``postedit_param``."""
    numbers = {"normal_hd": (13, 13), "pro_hd": (35, 35), "painting": (8, 8), "super_resolution": (None, 2)}[tool]
    postedit: dict[str, Any] = {"type": "", "id": _u(), "generate_type": numbers[1]}
    ability: dict[str, Any] = {"type": "", "id": _u()}
    if uri is not None:
        postedit["origin_image"] = _image_object(uri)
    if item is not None:
        postedit |= {"item_id": item[0], "origin_history_id": item[1]}
        ability["core_param"] = {"type": "", "id": _u(), "generate_type": 0}
    ability |= {"postedit_param": postedit, **(extra or {})}
    abilities: dict[str, Any] = {tool: ability}
    if count is not None:
        abilities["gen_option"] = gen_option(count)
    chosen = gen_type if gen_type is not None else numbers[0]
    component = _component(tool, abilities, **({"gen_type": chosen} if chosen is not None else {}))
    return draft_body(component, model, min_version="3.2.9")


def commerce(benefit: str, amount: float | None = 5) -> dict[str, Any]:
    info: dict[str, Any] = {"benefit_type": benefit, "resource_id": "generate_video", "resource_id_type": "str",
                            "resource_sub_type": "aigc"}  # fmt: skip
    if amount is not None:
        info["amount"] = amount
    return {"m_video_commerce_info": info, "m_video_commerce_info_list": [dict(info)]}


def video_body(prompt: str, *, model: str = S20, benefit: str = S20_BENEFIT, ratio: str = "16:9",
               duration_ms: int = 5000, resolution: str | None = "720p", first_frame: str | None = None,
               end_frame: str | None = None, min_version: str = "3.0.5", process_type: int | None = 1,
               amount: float | None = 5, draft_mode: bool = False) -> dict[str, Any]:  # fmt: skip
    """4.3-4.6: the 2026 video draft with ``process_type: 1`` and the commerce info in ``extend``."""
    inputs: dict[str, Any] = {"type": "", "id": _u(), "min_version": "3.0.5", "prompt": prompt, "video_mode": 2,
                              "fps": 24, "duration_ms": duration_ms, "idip_meta_list": []}  # fmt: skip
    if resolution is not None:
        inputs["resolution"] = resolution
    for key, uri in (("first_frame_image", first_frame), ("end_frame_image", end_frame)):
        if uri:
            inputs[key] = {**_image_object(uri), "aigc_image": {"type": "", "id": _u()}, "width": 1280, "height": 720}
    if end_frame:
        inputs["ending_control"] = "1.0"
    if draft_mode:
        inputs["is_draft_mode"] = True
    params = {"type": "", "id": _u(), "video_gen_inputs": [inputs], "video_aspect_ratio": ratio,
              "seed": 3116626725, "model_req_key": model, "priority": 0}  # fmt: skip
    gen_video = {"type": "", "id": _u(), "text_to_video_params": params, "video_task_extra": "{}"}
    component = _component("gen_video", {"gen_video": gen_video}, process_type=process_type)
    component.update(type="video_base_component", min_version="1.0.0")
    if process_type is None:
        del component["process_type"]
    return draft_body(component, model, min_version=min_version, extend=commerce(benefit, amount))


class Wire:
    """One account talking to the emulator the way the document says a client does."""

    def __init__(self, base_url: str, sessionid: str, http: requests.Session) -> None:
        self.base_url, self.sessionid, self.http = base_url, sessionid, http

    def call(self, path: str, body: Any = None, *, device_time: int | None = None, sign_value: str | None = None,
             params: list[tuple[str, str]] | None = None, headers: dict[str, str] | None = None,
             raw: bytes | None = None) -> requests.Response:  # fmt: skip
        now = int(time.time()) if device_time is None else device_time
        referer = CREDIT_REFERER if path == USER_CREDIT else "https://jimeng.jianying.com/ai-tool/generate?type=image"
        hdrs = {"Appid": "513695", "Appvr": APPVR, "Pf": "7", "Sign-Ver": "1", "Device-Time": str(now),
                "Sign": sign_value or sign(path, str(now)), "Tdid": "", "App-Sdk-Version": "48.0.0",
                "Lan": "zh-Hans", "Loc": "cn", "Referer": referer, "Cookie": cookie(self.sessionid)}  # fmt: skip
        hdrs.update(headers or {})
        query = urlencode(default_params(path) if params is None else params)
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
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
        return self.ok(USER_CREDIT, {})["credit"]

    def generate(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call(GENERATE, body).json()

    def submit(self, body: dict[str, Any]) -> str:
        return self.ok(GENERATE, body)["aigc_data"]["history_record_id"]

    def history(self, history_ids: list[str] | None = None, submit_ids: list[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if history_ids is not None:
            body["history_ids"] = history_ids
        if submit_ids is not None:
            body["submit_ids"] = submit_ids
        return self.ok(HISTORY, body)

    def wait(self, history_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = self.history([history_id]).get(history_id)
            if record and record["task"]["status"] in TERMINAL:
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
        """The four steps of baseline section 9; returns the committed image URI."""
        token = self.ok("/mweb/v1/get_upload_token", {"scene": 2})
        address = self.apply(token, len(data))
        assert self.put_bytes(address, data).status_code == 200
        answer = self.commit(token, address["SessionKey"])
        assert answer.status_code == 200, answer.text
        return answer.json()["Result"]["PluginResult"][0]["ImageUri"]
