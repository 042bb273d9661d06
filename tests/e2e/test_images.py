"""POST /v1/images/generations against the emulator over HTTP: results, errors, history ids."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import pytest
import requests

from tests.e2e.conftest import Api, assert_error
from tests.unit.test_errors import RET_TABLE

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_MAGIC)
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_generation_returns_every_image_with_fetchable_urls(api: Api) -> None:
    response = api.post("/v1/images/generations", {"prompt": "a cute kitten", "ratio": "16:9"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["history_id"] in api.generations()
    assert isinstance(body["created"], int)
    assert len(body["data"]) == 4
    for item in body["data"]:
        image = requests.get(item["url"], timeout=5)
        width, height = png_size(image.content)
        assert width > height  # 16:9 reached the draft
    assert api.submits() == 1


def test_n_returns_the_first_n_images_in_upstream_order(api: Api) -> None:
    full = api.post("/v1/images/generations", {"prompt": "cats [n=4]"}).json()
    first_two = api.post("/v1/images/generations", {"prompt": "cats [n=4]", "n": 2}).json()
    assert len(full["data"]) == 4
    assert len(first_two["data"]) == 2
    assert [item["url"].split("?")[0][-6:] for item in first_two["data"]] == ["/0.png", "/1.png"]


def test_n_above_four_is_made_as_several_jobs_and_answered_together(api: Api) -> None:
    body = api.post("/v1/images/generations", {"prompt": "cats", "model": "jimeng-4.0", "n": 6}).json()
    assert len(body["data"]) == 6
    assert api.submits() == 2  # 4 + 2: the upstream's pause at 4 images is never reached


def test_b64_json_carries_the_image_bytes(api: Api) -> None:
    body = api.post("/v1/images/generations", {"prompt": "a cat [n=2]", "response_format": "b64_json"}).json()
    assert len(body["data"]) == 2
    for item in body["data"]:
        assert set(item) == {"b64_json"}
        assert base64.b64decode(item["b64_json"]).startswith(PNG_MAGIC)


def test_lenient_json_body_with_trailing_comma_and_single_quotes(api: Api) -> None:
    raw = "{'prompt': 'a cat', 'ratio': '1:1',}"
    response = requests.post(
        f"{api.url}/v1/images/generations",
        data=raw,
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({}, "missing_field", "prompt"),
        ({"prompt": "   "}, "invalid_value", "prompt"),
        ({"prompt": "x" * 2001}, "invalid_value", "prompt"),
        ({"prompt": 42}, "invalid_value", "prompt"),
        ({"prompt": "cat", "model": "dall-e-9"}, "model_not_found", "model"),
        ({"prompt": "cat", "model": "jimeng-video-seedance-2.0"}, "model_not_found", "model"),
        ({"prompt": "cat", "model": "jimeng-video-3.0"}, "model_unavailable", "model"),
        ({"prompt": "cat", "ratio": "5:4"}, "invalid_value", "ratio"),
        ({"prompt": "cat", "resolution": "8k"}, "invalid_value", "resolution"),
        ({"prompt": "cat", "size": "big"}, "invalid_value", "size"),
        ({"prompt": "cat", "size": "1792x1024", "ratio": "1:1"}, "invalid_value", "size"),
        ({"prompt": "cat", "n": 11}, "invalid_value", "n"),
        ({"prompt": "cat", "resolution": "1k"}, "invalid_value", "resolution"),
        ({"prompt": "cat", "n": 0}, "invalid_value", "n"),
        ({"prompt": "cat", "seed": -1}, "invalid_value", "seed"),
        ({"prompt": "cat", "sample_strength": 2}, "invalid_value", "sample_strength"),
        ({"prompt": "cat", "response_format": "png"}, "invalid_value", "response_format"),
        ({"prompt": "cat", "width": 1024}, "unsupported_parameter", "width"),
        ({"prompt": "cat", "height": 1024}, "unsupported_parameter", "height"),
    ],
)
def test_bad_input_is_400_with_the_field_and_nothing_reaches_jimeng(
    api: Api, body: dict[str, object], code: str, param: str
) -> None:
    error = assert_error(api.post("/v1/images/generations", body), 400, code)
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    assert api.stats()["requests"]["total"] == 0


def test_openai_size_maps_to_the_nearest_ratio(api: Api) -> None:
    body = api.post("/v1/images/generations", {"prompt": "wide", "size": "1792x1024"}).json()
    width, height = png_size(requests.get(body["data"][0]["url"], timeout=5).content)
    assert 1.6 < width / height < 1.9


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        ("{'prompt': ", "application/json", 400, "invalid_json"),
        ("[1, 2]", "application/json", 400, "invalid_json"),
        ("<xml/>", "application/xml", 415, "unsupported_media_type"),
        ("prompt=cat", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ],
)
def test_malformed_or_foreign_bodies(api: Api, raw: str, content_type: str, status: int, code: str) -> None:
    response = requests.post(
        f"{api.url}/v1/images/generations",
        data=raw,
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": content_type},
        timeout=10,
    )
    assert_error(response, status, code)


def test_body_over_the_limit_is_413(start_api: Callable[..., Api]) -> None:
    api = start_api(max_body_bytes=2048)
    assert_error(api.post("/v1/images/generations", {"prompt": "x" * 5000}), 413, "request_too_large")


def test_missing_bearer_is_401_missing_session(api: Api) -> None:
    assert_error(api.post("/v1/images/generations", {"prompt": "cat"}, token=""), 401, "missing_session")


def test_expired_session_is_401_session_expired_and_nothing_is_submitted(api: Api) -> None:
    response = api.post("/v1/images/generations", {"prompt": "cat"}, token="user-expired-0000000001")
    assert_error(response, 401, "session_expired")
    assert api.submits() == 0


def test_no_credits_is_402_with_the_credits_found(api: Api) -> None:
    response = api.post("/v1/images/generations", {"prompt": "cat"}, token="user-nocredit-00000001")
    error = assert_error(response, 402, "insufficient_credits")
    assert "0 left" in error["message"]
    assert api.submits() == 0


def test_zero_credits_are_topped_up_by_the_daily_claim(api: Api) -> None:
    response = api.post("/v1/images/generations", {"prompt": "cat"}, token="user-zerocredit-000001")
    assert response.status_code == 200, response.text
    assert api.stats()["requests"]["by_path"]["/commerce/v1/benefits/credit_receive"] == 1


def test_content_filtered_generation_is_400_with_its_history_id(api: Api) -> None:
    error = assert_error(api.post("/v1/images/generations", {"prompt": "bad [filter]"}), 400, "content_filtered")
    assert error["history_id"] in api.generations()


def test_prompt_refused_at_submit_is_content_filtered_without_history(api: Api) -> None:
    error = assert_error(api.post("/v1/images/generations", {"prompt": "bad [ret=2038]"}), 400, "content_filtered")
    assert error["history_id"] is None


@pytest.mark.parametrize(("ret", "status", "code"), RET_TABLE)
def test_every_known_ret_of_a_submit_answers_its_status_and_nothing_is_created(
    api: Api, ret: str, status: int, code: str
) -> None:
    response = api.post("/v1/images/generations", {"prompt": f"a cat [ret={ret}]"})
    error = assert_error(response, status, code)
    assert error["history_id"] is None
    waits = code in ("upstream_rate_limited", "concurrency_limit", "daily_limit")
    assert ("Retry-After" in response.headers) is waits, response.headers
    assert not api.generations()


def test_failed_generation_is_502_with_fail_code_and_history_id(api: Api) -> None:
    error = assert_error(api.post("/v1/images/generations", {"prompt": "x [fail=1234]"}), 502, "generation_failed")
    assert "1234" in error["message"]
    assert error["history_id"] in api.generations()


def test_deadline_is_504_with_the_history_id_and_the_task_finishes_later(start_api: Callable[..., Api]) -> None:
    api = start_api(image_timeout_seconds=1)
    error = assert_error(api.post("/v1/images/generations", {"prompt": "slow [gen=2s]"}), 504, "generation_timeout")
    history_id = error["history_id"]
    assert history_id in api.generations()
    assert f"/v1/tasks/{history_id}" in error["message"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        task = api.get(f"/v1/tasks/{history_id}").json()
        if task["status"] == "succeeded":
            break
        time.sleep(0.2)
    assert task["status"] == "succeeded"
    assert len(task["data"]) == 4


def test_upstream_throttling_is_429(api: Api) -> None:
    api.emulator.configure(faults={"generate": {"http_429": 1.0}})
    response = api.post("/v1/images/generations", {"prompt": "cat"})
    assert_error(response, 429, "upstream_rate_limited")
    assert int(response.headers["Retry-After"]) >= 1 and "x-should-retry" not in response.headers
    assert api.stats()["totals"].get("generations_created", 0) == 0


def test_upstream_down_is_502_upstream_error_and_nothing_is_made(api: Api) -> None:
    api.emulator.configure(faults={"generate": {"http_502": 1.0}})
    assert_error(api.post("/v1/images/generations", {"prompt": "cat"}), 502, "upstream_error")
    assert api.stats()["totals"].get("generations_created", 0) == 0


def test_async_answers_202_at_once_and_the_task_completes(api: Api) -> None:
    response = api.post("/v1/images/generations", {"prompt": "cat [gen=1s]", "async": True})
    assert response.status_code == 202, response.text
    task = response.json()
    assert (task["object"], task["status"], task["model"]) == ("generation.task", "queued", "jimeng-5.0")
    assert task["id"] == task["history_id"]
    deadline = time.monotonic() + 10
    seen = set()
    while time.monotonic() < deadline:
        state = api.get(f"/v1/tasks/{task['id']}").json()
        seen.add(state["status"])
        if state["status"] == "succeeded":
            break
        time.sleep(0.1)
    assert state["status"] == "succeeded"
    assert state["progress"] == {"finished": 4, "total": 4}
    assert len(state["data"]) == 4
    assert seen & {"queued", "running"}


def test_prefer_respond_async_header_also_answers_202(api: Api) -> None:
    response = api.post("/v1/images/generations", {"prompt": "cat"}, headers={"Prefer": "respond-async"})
    assert response.status_code == 202


def test_failed_task_carries_the_error(api: Api) -> None:
    task = api.post("/v1/images/generations", {"prompt": "bad [filter] [gen=200ms]", "async": True}).json()
    time.sleep(0.5)
    state = api.get(f"/v1/tasks/{task['id']}").json()
    assert state["status"] == "failed"
    assert state["error"]["code"] == "content_filtered"
    assert state["error"]["history_id"] == task["id"]


def test_unknown_task_and_other_accounts_task_are_404(api: Api) -> None:
    task = api.post("/v1/images/generations", {"prompt": "cat", "async": True}).json()
    assert_error(api.get("/v1/tasks/999999999"), 404, "not_found")
    assert_error(api.get("/v1/tasks/bad%20id"), 404, "not_found")
    assert_error(api.get(f"/v1/tasks/{task['id']}", token="sess-another-account-0001"), 404, "not_found")


def test_tasks_work_on_a_fresh_app_for_ids_of_another(start_api: Callable[..., Api]) -> None:
    first = start_api()
    history_id = first.post("/v1/images/generations", {"prompt": "cat"}).json()["history_id"]
    second = start_api()
    state = second.get(f"/v1/tasks/{history_id}", token=first.token).json()
    assert state["status"] == "succeeded"


def test_polls_are_batched_and_few(api: Api) -> None:
    with_gen = [{"prompt": f"cat {i} [gen=1s]"} for i in range(6)]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(lambda body: api.post("/v1/images/generations", body).status_code, with_gen))
    assert statuses == [200] * 6
    polls = api.stats()["requests"]["by_path"]["/mweb/v1/get_history_by_ids"]
    assert polls < 6 * 8  # batched: far fewer calls than one poll per job per tick


def test_no_session_id_reaches_logs_or_bodies(api: Api, log_lines: list[str]) -> None:
    secret = "0123456789abcdef0123456789abcdef"
    api.post("/v1/images/generations", {"prompt": "cat"}, token=secret)
    api.post("/v1/images/generations", {"prompt": "cat [fail=77]"}, token=secret)
    api.post("/v1/images/generations", {"prompt": "cat"}, token="dead-expired-" + secret)
    assert log_lines
    assert not [line for line in log_lines if secret in line]
    assert not [body for body in api.bodies if secret in body]


# -- retry hints: a client must not retry a generation that exists --------------------------------------------


def test_errors_after_the_submit_tell_clients_not_to_retry(start_api: Callable[..., Api]) -> None:
    api = start_api(image_timeout_seconds=1)
    failed = api.post("/v1/images/generations", {"prompt": "x [fail=1234] [gen=200ms]"})
    late = api.post("/v1/images/generations", {"prompt": "slow [gen=3s]"})
    for response, status, code in ((failed, 502, "generation_failed"), (late, 504, "generation_timeout")):
        error = assert_error(response, status, code)
        assert error["history_id"] in api.generations()
        assert response.headers["x-should-retry"] == "false"
        assert "Retry-After" not in response.headers


@pytest.mark.parametrize(
    ("body", "token", "status", "code"),
    [({"prompt": "cat", "ratio": "5:4"}, None, 400, "invalid_value"), ({"prompt": "cat"}, "", 401, "missing_session")],
)
def test_errors_before_any_submit_leave_retrying_to_the_client(
    api: Api, body: dict[str, str], token: str | None, status: int, code: str
) -> None:
    response = api.post("/v1/images/generations", body, token=token)
    assert_error(response, status, code)
    assert "x-should-retry" not in response.headers
    assert not api.generations()
