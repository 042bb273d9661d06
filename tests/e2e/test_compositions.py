"""POST /v1/images/compositions and /v1/images/edits: inputs, limits, the address guard, upload faults."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from openai import OpenAI

from tests.e2e.conftest import Api, assert_error, data_uri, png_bytes
from tests.local_http import answer, scripted_server


def test_data_uri_and_url_make_one_composition_with_both_uploads(api: Api, image_host: tuple[str, list[str]]) -> None:
    host, hits = image_host
    body = {"prompt": "blend them", "images": [data_uri(png_bytes()), f"{host}/cat.png"], "ratio": "4:3"}
    response = api.post("/v1/images/compositions", body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert len(result["data"]) == 4
    assert result["input_images"] == 2
    assert result["composition_type"] == "multi_image_synthesis"
    generation = api.generations()[result["history_id"]]
    assert generation["kind"] == "blend"
    assert len(generation["image_uris"]) == 2
    assert generation["hash_prefix_ok"] is True
    assert hits == ["/cat.png"]
    assert api.stats()["totals"]["uploads_committed"] == 2


def test_object_form_and_async(api: Api) -> None:
    body = {"prompt": "blend", "images": [{"url": data_uri(png_bytes())}], "async": True}
    response = api.post("/v1/images/compositions", body)
    assert response.status_code == 202, response.text
    assert response.json()["history_id"] in api.generations()


def test_multipart_files_with_form_fields(api: Api) -> None:
    files = [("image[]", ("a.png", png_bytes(), "image/png")), ("image[]", ("b.png", png_bytes(4, 4), "image/png"))]
    response = requests.post(
        f"{api.url}/v1/images/edits",
        data={"prompt": "mix", "n": "2", "response_format": "url"},
        files=files,
        headers={"Authorization": f"Bearer {api.token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.json()["input_images"] == 2
    assert len(response.json()["data"]) == 2


def test_openai_sdk_images_edit(api: Api) -> None:
    client = OpenAI(base_url=f"{api.url}/v1", api_key=api.token, max_retries=0)
    result = client.images.edit(image=("cat.png", png_bytes(), "image/png"), prompt="make it blue", model="jimeng-4.0")
    assert result.data is not None and len(result.data) == 4
    assert result.data[0].url is not None and result.data[0].url.startswith("http://127.0.0.1")


@pytest.mark.parametrize(
    ("images", "status", "code", "param"),
    [
        ([], 400, "invalid_value", "images"),
        ([data_uri(png_bytes())] * 11, 400, "too_many_images", "images"),
        ([data_uri(png_bytes()), data_uri(b"just text", "image/png")], 400, "unsupported_image", "images[1]"),
        ([data_uri(b"%PDF-1.4 not an image", "image/png")], 400, "unsupported_image", "images[0]"),
        (["ftp://example.com/a.png"], 400, "invalid_value", "images[0]"),
        ([42], 400, "invalid_value", "images[0]"),
    ],
)
def test_bad_inputs_are_refused_before_anything_is_submitted(
    api: Api, images: list[object], status: int, code: str, param: str
) -> None:
    error = assert_error(api.post("/v1/images/compositions", {"prompt": "x", "images": images}), status, code)
    assert error["param"] == param
    assert api.submits() == 0


def test_missing_images_field_is_missing_field(api: Api) -> None:
    error = assert_error(api.post("/v1/images/compositions", {"prompt": "x"}), 400, "missing_field")
    assert error["param"] == "images"


def test_oversized_image_is_413(start_api: Callable[..., Api]) -> None:
    api = start_api(max_image_bytes=2048)
    big = png_bytes(200, 200) + b"\0" * 4096
    error = assert_error(
        api.post("/v1/images/compositions", {"prompt": "x", "images": [data_uri(big)]}), 413, "request_too_large"
    )
    assert error["param"] == "images[0]"
    assert api.submits() == 0


def test_unreachable_url_is_image_fetch_failed_naming_the_url(api: Api, image_host: tuple[str, list[str]]) -> None:
    host, _ = image_host
    error = assert_error(
        api.post("/v1/images/compositions", {"prompt": "x", "images": [f"{host}/missing.png"]}),
        400,
        "image_fetch_failed",
    )
    assert "/missing.png" in error["message"]
    assert "404" in error["message"]


def test_guard_refuses_loopback_urls_before_fetching_them(
    start_api: Callable[..., Api], image_host: tuple[str, list[str]]
) -> None:
    host, hits = image_host
    api = start_api(allow_private_image_urls=False)
    error = assert_error(
        api.post("/v1/images/compositions", {"prompt": "x", "images": [f"{host}/cat.png"]}), 400, "image_fetch_failed"
    )
    assert "127.0.0.1" in error["message"]
    assert hits == []
    assert api.submits() == 0


@pytest.mark.parametrize(
    ("group", "kind"),
    [(group, kind) for group in ("imagex", "upload") for kind in ("http_502", "reset", "truncate")],
)
def test_upload_faults_still_end_in_exactly_one_generation(api: Api, group: str, kind: str) -> None:
    api.emulator.configure(fault_seed=11, faults={group: {kind: 0.4}})
    images = [data_uri(png_bytes()), data_uri(png_bytes(5, 9))]
    response = api.post("/v1/images/compositions", {"prompt": "x", "images": images})
    assert response.status_code == 200, response.text
    stats = api.stats()
    assert stats["totals"]["generations_created"] == 1
    assert len(stats["generations"][response.json()["history_id"]]["image_uris"]) == 2


# -- a client that hangs up before the submit -------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/images/compositions", lambda url: {"prompt": "blend", "images": [url]}),
        ("/v1/chat/completions", lambda url: chat_with_image(url, stream=False)),
        ("/v1/chat/completions", lambda url: chat_with_image(url, stream=True)),
    ],
    ids=["composition", "chat", "chat-stream"],
)
def test_a_client_gone_while_its_input_image_was_fetched_gets_nothing_submitted(
    api: Api, log_lines: list[str], path: str, body: Callable[[str], dict[str, Any]]
) -> None:
    with scripted_server() as images:
        fetched = threading.Event()

        def slow_png(handler: BaseHTTPRequestHandler) -> None:
            images.stop.wait(1.0)  # the client hangs up meanwhile
            answer(200, png_bytes(), {"Content-Type": "image/png"})(handler)
            fetched.set()

        images.routes["/slow.png"] = slow_png
        payload = json.dumps(body(f"{images.base}/slow.png")).encode()
        with socket.create_connection(("127.0.0.1", urlsplit(api.url).port or 80), timeout=10) as sock:
            head = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {api.token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
            )
            sock.sendall(head.encode() + payload)
            time.sleep(0.3)
        assert fetched.wait(5), "the service never fetched the input image"
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not any("nothing was submitted" in line for line in log_lines):
            time.sleep(0.05)
    if not body("x").get("stream"):  # a stream may also end at its first write, before the submit
        assert any("nothing was submitted" in line for line in log_lines)
    stats = api.stats()
    assert stats["totals"].get("generations_created", 0) == 0
    assert stats["requests"]["by_path"].get("/mweb/v1/aigc_draft/generate", 0) == 0


def chat_with_image(url: str, *, stream: bool) -> dict[str, Any]:
    content = [{"type": "text", "text": "blend"}, {"type": "image_url", "image_url": {"url": url}}]
    return {"model": "jimeng-4.0", "stream": stream, "messages": [{"role": "user", "content": content}]}
