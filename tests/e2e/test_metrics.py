"""GET /metrics: the real service (gunicorn, two workers) after some generations against the emulator; the
Prometheus text parser reads it and its counters match the emulator's stats and the requests made."""

from __future__ import annotations

import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from app.emulator import EmulatorServer
from tests.e2e.conftest import Api, assert_error
from tests.e2e.test_idempotency import service_env
from tests.support import gunicorn_server

GENERATIONS = 12
API_PATHS = ("/mweb/v1/aigc_draft/generate", "/mweb/v1/get_history_by_ids", "/commerce/v1/benefits/user_credit")


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample of the exposition by its name, with its labels."""
    found: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name].append((dict(sample.labels), float(sample.value)))
    return found


def total(found: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(value for have, value in found.get(name, []) if all(have.get(k) == v for k, v in labels.items()))


def scrape(url: str, **headers: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    answer = requests.get(f"{url}/metrics", headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    return samples(answer.text)


def settled(url: str, emu: EmulatorServer, timeout: float = 10.0) -> dict[str, list[tuple[dict[str, str], float]]]:
    """A scrape once every upstream call the emulator saw is counted: a call still on its way back (a credit
    check or a table refresh in the background after the last answer) is in the emulator's stats before it
    is in the service's counters."""
    ends = time.monotonic() + timeout
    while True:
        found = scrape(url)
        by_path = emu.stats()["requests"]["by_path"]
        if all(total(found, "jimeng_api_upstream_calls_total", path=p) == by_path.get(p, 0) for p in API_PATHS):
            return found
        if time.monotonic() > ends:
            return found  # the assertions below say what differs
        time.sleep(0.2)


def test_metrics_of_two_workers_match_the_emulator_and_the_requests(emu: EmulatorServer, tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    env = service_env(
        emu, WEB_CONCURRENCY="2", STATE_DB=str(tmp_path / "state.sqlite3"), SESSION_CONCURRENCY="2",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )  # fmt: skip
    tokens = ("metrics-caller-one", "metrics-caller-two")

    def generate(index: int) -> int:
        answer = requests.post(
            f"{url}/v1/images/generations", json={"prompt": f"metrics {index}"},
            headers={"Authorization": f"Bearer {tokens[index % 2]}"}, timeout=60,
        )  # fmt: skip
        return answer.status_code

    with gunicorn_server(env) as url:
        with ThreadPoolExecutor(GENERATIONS) as pool:
            statuses = list(pool.map(generate, range(GENERATIONS)))
        refused = requests.post(
            f"{url}/v1/images/generations", json={"prompt": ""}, headers={"Authorization": "Bearer x-metrics"}
        )
        found = settled(url, emu)
        again = scrape(url)  # whichever worker answers, it adds up both workers' files
    assert statuses == [200] * GENERATIONS
    assert refused.status_code == 400

    route = "/v1/images/generations"
    assert total(found, "jimeng_api_requests_total", route=route, status="200") == GENERATIONS
    assert total(found, "jimeng_api_requests_total", route=route, status="400") == 1
    by_path = emu.stats()["requests"]["by_path"]
    for path in API_PATHS:
        assert total(found, "jimeng_api_upstream_calls_total", path=path) == by_path.get(path, 0), path
    assert by_path["/mweb/v1/aigc_draft/generate"] == GENERATIONS
    assert total(found, "jimeng_api_upstream_calls_total", outcome="ok") == total(
        found, "jimeng_api_upstream_calls_total"
    )
    assert total(found, "jimeng_api_generations_total", outcome="succeeded") == GENERATIONS
    assert total(found, "jimeng_api_generations_total") == GENERATIONS
    assert total(found, "jimeng_api_polls_per_generation_count") == GENERATIONS
    assert total(found, "jimeng_api_polls_per_generation_sum") >= GENERATIONS
    assert total(found, "jimeng_api_added_latency_seconds_count") == GENERATIONS
    assert total(found, "jimeng_api_queue_wait_seconds_count") == GENERATIONS
    assert total(found, "jimeng_api_generations_in_flight") == 0
    assert total(found, "jimeng_api_queue_waiting") == 0
    states = {labels["state"] for labels, _ in found["jimeng_api_sessions"]}  # the answering worker's cache
    assert states == {"live", "expired", "unverified", "unchecked"}
    assert total(again, "jimeng_api_requests_total", route=route) == GENERATIONS + 1

    # The next run with the same directory starts from zero: the stale files were removed at start.
    with gunicorn_server(env) as url:
        fresh = scrape(url)
    assert total(fresh, "jimeng_api_requests_total", route=route) == 0
    assert total(fresh, "jimeng_api_generations_total") == 0


def test_a_metrics_token_is_required_when_set_and_never_shown(start_api: object) -> None:
    token = "metrics-token-0123456789abcdef"
    api: Api = start_api(metrics_token=token)  # type: ignore[operator]
    assert_error(requests.get(f"{api.url}/metrics", timeout=10), 401, "invalid_api_key")
    wrong = requests.get(f"{api.url}/metrics", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert_error(wrong, 401, "invalid_api_key")
    assert token not in wrong.text
    right = requests.get(f"{api.url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert right.status_code == 200
    assert "jimeng_api_requests_total" in right.text and token not in right.text
