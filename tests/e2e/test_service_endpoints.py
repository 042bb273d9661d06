"""The service endpoints that need no upstream call, over real HTTP."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable

import pytest
import requests
from openapi_spec_validator import validate

from app import create_app
from app.api.openapi import undocumented_endpoints
from config.settings import settings_for_tests
from tests.support import ROOT, gunicorn_server

ERROR_KEYS = {"message", "type", "param", "code", "history_id"}


def assert_error(response: requests.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == ERROR_KEYS
    assert error["code"] == code
    return error


@pytest.fixture
def base_url(live_server: Callable[..., str]) -> str:
    return live_server(max_body_bytes=4096)


def test_ping_answers_pong_as_plain_text(base_url: str) -> None:
    response = requests.get(f"{base_url}/ping", timeout=5)
    assert response.status_code == 200
    assert response.text == "pong"
    assert response.headers["Content-Type"].startswith("text/plain")


def test_healthz_reports_status_and_version(base_url: str) -> None:
    body = requests.get(f"{base_url}/healthz", timeout=5).json()
    assert body["status"] == "ok"
    assert body["version"]


def test_welcome_page_lists_endpoints_and_a_curl_example(base_url: str) -> None:
    response = requests.get(f"{base_url}/", timeout=5)
    assert response.headers["Content-Type"].startswith("text/html")
    assert "/v1/images/generations" in response.text
    assert "curl" in response.text


def test_models_list_has_every_model_of_the_contract(base_url: str) -> None:
    body = requests.get(f"{base_url}/v1/models", timeout=5).json()
    assert body["object"] == "list"
    ids = {m["id"] for m in body["data"]}
    assert {"jimeng-5.0", "jimeng-4.0", "jimeng-3.1", "jimeng-video-seedance-2.5", "jimeng-video-wan-3.0"} <= ids
    assert len(ids) == 23
    for model in body["data"]:
        assert model["object"] == "model"
        assert model["owned_by"] == "jimeng"
        assert model["type"] in ("image", "video")
        assert model["capabilities"]["type"] == model["type"]


def test_one_model_and_an_unknown_model(base_url: str) -> None:
    model = requests.get(f"{base_url}/v1/models/jimeng-video-3.0-pro", timeout=5).json()
    assert (model["id"], model["root"], model["type"]) == (
        "jimeng-video-3.0-pro",
        "jimeng-video-seedance-1.0-pro",
        "video",
    )
    assert_error(requests.get(f"{base_url}/v1/models/gpt-4", timeout=5), 404, "not_found")


def test_unknown_route_is_404_and_wrong_method_is_405(base_url: str) -> None:
    assert_error(requests.get(f"{base_url}/v1/nothing", timeout=5), 404, "not_found")
    response = requests.delete(f"{base_url}/v1/models", timeout=5)
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_oversized_body_is_413_before_anything_reads_it(base_url: str) -> None:
    response = requests.post(f"{base_url}/v1/models", data=b"x" * 10_000, timeout=5)
    assert_error(response, 413, "request_too_large")


def test_request_id_is_echoed_or_minted(base_url: str) -> None:
    echoed = requests.get(f"{base_url}/ping", headers={"X-Request-Id": "abc-123"}, timeout=5)
    assert echoed.headers["X-Request-Id"] == "abc-123"
    minted = requests.get(f"{base_url}/ping", headers={"X-Request-Id": "bad id!"}, timeout=5)
    assert minted.headers["X-Request-Id"] not in ("", "bad id!")


def test_openapi_is_valid_3_1_and_lists_models(base_url: str) -> None:
    spec = requests.get(f"{base_url}/openapi.json", timeout=5).json()
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert "/v1/models" in spec["paths"]
    assert "/v1/models/{model_id}" in spec["paths"]
    assert spec["paths"]["/v1/models/{model_id}"]["get"]["parameters"][0]["name"] == "model_id"
    video = spec["components"]["schemas"]["VideoGeneration"]["properties"]
    assert (
        video["duration"]["enum"] == list(range(4, 16)) and "jimeng-video-seedance-2.0-fast" in video["model"]["enum"]
    )
    assert "21:9" in spec["components"]["schemas"]["ImageGeneration"]["properties"]["ratio"]["enum"]
    for path in ("/v1/images/generations", "/v1/images/edits", "/v1/images/compositions"):
        answer = spec["paths"][path]["post"]["responses"]["200"]["content"]
        assert set(answer) == {"application/json", "text/event-stream"}
        assert answer["text/event-stream"]["schema"] == {"$ref": "#/components/schemas/ImageStreamEvent"}
    assert "stream" in spec["components"]["schemas"]["ImageCompositionForm"]["properties"]
    chat = spec["components"]["schemas"]["ChatCompletion"]["properties"]
    assert "stream_options" in chat


def test_openapi_covers_output_format_mask_size_auto_and_the_models_root() -> None:
    spec = create_app(settings_for_tests(log_level="WARNING")).test_client().get("/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for name in ("ImageGeneration", "ImageComposition", "ImageCompositionForm"):
        assert schemas[name]["properties"]["output_format"]["enum"] == ["png", "jpeg", "webp"]
        assert schemas[name]["properties"]["output_compression"]["maximum"] == 100
        assert "auto" in schemas[name]["properties"]["size"]["description"]
    assert "unsupported_parameter" in schemas["ImageComposition"]["properties"]["mask"]["description"]
    assert {"output_format", "size", "background"} <= set(schemas["ImagesResponse"]["properties"])
    assert "root" in schemas["Model"]["properties"]


def test_every_route_is_documented_in_openapi() -> None:
    assert undocumented_endpoints(create_app(settings_for_tests(log_level="WARNING"))) == []


def test_cors_preflight_and_headers_let_browser_clients_call(base_url: str) -> None:
    preflight = requests.options(
        f"{base_url}/v1/images/generations",
        headers={"Origin": "https://chat.example", "Access-Control-Request-Method": "POST"},
        timeout=5,
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    allowed = {h.strip().lower() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "idempotency-key"} <= allowed  # a browser may send its own idempotency keys
    assert requests.get(f"{base_url}/v1/models", timeout=5).headers["Access-Control-Allow-Origin"] == "*"
    exposed = {h.strip().lower() for h in preflight.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"x-request-id", "x-should-retry", "retry-after"} <= exposed  # readable by browser clients


def test_cors_preflight_allows_the_headers_the_openai_js_sdk_sends(base_url: str) -> None:
    """Chromium blocks a request whose headers the preflight did not allow: the SDK sends x-stainless-* always."""
    asked = (
        "x-stainless-os, x-stainless-retry-count, x-stainless-lang, authorization, content-type, openai-organization"
    )
    preflight = requests.options(
        f"{base_url}/v1/chat/completions",
        headers={
            "Origin": "https://chat.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": asked,
        },
        timeout=5,
    )
    assert preflight.status_code == 200
    allowed = {h.strip().lower() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")}
    assert {h.strip() for h in asked.split(",")} <= allowed
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]  # named, never only "*"
    assert "access-control-request-headers" in preflight.headers["Vary"].lower()


def test_gunicorn_config_uses_gevent_workers() -> None:
    command = [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "--print-config", "wsgi:app"]
    printed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    assert re.search(r"^worker_class\s+= app\.gunicorn_worker\.JsonErrorGeventWorker$", printed, re.MULTILINE)
    assert re.search(r"^preload_app\s+= False$", printed, re.MULTILINE)


def test_procfile_command_serves_with_gevent_workers(tmp_path: object) -> None:
    with gunicorn_server({"WEB_CONCURRENCY": "1", "LOG_LEVEL": "INFO"}) as url:
        assert requests.get(f"{url}/ping", timeout=5).text == "pong"
        assert requests.get(f"{url}/healthz", timeout=5).json()["status"] == "ok"
        assert "jimeng-api" in requests.get(f"{url}/", timeout=5).text
        assert requests.get(f"{url}/v1/models/jimeng-4.0", timeout=5).json()["id"] == "jimeng-4.0"
        assert_error(requests.get(f"{url}/v1/models/nope", timeout=5), 404, "not_found")
        assert_error(requests.post(f"{url}/ping", timeout=5), 405, "method_not_allowed")
