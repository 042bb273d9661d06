"""A submit whose answer is late: Jimeng records the draft only after our read timeout. Its submit id is
looked up over the settle period, so the one generation is found and nothing is submitted twice; when the
look-ups cannot answer, the answer names the submit id, which GET /v1/tasks/{id} resolves later."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.e2e.conftest import Api

READ_TIMEOUT = 0.5
SUBMIT_PATH = "/mweb/v1/aigc_draft/generate"
# (latency of Jimeng's submit in ms, requests sent at once): every latency longer than the read timeout
BATCHES = ((700, 17), (1500, 17), (3000, 16))


def test_slow_submits_are_found_by_submit_id_and_never_made_twice(start_api: Callable[..., Api]) -> None:
    api = start_api(upstream_read_timeout=READ_TIMEOUT, submit_settle_seconds=4.0)
    responses: list[requests.Response] = []
    for latency_ms, count in BATCHES:
        api.emulator.configure(faults={"generate": {"latency_ms": latency_ms}})
        bodies = [{"prompt": f"cat {latency_ms} {i} [gen=300ms]", "n": 1} for i in range(count)]
        with ThreadPoolExecutor(count) as pool:
            responses += pool.map(lambda body: api.post("/v1/images/generations", body), bodies)
    stats = api.stats()
    requested = sum(count for _, count in BATCHES)
    assert len(responses) == requested == 50
    assert stats["totals"]["generations_created"] == requested  # one generation per request: none made twice
    assert stats["requests"]["by_path"][SUBMIT_PATH] == requested  # not even a second submit
    assert all(count == 1 for count in stats["submit_ids"].values())
    assert [r.status_code for r in responses] == [200] * requested, [r.text for r in responses if r.status_code != 200]
    reported = {r.json()["history_id"] for r in responses}
    assert reported == set(stats["generations"])  # no generation without its client, none answered null


def test_look_ups_that_cannot_answer_name_the_submit_id_and_the_task_resolves_it(
    start_api: Callable[..., Api],
) -> None:
    api = start_api(upstream_read_timeout=READ_TIMEOUT, submit_settle_seconds=1.0)
    api.emulator.configure(faults={"generate": {"latency_ms": 800}, "poll": {"http_502": 1.0}})
    response = api.post("/v1/images/generations", {"prompt": "cat [gen=300ms]", "n": 1})
    error = assert_error_with_task(response)
    assert error["history_id"] is None
    assert response.headers["x-should-retry"] == "false"
    stats = api.stats()
    assert stats["totals"]["generations_created"] == 1
    assert stats["requests"]["by_path"][SUBMIT_PATH] == 1  # the outcome was unknown: never submitted again
    (generation,) = stats["generations"].values()
    assert generation["submit_id"] == error["task_id"]
    api.emulator.configure(faults={"generate": {"latency_ms": 0}, "poll": {"http_502": 0.0}})
    task = api.get(f"/v1/tasks/{error['task_id']}").json()
    assert task["history_id"] in stats["generations"]


def test_a_stream_whose_submit_outcome_is_unknown_ends_with_the_task_id(start_api: Callable[..., Api]) -> None:
    api = start_api(upstream_read_timeout=READ_TIMEOUT, submit_settle_seconds=1.0)
    api.emulator.configure(faults={"generate": {"latency_ms": 800}, "poll": {"http_502": 1.0}})
    body = {"model": "jimeng-4.0", "stream": True, "messages": [{"role": "user", "content": "cat [gen=300ms]"}]}
    response = api.post("/v1/chat/completions", body)
    events = [line.removeprefix("data: ") for line in response.text.splitlines() if line.startswith("data: {")]
    error = json.loads(events[-1])["error"]
    assert (error["code"], error["history_id"]) == ("submit_outcome_unknown", None)
    (generation,) = api.generations().values()
    assert generation["submit_id"] == error["task_id"]


def assert_error_with_task(response: requests.Response) -> dict[str, object]:
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code", "history_id", "task_id"}
    assert error["code"] == "submit_outcome_unknown"
    assert str(error["task_id"]) in str(error["message"])
    return dict(error)
