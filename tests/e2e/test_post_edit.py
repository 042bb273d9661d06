"""POST /v1/images/upscale and /v1/images/outpaint against the emulator: inputs (URL, data URI, file, an
earlier result), the result's size, refusals before any paid call, async, idempotency, streams, the SDK."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
from openai import OpenAI
from openai.types import ImagesResponse
from PIL import Image

from tests.e2e.conftest import Api, assert_error, data_uri, png_bytes

GENERATE = "/mweb/v1/aigc_draft/generate"
HISTORY = "/mweb/v1/get_history_by_ids"


def image_size(b64: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(b64))) as image:
        return image.size


@pytest.fixture
def api(start_api: Callable[..., Api]) -> Api:
    return start_api(allow_private_image_urls=True)


def calls(api: Api, path: str) -> int:
    return int(api.stats().get("requests", {}).get("by_path", {}).get(path, 0))


def test_upscale_of_a_url_makes_the_image_twice_as_large(api: Api, image_host: tuple[str, list[str]]) -> None:
    host, hits = image_host
    response = api.post("/v1/images/upscale", {"image": f"{host}/40x30/cat.png", "response_format": "b64_json"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["data"]) == 1
    assert image_size(body["data"][0]["b64_json"]) == (80, 60)
    assert body["size"] == "80x60"
    generation = api.generations()[body["history_id"]]
    assert (generation["kind"], generation["width"], generation["height"]) == ("normal_hd", 80, 60)
    assert len(generation["image_uris"]) == 1
    assert hits == ["/40x30/cat.png"]


def test_upscale_of_a_multipart_file_with_mode_pro_hd(api: Api) -> None:
    response = requests.post(
        f"{api.url}/v1/images/upscale",
        data={"mode": "pro_hd", "resolution": "4k", "response_format": "b64_json"},
        files={"image": ("dog.png", png_bytes(50, 20), "image/png")},
        headers={"Authorization": f"Bearer {api.token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert image_size(body["data"][0]["b64_json"]) == (100, 40)
    generation = api.generations()[body["history_id"]]
    assert (generation["kind"], generation["resolution"]) == ("pro_hd", "4k")


def test_upscale_of_an_earlier_result_needs_no_upload(api: Api) -> None:
    first = api.post("/v1/images/generations", {"prompt": "a lighthouse", "n": 2})
    assert first.status_code == 200, first.text
    earlier = first.json()
    assert earlier["size"] == "2048x2048"
    response = api.post("/v1/images/upscale", {"image": {"history_id": earlier["history_id"], "index": 1}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["size"] == "4096x4096"
    generation = api.generations()[body["history_id"]]
    assert (generation["kind"], generation["width"]) == ("normal_hd", 4096)
    assert generation["image_uris"] == []
    assert api.stats()["totals"].get("uploads_committed", 0) == 0
    # 细节修复 runs on an earlier result (top-level history_id works too)
    detail = api.post("/v1/images/upscale", {"history_id": earlier["history_id"], "mode": "super_resolution"})
    assert detail.status_code == 200, detail.text
    assert api.generations()[detail.json()["history_id"]]["kind"] == "super_resolution"


def test_outpaint_to_a_ratio_and_by_a_padding(api: Api) -> None:
    response = api.post(
        "/v1/images/outpaint", {"image": data_uri(png_bytes(60, 60)), "ratio": "16:9", "response_format": "b64_json"}
    )
    assert response.status_code == 200, response.text
    width, height = image_size(response.json()["data"][0]["b64_json"])
    assert height == 60
    assert abs(width / height - 16 / 9) < 0.02
    assert api.generations()[response.json()["history_id"]]["kind"] == "painting"
    padded = api.post("/v1/images/outpaint", {"image": data_uri(png_bytes(40, 20)), "padding": 0.5, "n": 2})
    assert padded.status_code == 200, padded.text
    assert padded.json()["size"] == "80x40"
    assert len(padded.json()["data"]) == 2


@pytest.mark.parametrize(
    ("path", "body", "code", "param"),
    [
        ("/v1/images/upscale", {}, "missing_field", "image"),
        ("/v1/images/upscale", {"image": "DATA", "mode": "ultra"}, "invalid_value", "mode"),
        ("/v1/images/upscale", {"image": "DATA", "mode": "super_resolution"}, "invalid_value", "image"),
        ("/v1/images/upscale", {"image": {"history_id": "abc"}}, "invalid_value", "image.history_id"),
        ("/v1/images/upscale", {"image": "DATA", "n": 2}, "invalid_value", "n"),
        ("/v1/images/outpaint", {"image": "DATA"}, "missing_field", "ratio"),
        ("/v1/images/outpaint", {"image": "DATA", "ratio": "5:1"}, "invalid_value", "ratio"),
        ("/v1/images/outpaint", {"image": "DATA", "padding": 9}, "invalid_value", "padding.top"),
        ("/v1/images/outpaint", {"image": "DATA", "ratio": "1:1"}, "invalid_value", "ratio"),
    ],
)
def test_bad_input_is_refused_before_any_upstream_call(
    api: Api, path: str, body: dict[str, Any], code: str, param: str
) -> None:
    body = {**body, "image": data_uri(png_bytes(30, 30))} if body.get("image") == "DATA" else body
    error = assert_error(api.post(path, body), 400, code)
    assert error["param"] == param
    assert api.stats()["requests"].get("by_path", {}) == {}  # not one call: no look-up, no upload, no submit


def test_an_unknown_history_id_is_a_400_after_one_free_look_up(api: Api) -> None:
    error = assert_error(
        api.post("/v1/images/upscale", {"image": {"history_id": "12345678901234", "index": 0}}), 400, "invalid_value"
    )
    assert error["param"] == "image.history_id"
    assert calls(api, GENERATE) == 0
    assert calls(api, HISTORY) == 1
    first = api.post("/v1/images/generations", {"prompt": "one", "n": 1}).json()
    error = assert_error(
        api.post("/v1/images/upscale", {"history_id": first["history_id"], "index": 3}), 400, "invalid_value"
    )
    assert error["param"] == "image.index"
    assert calls(api, GENERATE) == 1


def test_async_task_and_idempotency_key(api: Api) -> None:
    body = {"image": data_uri(png_bytes(20, 20)), "async": True}
    headers = {"Idempotency-Key": "upscale-1"}
    accepted = api.post("/v1/images/upscale", body, headers=headers)
    assert accepted.status_code == 202, accepted.text
    again = api.post("/v1/images/upscale", body, headers={"Idempotency-Key": "upscale-1"})
    assert again.status_code == 202, again.text
    assert again.json()["history_id"] == accepted.json()["history_id"]
    assert calls(api, GENERATE) == 1
    task_id = accepted.json()["id"]
    for _ in range(200):
        task = api.get(f"/v1/tasks/{task_id}").json()
        if task["status"] in ("succeeded", "failed"):
            break
        threading.Event().wait(0.05)
    assert task["status"] == "succeeded", task
    assert len(task["data"]) == 1


def test_stream_sends_an_image_edit_event(api: Api) -> None:
    response = api.post("/v1/images/upscale", {"image": data_uri(png_bytes(16, 16)), "stream": True}, stream=True)
    assert response.status_code == 200, response.text
    events = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")]
    assert [event["type"] for event in events] == ["image_edit.completed"]
    assert events[0]["size"] == "32x32"


def test_openai_sdk_post(api: Api) -> None:
    client = OpenAI(base_url=f"{api.url}/v1", api_key=api.token, max_retries=0)
    result = client.post(
        "/images/upscale",
        body={"image": data_uri(png_bytes(10, 10)), "response_format": "b64_json"},
        cast_to=ImagesResponse,
    )
    assert result.data is not None and result.data[0].b64_json is not None
    assert image_size(result.data[0].b64_json) == (20, 20)


def test_watermark_free_results_by_default_and_the_standard_links_on_request(start_api: Callable[..., Api]) -> None:
    clean = start_api().post("/v1/images/generations", {"prompt": "x", "n": 1})
    assert clean.status_code == 200, clean.text
    assert "~tplv-wm" not in clean.json()["data"][0]["url"]
    standard = start_api(prefer_watermark_free=False).post("/v1/images/generations", {"prompt": "x", "n": 1})
    assert standard.status_code == 200, standard.text
    assert "~tplv-wm" in standard.json()["data"][0]["url"]
