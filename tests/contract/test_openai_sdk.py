"""The official openai SDK against the live service: the error classes a client sees for upstream failures.

(Success paths of images.generate, images.edit and chat with and without streaming are covered next to
their endpoints in tests/e2e; 400, 401 and 402 in tests/e2e/test_chat.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest
from openai import OpenAI

from tests.e2e.conftest import Api


def calls(client: OpenAI, prompt: str) -> list[Callable[[], object]]:
    return [
        lambda: client.images.generate(model="jimeng-4.0", prompt=prompt),
        lambda: client.chat.completions.create(model="jimeng-4.0", messages=[{"role": "user", "content": prompt}]),
    ]


@pytest.mark.parametrize(
    ("settings", "faults", "prompt", "error_class", "status", "code"),
    [
        ({}, {"generate": {"http_429": 1.0}}, "a cat", openai.RateLimitError, 429, "upstream_rate_limited"),
        ({}, {}, "a cat [fail=1234] [gen=200ms]", openai.InternalServerError, 502, "generation_failed"),
        ({}, {"generate": {"http_502": 1.0}}, "a cat", openai.InternalServerError, 502, "upstream_error"),
        ({"image_timeout_seconds": 1}, {}, "a cat [gen=5s]", openai.InternalServerError, 504, "generation_timeout"),
    ],
)
def test_upstream_failures_map_to_the_sdk_error_classes(
    start_api: Callable[..., Api],
    settings: dict[str, Any],
    faults: dict[str, Any],
    prompt: str,
    error_class: type[openai.APIStatusError],
    status: int,
    code: str,
) -> None:
    api = start_api(**settings)
    api.emulator.configure(faults=faults)
    client = OpenAI(base_url=f"{api.url}/v1", api_key=api.token, max_retries=0, timeout=30)
    for call in calls(client, prompt):
        with pytest.raises(error_class) as caught:
            call()
        assert isinstance(caught.value, openai.APIStatusError)
        assert caught.value.status_code == status
        body = caught.value.body
        assert isinstance(body, dict) and body["code"] == code
        if code in ("generation_failed", "generation_timeout"):
            assert body["history_id"] in api.generations()


@pytest.mark.parametrize(
    ("settings", "prompt", "status", "code"),
    [
        ({}, "a cat [fail=1234] [gen=200ms]", 502, "generation_failed"),
        ({"image_timeout_seconds": 1}, "a cat [gen=3s]", 504, "generation_timeout"),
    ],
)
def test_the_sdk_at_its_default_retries_never_pays_twice_for_a_failed_generation(
    start_api: Callable[..., Api], settings: dict[str, Any], prompt: str, status: int, code: str
) -> None:
    """x-should-retry: false on an error about an existing generation: the SDK's two retries never happen."""
    api = start_api(**settings)
    with OpenAI(base_url=f"{api.url}/v1", api_key=api.token, timeout=30) as client:  # max_retries: the default
        assert client.max_retries == 2
        with pytest.raises(openai.APIStatusError) as caught:
            client.images.generate(model="jimeng-4.0", prompt=prompt)
    assert caught.value.status_code == status
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == code
    generations = api.generations()
    assert list(generations) == [body["history_id"]]  # exactly one generation, and its id reached the client
    assert api.submits() == 1
