"""Faults on every upstream path: each generation succeeds, or fails with its history id; none is made twice."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.conftest import Api


def outcome_is_safe(api: Api, responses: list[requests.Response]) -> None:
    """Every generation Jimeng made reached its client exactly once; no submit made two generations."""
    stats = api.stats()
    made = set(stats.get("generations", {}))
    reported = set()
    for response in responses:
        body = response.json()
        history_id = body.get("history_id") or body.get("error", {}).get("history_id")
        if history_id:
            reported.add(history_id)
    assert made <= reported, f"lost generations: {made - reported}"
    assert all(count == 1 for count in stats.get("submit_ids", {}).values()), stats["submit_ids"]
    assert len(made) <= len(responses)


@pytest.mark.parametrize("group", ["generate", "poll", "credit", "all"])
@pytest.mark.parametrize("kind", ["http_502", "reset", "truncate"])
def test_faults_on_one_path_lose_nothing_and_double_nothing(api: Api, group: str, kind: str) -> None:
    api.emulator.configure(fault_seed=7, faults={group: {kind: 0.3}})
    bodies = [{"prompt": f"cat {i} [gen=300ms]"} for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda body: api.post("/v1/images/generations", body), bodies))
    outcome_is_safe(api, responses)
    succeeded = [r for r in responses if r.status_code == 200]
    assert len(succeeded) >= 5, [r.text for r in responses if r.status_code != 200]


@pytest.mark.parametrize("kind", ["truncate", "reset"])
def test_a_lost_submit_answer_is_found_by_submit_id_not_submitted_again(api: Api, kind: str) -> None:
    api.emulator.configure(fault_seed=3, faults={"generate": {kind: 1.0}})
    response = api.post("/v1/images/generations", {"prompt": "cat [gen=300ms]"})
    stats = api.stats()
    created = stats["totals"].get("generations_created", 0)
    assert created <= 1
    if created:
        assert response.status_code == 200, response.text
        assert response.json()["history_id"] in stats["generations"]
    else:  # every reset came before processing: nothing was made, nothing is owed
        assert response.status_code == 502
    assert all(count == 1 for count in stats["submit_ids"].values())


def test_truncated_submit_answers_always_recover_the_one_generation(api: Api) -> None:
    api.emulator.configure(faults={"generate": {"truncate": 1.0}})
    response = api.post("/v1/images/generations", {"prompt": "cat [gen=300ms]"})
    assert response.status_code == 200, response.text
    assert api.stats()["totals"]["generations_created"] == 1


def test_polls_that_never_answer_end_in_504_with_the_history_id(start_api: Callable[..., Api]) -> None:
    api = start_api(image_timeout_seconds=2)
    api.emulator.configure(faults={"poll": {"http_502": 1.0}})
    response = api.post("/v1/images/generations", {"prompt": "cat [gen=300ms]"})
    assert response.status_code == 504
    assert response.json()["error"]["history_id"] in api.stats()["generations"]
