"""The session pool (failover, daily claim, 401/402 with nothing submitted), API-key mode, token endpoints."""

from __future__ import annotations

from collections.abc import Callable

import requests

from tests.e2e.conftest import Api, assert_error

GOOD = "good-session-0000aaaa"
EXPIRED = "old-expired-0000bbbb"
NOCREDIT = "poor-nocredit-0000cccc"
ZEROCREDIT = "new-zerocredit-0000dddd"


def pool(*sessions: str) -> str:
    return ",".join(sessions)


def session_of(api: Api, history_id: str) -> str:
    return str(api.generations()[history_id]["session"])


def test_expired_and_empty_sessions_are_skipped_for_a_good_one(api: Api) -> None:
    response = api.post("/v1/images/generations", {"prompt": "cat"}, token=pool(EXPIRED, NOCREDIT, GOOD))
    assert response.status_code == 200, response.text
    assert session_of(api, response.json()["history_id"]) == GOOD
    assert api.submits() == 1


def test_short_sessions_claim_the_daily_credits_then_generate(api: Api) -> None:
    response = api.post("/v1/images/generations", {"prompt": "cat"}, token=pool(NOCREDIT, ZEROCREDIT))
    assert response.status_code == 200, response.text
    assert session_of(api, response.json()["history_id"]) == ZEROCREDIT
    assert api.stats()["totals"]["daily_claims"] >= 1


def test_all_sessions_expired_is_401_and_nothing_is_submitted(api: Api) -> None:
    token = pool(EXPIRED, "another-expired-0000eeee")
    assert_error(api.post("/v1/images/generations", {"prompt": "cat"}, token=token), 401, "session_expired")
    assert api.submits() == 0


def test_all_sessions_short_is_402_with_the_credits_found(api: Api) -> None:
    token = pool(NOCREDIT, EXPIRED)
    error = assert_error(
        api.post("/v1/images/generations", {"prompt": "cat"}, token=token), 402, "insufficient_credits"
    )
    assert "0 left, 1 needed" in error["message"]
    assert api.submits() == 0


def test_the_job_stays_on_the_session_that_created_it(api: Api) -> None:
    """Jimeng shows a record only to its own account, so a job polled on another session never finishes."""
    token = pool("first-good-0000ffff", "second-good-0000gggg")
    responses = [api.post("/v1/images/generations", {"prompt": f"cat {i}"}, token=token) for i in range(4)]
    assert [r.status_code for r in responses] == [200] * 4
    sessions = {session_of(api, r.json()["history_id"]) for r in responses}
    assert sessions <= {"first-good-0000ffff", "second-good-0000gggg"}
    assert api.submits() == 4


def test_api_key_mode_uses_the_server_pool_and_keeps_it_secret(start_api: Callable[..., Api]) -> None:
    server_pool = ("srv-expired-0000hhhh", "srv-good-session-0000iiii")
    api = start_api(api_keys=("key-one", "key-two"), jimeng_session_ids=server_pool)
    response = api.post("/v1/images/generations", {"prompt": "cat"}, token="key-two")
    assert response.status_code == 200, response.text
    assert session_of(api, response.json()["history_id"]) == server_pool[1]
    assert_error(api.post("/v1/images/generations", {"prompt": "cat"}, token="key-three"), 401, "invalid_api_key")
    assert_error(api.post("/v1/images/generations", {"prompt": "cat"}, token=GOOD), 401, "invalid_api_key")
    points = api.post("/token/points", token="key-one").json()
    assert [entry["token"] for entry in points] == ["…hhhh", "…iiii"]
    assert not [body for body in api.bodies if any(s in body for s in server_pool)]


def test_token_check_says_live_or_dead(api: Api) -> None:
    assert api.post("/token/check", {"token": GOOD}, token="").json() == {"live": True}
    assert api.post("/token/check", {"token": EXPIRED}, token="").json() == {"live": False}
    error = assert_error(api.post("/token/check", {"token": ""}, token=""), 400, "invalid_value")
    assert error["param"] == "token"
    assert_error(api.post("/token/check", {}, token=""), 400, "missing_field")


def test_token_points_per_session_masked(api: Api) -> None:
    response = api.post("/token/points", token=pool(GOOD, EXPIRED, NOCREDIT))
    entries = response.json()
    assert [e["token"] for e in entries] == ["…aaaa", "…bbbb", "…cccc"]
    assert entries[0]["points"] == {"giftCredit": 100, "purchaseCredit": 0, "vipCredit": 0, "totalCredit": 100}
    assert entries[1]["error"]["code"] == "session_expired"
    assert entries[2]["points"]["totalCredit"] == 0
    assert not any(s in response.text for s in (GOOD, EXPIRED, NOCREDIT))


def test_token_receive_claims_once_a_day_per_session(api: Api) -> None:
    first = api.post("/token/receive", token=pool(ZEROCREDIT, GOOD)).json()
    assert first == [
        {"token": "…dddd", "received": 60, "totalCredit": 60},
        {"token": "…aaaa", "received": 60, "totalCredit": 160},
    ]
    again = api.post("/token/receive", token=pool(ZEROCREDIT, GOOD)).json()
    assert [(e["received"], e["totalCredit"]) for e in again] == [(0, 60), (0, 160)]


def test_token_endpoints_need_a_bearer(api: Api) -> None:
    assert_error(api.post("/token/points", token=""), 401, "missing_session")
    assert_error(api.post("/token/receive", token=""), 401, "missing_session")


def test_logs_name_the_masked_session_that_served_each_job(api: Api, log_lines: list[str]) -> None:
    api.post("/v1/images/generations", {"prompt": "cat"}, token=pool(EXPIRED, GOOD))
    served = [line for line in log_lines if "submitted on session" in line]
    assert served and "…aaaa" in served[0]
    assert not [line for line in log_lines if GOOD in line or EXPIRED in line]


def test_tasks_look_through_the_whole_pool(api: Api) -> None:
    history_id = api.post("/v1/images/generations", {"prompt": "cat"}, token=GOOD).json()["history_id"]
    task = api.get(f"/v1/tasks/{history_id}", token=pool(EXPIRED, NOCREDIT, GOOD))
    assert task.json()["status"] == "succeeded"
    assert isinstance(requests.get(task.json()["data"][0]["url"], timeout=5).content, bytes)
