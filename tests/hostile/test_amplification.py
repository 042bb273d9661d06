"""Hostile: one request costs a bounded number of upstream calls, whatever its Authorization holds."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import requests

from app.logging import secrets
from tests.e2e.conftest import Api, assert_error


def _sessions(count: int, kind: str = "good") -> list[str]:
    return [f"{kind}-{uuid.uuid4().hex}" for _ in range(count)]


def _calls(api: Api) -> tuple[int, dict[str, int]]:
    requests_ = api.stats()["requests"]
    return int(requests_["total"]), dict(requests_["by_session"])


def test_more_session_ids_than_the_cap_is_400_before_any_upstream_call(api: Api) -> None:
    eleven = ",".join(_sessions(11))
    for path in ("/v1/images/generations", "/token/points", "/token/receive"):
        error = assert_error(api.post(path, {"prompt": "cat"}, token=eleven), 400, "too_many_sessions")
        assert error["param"] == "Authorization"
        assert "11" in error["message"] and "10" in error["message"]
    assert_error(api.get("/v1/tasks/123", token=eleven), 400, "too_many_sessions")
    many = ",".join(f"t{n:04d}" for n in range(1_000))  # an 8 KB header of short tokens
    assert_error(api.post("/v1/images/generations", {"prompt": "cat"}, token=many), 400, "too_many_sessions")
    assert _calls(api)[0] == 0


def test_the_cap_is_a_setting(start_api: Callable[..., Api]) -> None:
    api = start_api(max_sessions_per_request=2)
    assert_error(api.get("/v1/tasks/123", token=",".join(_sessions(3))), 400, "too_many_sessions")
    assert api.get("/v1/tasks/123", token=",".join(_sessions(2))).status_code == 404


def test_a_task_look_up_asks_each_session_at_most_once(api: Api) -> None:
    response = api.get("/v1/tasks/123", token=",".join(_sessions(10)))
    assert response.status_code == 404, response.text
    total, by_session = _calls(api)
    assert total <= 10, api.stats()["requests"]
    assert max(by_session.values()) <= 1


def test_a_generation_on_ten_sessions_without_credits_costs_at_most_two_calls_each(api: Api) -> None:
    pool = _sessions(10, "poor-nocredit")
    assert_error(
        api.post("/v1/images/generations", {"prompt": "cat"}, token=",".join(pool)), 402, "insufficient_credits"
    )
    total, by_session = _calls(api)
    by_path = api.stats()["requests"]["by_path"]
    catalog = sum(count for path, count in by_path.items() if path.endswith("get_common_config"))
    assert catalog <= 2  # the account's model tables, once (image and video), not per session
    assert total - catalog <= 20, by_path
    assert max(by_session.values()) <= 2 + catalog
    assert api.submits() == 0
    # the same pool again within the cache period: no credit check, no second claim the same day
    assert_error(
        api.post("/v1/images/generations", {"prompt": "cat"}, token=",".join(pool)), 402, "insufficient_credits"
    )
    assert _calls(api)[0] == total


def test_token_points_and_receive_cost_one_call_per_session(api: Api) -> None:
    token = ",".join(_sessions(10, "new-zerocredit"))
    assert len(api.post("/token/points", token=token).json()) == 10
    assert _calls(api)[0] == 10
    first = api.post("/token/receive", token=token).json()
    assert [entry["received"] for entry in first] == [60] * 10
    assert _calls(api)[0] == 20
    again = api.post("/token/receive", token=token).json()  # claimed today by this worker: a balance only
    assert [(entry["received"], entry["totalCredit"]) for entry in again] == [(0, 60)] * 10
    total, by_session = _calls(api)
    assert total == 30 and max(by_session.values()) == 3


def test_wrong_api_keys_are_never_registered(start_api: Callable[..., Api], log_lines: list[str]) -> None:
    api = start_api(api_keys=("key-0123456789abcdef",), jimeng_session_ids=("server-good-0123456789",))
    before = len(secrets)
    wrong = [f"wrong-{uuid.uuid4().hex}" for _ in range(50)]
    for key in wrong:
        assert_error(api.get("/v1/tasks/123", token=key), 401, "invalid_api_key")
    assert len(secrets) == before
    assert not [line for line in log_lines if any(key in line for key in wrong)]
    assert _calls(api)[0] == 0


def test_random_bearers_do_not_grow_the_registry_past_its_capacity(api: Api) -> None:
    capacity = secrets._capacity
    for _ in range(20):
        api.get("/v1/models", token=",".join(_sessions(10)))
    assert len(secrets) <= capacity + len(secrets._own)


def test_token_check_bodies_are_masked_and_bounded(api: Api, log_lines: list[str]) -> None:
    tokens = [f"check-{uuid.uuid4().hex}" for _ in range(20)]
    for token in tokens:
        response = requests.post(api.url + "/token/check", json={"token": token}, timeout=10)
        assert response.json() == {"live": True}
    assert not [line for line in log_lines if any(token in line for token in tokens)]
    assert len(secrets) <= secrets._capacity + len(secrets._own)
