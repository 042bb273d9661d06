"""Per-session concurrency caps with a fair queue, through the Procfile's gunicorn against the emulator with
Jimeng's per-account limit on: two workers sharing the SQLite store, then two instances sharing a real Redis,
then a worker killed while its jobs hold slots."""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import psutil
import pytest
import requests

from app.domain.capacity import slot_key
from app.emulator import EmulatorServer
from app.state import SqliteStore
from tests.e2e.conftest import Api
from tests.e2e.test_idempotency import service_env
from tests.support import gunicorn_process, gunicorn_server

SESSIONS = ("cap-session-one", "cap-session-two")
KEYS = ("key-caller-a", "key-caller-b", "key-caller-c")
REQUESTS = 20


def cap_env(emu: EmulatorServer, **extra: str) -> dict[str, str]:
    settings = {"JIMENG_SESSION_IDS": ",".join(SESSIONS), "API_KEYS": ",".join(KEYS), "SESSION_CONCURRENCY": "2"}
    return service_env(emu, **{**settings, **extra})


def burst(urls: list[str]) -> list[tuple[str, int, requests.Response]]:
    """20 requests from 3 callers, each caller's in a known arrival order (sent 100 ms apart, round-robin
    between callers, spread over the instances: a caller's consecutive requests 300 ms apart, more than a
    loaded machine takes to get a request to the queue), all in flight together (each runs 1 s or more)."""

    def one(index: int) -> tuple[str, int, requests.Response]:
        time.sleep(index * 0.1)
        caller, number = KEYS[index % 3], index // 3
        response = requests.post(
            f"{urls[index % len(urls)]}/v1/images/generations",
            json={"prompt": f"{caller} request {number} [gen=1s]"},
            headers={"Authorization": f"Bearer {caller}"},
            timeout=120,
        )
        return caller, number, response

    with ThreadPoolExecutor(REQUESTS) as pool:
        return list(pool.map(one, range(REQUESTS)))


def check_burst(emu: EmulatorServer, answers: list[tuple[str, int, requests.Response]]) -> None:
    assert [r.status_code for _, _, r in answers] == [200] * REQUESTS, [r.text for _, _, r in answers][:3]
    stats = emu.stats()
    assert "concurrency_limit" not in stats["refusals"], stats["refusals"]
    assert len(stats["generations"]) == REQUESTS
    peaks = stats["peak_running"]
    assert set(peaks) == set(SESSIONS) and max(peaks.values()) == 2, peaks  # both used, never above 2
    for caller in KEYS:  # history ids grow with each creation: a caller's submits in its arrival order
        mine = sorted((number, int(r.json()["history_id"])) for c, number, r in answers if c == caller)
        created = [history_id for _, history_id in mine]
        assert created == sorted(created), (caller, mine)


@pytest.fixture
def limited(emu: EmulatorServer) -> EmulatorServer:
    emu.configure(max_running_jobs=2)
    return emu


def test_twenty_requests_from_three_callers_on_two_capped_sessions_all_succeed(
    limited: EmulatorServer, tmp_path: Path
) -> None:
    env = cap_env(limited, WEB_CONCURRENCY="2", STATE_DB=str(tmp_path / "state.sqlite3"))
    with gunicorn_server(env) as url:
        check_burst(limited, burst([url]))


def test_the_same_with_two_instances_sharing_one_redis(limited: EmulatorServer, redis_url: str) -> None:
    env = cap_env(limited, WEB_CONCURRENCY="1", REDIS_URL=redis_url)
    with ExitStack() as stack:
        urls = [stack.enter_context(gunicorn_server(env)) for _ in range(2)]
        check_burst(limited, burst(urls))


def test_without_the_cap_the_same_burst_meets_jimengs_limit(limited: EmulatorServer, tmp_path: Path) -> None:
    """The regression this guards: with every request submitting at once, Jimeng refuses most of them."""
    env = cap_env(limited, WEB_CONCURRENCY="2", STATE_DB=str(tmp_path / "state.sqlite3"), SESSION_CONCURRENCY="0")
    with gunicorn_server(env) as url:
        answers = burst([url])
    assert any(r.status_code == 429 for _, _, r in answers)
    assert limited.stats()["refusals"].get("concurrency_limit", 0) > 0


@pytest.fixture
def one_worker(limited: EmulatorServer, tmp_path: Path) -> Iterator[tuple[str, psutil.Process, SqliteStore]]:
    path = tmp_path / "state.sqlite3"
    env = cap_env(limited, WEB_CONCURRENCY="1", STATE_DB=str(path), SLOT_LEASE_SECONDS="3")
    with gunicorn_process(env) as (url, master):
        store = SqliteStore(str(path))
        yield url, psutil.Process(master.pid), store
        store.close()


def test_a_killed_workers_slots_free_themselves_within_the_lease(
    one_worker: tuple[str, psutil.Process, SqliteStore],
) -> None:
    url, master, store = one_worker

    def held() -> int:
        return sum(len(store.leases(slot_key(s))) for s in SESSIONS)

    def start(index: int) -> None:
        answer = requests.post(
            f"{url}/v1/images/generations", json={"prompt": f"long job {index} [gen=60s]", "async": True},
            headers={"Authorization": f"Bearer {KEYS[0]}"}, timeout=30,
        )  # fmt: skip
        assert answer.status_code == 202, answer.text

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(start, range(4)))
    began = time.monotonic()  # a 202 may come before its submit (a task waiting for its turn): wait for all four
    while held() < 4 and time.monotonic() - began < 30:
        time.sleep(0.05)
    assert held() == 4  # 2 sessions x cap 2, each held by a 60 s job
    (worker,) = master.children()
    os.kill(worker.pid, signal.SIGKILL)
    killed = time.monotonic()
    assert held() == 4  # the dead worker's leases still stand: nothing released them
    while held() and time.monotonic() - killed < 60:
        time.sleep(0.1)
    freed_after = time.monotonic() - killed
    assert held() == 0, "slots of a dead worker never freed"
    print(f"slots freed {freed_after:.1f} s after the kill (SLOT_LEASE_SECONDS=3)")


def test_a_streamed_chat_says_it_waits_for_a_free_slot(start_api: Callable[..., Api]) -> None:
    api = start_api(session_concurrency=1)
    token = f"sess-wait-{uuid.uuid4().hex[:8]}"
    busy = api.post("/v1/images/generations", {"prompt": "holding the slot [gen=2s]", "async": True}, token=token)
    assert busy.status_code == 202
    body = {"model": "jimeng-4.0", "stream": True, "messages": [{"role": "user", "content": "a fox"}]}
    answer = api.post("/v1/chat/completions", body, token=token, stream=True)
    text = answer.text
    assert "Waiting for a free slot (0 ahead)" in text, text[:2000]
    assert "data: [DONE]" in text and '"error"' not in text
    assert max(api.stats()["peak_running"].values()) == 1


def test_an_image_stream_starts_at_once_and_says_it_waits_for_a_free_slot(start_api: Callable[..., Api]) -> None:
    api = start_api(session_concurrency=1)
    token = f"sess-wait-{uuid.uuid4().hex[:8]}"
    busy = api.post("/v1/images/generations", {"prompt": "holding the slot [gen=3s]", "async": True}, token=token)
    assert busy.status_code == 202
    sent = time.monotonic()  # requests itself, not api.post: that one reads the whole body before it returns
    answer = requests.post(
        f"{api.url}/v1/images/generations", json={"prompt": "a fox [gen=1s]", "stream": True},
        headers={"Authorization": f"Bearer {token}"}, stream=True, timeout=30,
    )  # fmt: skip
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/event-stream")
    lines = answer.iter_lines(chunk_size=1, decode_unicode=True)
    first = next(line for line in lines if line)
    assert first == ": waiting for a free slot (0 ahead)", first
    assert time.monotonic() - sent < 2.0  # before the slot's holder (3 s) ended: the headers did not wait
    rest = "\n".join(lines)
    assert rest.count("event: image_generation.completed") == 4 and "event: error" not in rest, rest[:2000]
    assert max(api.stats()["peak_running"].values()) == 1


def test_an_image_stream_that_waited_in_vain_ends_with_an_error_event_without_a_history_id(
    start_api: Callable[..., Api],
) -> None:
    api = start_api(session_concurrency=1, image_timeout_seconds=1.0)
    token = f"sess-wait-{uuid.uuid4().hex[:8]}"  # a video holds the slot: its own deadline is not the images' 1 s
    busy = api.post("/v1/videos/generations", {"prompt": "holding the slot [gen=5s]", "async": True}, token=token)
    assert busy.status_code == 202
    answer = api.post("/v1/images/generations", {"prompt": "a fox [gen=1s]", "stream": True}, token=token, stream=True)
    assert answer.status_code == 200
    text = answer.text
    assert text.startswith(": waiting for a free slot (0 ahead)"), text[:500]
    assert "event: error" in text, text[:2000]
    error = json.loads(text.split("event: error\ndata: ", 1)[1].split("\n", 1)[0])
    assert error["error"]["code"] == "generation_timeout" and error["error"]["history_id"] is None, error
    assert len(api.stats()["generations"]) == 1  # only the slot's holder was submitted
