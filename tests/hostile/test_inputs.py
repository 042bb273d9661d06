"""Hostile inputs end to end: each is a 4xx in the contract's error shape, answered before anything reaches
Jimeng (the emulator counts every request), never a 500 or a hang.

Runs the in-process app against the emulator with the fixtures of tests/e2e (``conftest.py`` here).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Api, assert_error
from tests.images import image_bytes

IMAGES = "/v1/images/generations"
EDITS = "/v1/images/edits"
COMPOSITIONS = "/v1/images/compositions"
VIDEOS = "/v1/videos/generations"
CHAT = "/v1/chat/completions"
MB = 1024 * 1024
INTERNALS = ("Error(", "Traceback", "sys.set_int_max_str_digits", "app/", ".py", "Errno")


def user(content: Any, model: str | None = "jimeng-4.0") -> dict[str, Any]:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": content}]}
    return {**body, "model": model} if model else body


def refused(api: Api, response: requests.Response, status: int, code: str, param: str | None) -> dict[str, Any]:
    """The contract's 4xx, plain words, and not one call to Jimeng."""
    error = assert_error(response, status, code)
    assert error["param"] == param, error
    assert not any(mark in error["message"] for mark in INTERNALS), error["message"]
    assert len(error["message"]) < 600
    assert api.stats()["requests"]["total"] == 0
    return error


JSON_CASES = [
    # sizes and model suffixes whose numbers used to reach int()/math: 500s before
    (IMAGES, {"prompt": "cat", "size": "9" * 400 + "x1"}, "invalid_value", "size"),
    (IMAGES, {"prompt": "cat", "size": "1x" + "9" * 400}, "invalid_value", "size"),
    (IMAGES, {"prompt": "cat", "size": "00x10"}, "invalid_value", "size"),
    (CHAT, user("cat", "jimeng-video-3.0:00x10"), "model_unavailable", "model"),
    (CHAT, user("cat", "jimeng-video-seedance-2.0:00x10"), "invalid_value", "model"),
    (CHAT, user("cat", "jimeng-video-seedance-2.0:99999x1"), "invalid_value", "model"),
    (CHAT, user("cat", "jimeng-4.0:" + "9" * 5000), "invalid_value", "model"),
    (CHAT, user("cat", "m" * 100_000), "model_not_found", "model"),
    # strict types
    (IMAGES, {"prompt": "cat", "n": 2.5}, "invalid_value", "n"),
    (IMAGES, {"prompt": "cat", "n": 2.0}, "invalid_value", "n"),
    (IMAGES, {"prompt": "cat", "n": "4"}, "invalid_value", "n"),
    (IMAGES, {"prompt": "cat", "seed": 1.5}, "invalid_value", "seed"),
    (IMAGES, {"prompt": "cat", "async": "yes"}, "invalid_value", "async"),
    (IMAGES, {"prompt": "cat", "async": 1}, "invalid_value", "async"),
    (IMAGES, {"prompt": "cat", "sample_strength": "0.5"}, "invalid_value", "sample_strength"),
    (VIDEOS, {"prompt": "wave", "duration": 5.0}, "invalid_value", "duration"),
    (VIDEOS, {"prompt": "wave", "width": "1280", "height": 720}, "invalid_value", "width"),
    (CHAT, {**user("cat"), "stream": "true"}, "invalid_value", "stream"),
    # text: lengths and characters of everything forwarded
    (IMAGES, {"prompt": "cat", "negative_prompt": "n" * (5 * MB)}, "invalid_value", "negative_prompt"),
    (IMAGES, {"prompt": "a\u0000cat"}, "invalid_value", "prompt"),
    (IMAGES, {"prompt": "a\u001bcat"}, "invalid_value", "prompt"),
    (IMAGES, {"prompt": "cat", "negative_prompt": "dog\u0007"}, "invalid_value", "negative_prompt"),
    (VIDEOS, {"prompt": "wave\u0000"}, "invalid_value", "prompt"),
    (CHAT, user("x" * (10 * MB)), "invalid_value", "messages[0].content"),
    (CHAT, user([{"type": "text", "text": "a\u0000cat"}]), "invalid_value", "messages[0].content"),
    (
        CHAT,
        {"messages": [{"role": "system", "content": "s" * 200_000}, {"role": "user", "content": "cat"}]},
        "invalid_value",
        "messages",
    ),
    (IMAGES, {"prompt": "cat", "model": "m" * 1000}, "invalid_value", "model"),
    (IMAGES, {"prompt": "cat", "ratio": "1" * 1000}, "invalid_value", "ratio"),
    (COMPOSITIONS, {"prompt": "cat", "images": ["https://example.com/" + "a" * 9000]}, "invalid_value", "images[0]"),
    (COMPOSITIONS, {"prompt": "cat", "images": ["https://example.com/a\u0000.png"]}, "invalid_value", "images[0]"),
    (COMPOSITIONS, {"prompt": "cat", "images": ["http://["]}, "invalid_value", "images[0]"),
]


@pytest.mark.parametrize(("path", "body", "code", "param"), JSON_CASES, ids=lambda v: str(v)[:40])
def test_hostile_json_is_a_plain_400_before_any_upstream_call(
    api: Api, path: str, body: dict[str, Any], code: str, param: str
) -> None:
    refused(api, api.post(path, body), 400, code, param)


RAW_CASES = [
    (b'{"prompt": "caf\xe9"}', "invalid_json", None),
    (b'{"prompt": "\xff\xfe cat"}', "invalid_json", None),
    (b'{"prompt": "a\\ud800cat"}', "invalid_value", "prompt"),  # a lone surrogate escape
    (b'{"prompt": "cat", "n": 1' + b"0" * 5000 + b"}", "invalid_json", None),
    (b'{"prompt": "cat", "n": 1' + b"0" * 5000 + b",}", "invalid_json", None),
    (b'{"prompt": "cat", "sample_strength": NaN}', "invalid_value", "sample_strength"),
    (b'{"prompt": "cat", "sample_strength": Infinity,}', "invalid_value", "sample_strength"),
    (b'{"prompt": "cat", "n": 1e999}', "invalid_value", "n"),
    (b'{"prompt": "cat", "seed": -Infinity}', "invalid_value", "seed"),
]


@pytest.mark.parametrize(("raw", "code", "param"), RAW_CASES, ids=lambda v: str(v)[:40])
def test_hostile_bytes_are_a_plain_400_before_any_upstream_call(
    api: Api, raw: bytes, code: str, param: str | None
) -> None:
    response = api.post(IMAGES, data=raw, headers={"Content-Type": "application/json"})
    error = refused(api, response, 400, code, param)
    if code == "invalid_json" and b"\xe9" in raw:
        assert error["message"] == "Request body is not valid UTF-8 (byte 15)"


def test_the_chat_stream_refuses_before_the_stream_starts(api: Api) -> None:
    response = api.post(CHAT, {**user("a\u0000cat"), "stream": True})
    assert response.headers["Content-Type"].startswith("application/json")
    refused(api, response, 400, "invalid_value", "messages[0].content")


@pytest.mark.parametrize(("form", "param"), [({"n": "2.5"}, "n"), ({"n": "two"}, "n"), ({"async": "maybe"}, "async")])
def test_multipart_text_that_is_not_a_number_is_refused(api: Api, form: dict[str, str], param: str) -> None:
    response = requests.post(
        api.url + EDITS,
        data={"prompt": "mix", **form},
        files=[("image", ("a.png", image_bytes("PNG"), "image/png"))],
        headers={"Authorization": f"Bearer {api.token}"},
        timeout=30,
    )
    refused(api, response, 400, "invalid_value", param)


@pytest.mark.parametrize(
    ("host", "says"),
    [
        ("[2002:7f00:1::1]", "a 6to4 address 2002:7f00:1::1 embedding a loopback address 127.0.0.1"),
        ("[2001:0:7f00:1::1]", "a Teredo address"),
        ("[64:ff9b:1::a00:1]", "a local-use NAT64 address"),
        ("[64:ff9b::a9fe:a9fe]", "a link-local address 169.254.169.254"),
        ("[fec0::1]", "a site-local address fec0::1"),
        ("192.88.99.1", "a 6to4 relay address 192.88.99.1"),
    ],
)
def test_the_address_guard_refuses_embedded_and_deprecated_addresses(
    start_api: Callable[..., Api], host: str, says: str
) -> None:
    guarded = start_api(allow_private_image_urls=False)
    body = {"prompt": "cat", "images": [f"http://{host}/a.png"]}
    error = refused(guarded, guarded.post(COMPOSITIONS, body), 400, "image_fetch_failed", "images[0]")
    assert says in error["message"]


def test_the_refusals_are_json_in_the_contracts_shape(api: Api) -> None:
    """Every answer above is JSON an OpenAI SDK parses (the error object's keys, nothing else)."""
    response = api.post(IMAGES, {"prompt": "cat", "n": "4"})
    assert set(json.loads(response.text)) == {"error"}
