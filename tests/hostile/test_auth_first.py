"""Credentials are checked before a body is read: a stranger's body is never parsed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from tests.e2e.conftest import Api, assert_error

GARBAGE = b"\x00not json" * 1_800_000  # 16 MiB that no parser can read


@pytest.mark.parametrize("path", ["/v1/images/generations", "/v1/videos/generations", "/v1/chat/completions"])
def test_a_huge_garbage_body_without_credentials_gets_401(api: Api, path: str) -> None:
    response = requests.post(api.url + path, data=GARBAGE, headers={"Content-Type": "application/json"}, timeout=30)
    assert_error(response, 401, "missing_session")


def test_a_wrong_api_key_gets_401_before_the_body_is_read(start_api: Callable[..., Api]) -> None:
    api = start_api(api_keys=("key-right-0001",), jimeng_session_ids=("sess-server-0001",))
    response = requests.post(
        api.url + "/v1/images/compositions",
        data=b"{'prompt': 'cat',}",
        headers={"Content-Type": "application/json", "Authorization": "Bearer key-wrong-0001"},
        timeout=30,
    )
    assert_error(response, 401, "invalid_api_key")


def test_a_malformed_body_with_credentials_still_gets_its_400(api: Api) -> None:
    response = api.post("/v1/images/generations", data=b"{", headers={"Content-Type": "application/json"})
    assert_error(response, 400, "invalid_json")


def test_cors_preflights_need_no_credentials(api: Api) -> None:
    response = requests.options(api.url + "/v1/images/generations", timeout=30)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
