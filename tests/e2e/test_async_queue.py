"""Async requests under the concurrency caps, through the Procfile's gunicorn (two workers sharing the SQLite
store) against the emulator with Jimeng's per-account limit: the 202 comes at once, before a slot is free, with
a task of the service's own that any worker answers; the submit follows when a slot frees, in the caller's
order; its webhook arrives; an Idempotency-Key repeat gets the same task; a restart while it waits tells the
client that nothing was submitted."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from app.emulator import EmulatorServer
from tests.e2e.test_idempotency import service_env
from tests.e2e.test_webhooks import Receiver, verify_signature
from tests.support import gunicorn_process, gunicorn_server

SESSION = "async-queue-session"
SECRET = "whsec-async-queue-0123456789"


@pytest.fixture
def limited(emu: EmulatorServer) -> EmulatorServer:
    emu.configure(max_running_jobs=2)
    return emu


def env_for(emu: EmulatorServer, tmp_path: Path, **extra: str) -> dict[str, str]:
    settings = {
        "WEB_CONCURRENCY": "2", "STATE_DB": str(tmp_path / "state.sqlite3"), "SESSION_CONCURRENCY": "2",
        "WEBHOOK_SECRET": SECRET, "ALLOW_PRIVATE_CALLBACK_URLS": "1", "WEBHOOK_CHECK_SECONDS": "0.3",
    }  # fmt: skip
    return service_env(emu, **{**settings, **extra})


def post(url: str, body: dict[str, Any], **headers: str) -> requests.Response:
    return requests.post(
        f"{url}/v1/images/generations", json=body, headers={"Authorization": f"Bearer {SESSION}", **headers},
        timeout=30,
    )  # fmt: skip


def task(url: str, task_id: str) -> dict[str, Any]:
    answer = requests.get(f"{url}/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {SESSION}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def settle(url: str, task_id: str, timeout: float = 60.0) -> dict[str, Any]:
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        body = task(url, task_id)
        if body["status"] in ("succeeded", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} did not end: {body}")


def test_async_requests_answer_at_once_and_are_submitted_when_a_slot_frees(
    limited: EmulatorServer, tmp_path: Path
) -> None:
    receiver = Receiver(failures=0)
    try:
        with gunicorn_server(env_for(limited, tmp_path)) as url:
            answers, took = [], []
            for index in range(4):  # one caller, one session, cap 2: two must wait for a slot
                sent = time.monotonic()
                body = {"prompt": f"queued {index} [gen=3s]", "async": True, "callback_url": receiver.url}
                answers.append(post(url, body, **{"Idempotency-Key": f"queued-{index}"}))
                took.append(time.monotonic() - sent)
            assert [a.status_code for a in answers] == [202] * 4, [a.text for a in answers]
            assert max(took) < 2.0, took  # none waited for a generation (3 s) to end
            bodies = [a.json() for a in answers]
            waiting = [b for b in bodies if b["history_id"] is None]
            assert len(waiting) >= 2, bodies
            for body in waiting:
                assert body["id"].startswith("task_") and body["status"] == "queued" and body["waiting_for_slot"]
                assert body["queue_position"] >= 1
            assert all(a.headers["Callback-Status"] == "registered" for a in answers)

            first_wait = waiting[0]["id"]
            again = post(url, {"prompt": "queued 2 [gen=3s]", "async": True, "callback_url": receiver.url},
                         **{"Idempotency-Key": f"queued-{bodies.index(waiting[0])}"})  # fmt: skip
            assert again.status_code == 202 and again.json()["id"] == bodies[bodies.index(waiting[0])]["id"]
            assert task(url, first_wait)["status"] == "queued"  # any worker answers it from the store

            ended = [settle(url, body["id"]) for body in bodies]
            assert [e["status"] for e in ended] == ["succeeded"] * 4, ended
            history = [int(e["history_id"]) for e in ended]
            assert history == sorted(history), history  # submitted in the caller's arrival order
            assert all(len(e["data"]) == 4 for e in ended)

            receiver.wait_for(4, timeout=60)
            delivered = {json.loads(b)["id"]: (b, h) for b, h in receiver.deliveries}
            assert set(delivered) == {b["id"] for b in bodies}
            raw, headers = delivered[first_wait]
            assert verify_signature(SECRET, headers["Jimeng-Signature"], raw)
            hook = json.loads(raw)
            assert hook["status"] == "succeeded" and hook["history_id"] == ended[bodies.index(waiting[0])]["history_id"]
        stats = limited.stats()
        assert "concurrency_limit" not in stats["refusals"], stats["refusals"]
        assert len(stats["generations"]) == 4  # the repeat submitted nothing
        assert max(stats["peak_running"].values()) == 2
    finally:
        receiver.close()


def test_a_task_waiting_when_the_service_stops_reads_as_not_submitted_after_the_restart(
    limited: EmulatorServer, tmp_path: Path
) -> None:
    env = env_for(limited, tmp_path, WEB_CONCURRENCY="1", GRACEFUL_TIMEOUT_SECONDS="8")
    with gunicorn_process(env) as (url, master):
        for index in range(2):
            assert post(url, {"prompt": f"holding {index} [gen=60s]", "async": True}).status_code == 202
        waiting = post(url, {"prompt": "waits [gen=2s]", "async": True}).json()
        assert waiting["id"].startswith("task_") and waiting["history_id"] is None
        os.kill(master.pid, signal.SIGTERM)
        master.wait(timeout=30)
    with gunicorn_server(env) as url:
        ended = task(url, waiting["id"])
    assert ended["status"] == "failed" and ended["history_id"] is None
    assert ended["error"]["code"] == "service_restarting" and "nothing was submitted" in ended["error"]["message"]
    assert len(limited.stats()["generations"]) == 2  # the waiting one never reached Jimeng


def test_a_waiting_task_of_one_replica_is_read_and_followed_on_another_through_redis(
    limited: EmulatorServer, tmp_path: Path, redis_url: str
) -> None:
    env = env_for(limited, tmp_path, WEB_CONCURRENCY="1", REDIS_URL=redis_url)
    with gunicorn_server(env) as first, gunicorn_server(env) as second:
        for index in range(2):
            assert post(first, {"prompt": f"holding {index} [gen=2s]", "async": True}).status_code == 202
        waiting = post(first, {"prompt": "waits on the first replica [gen=1s]", "async": True}).json()
        assert waiting["id"].startswith("task_")
        assert task(second, waiting["id"])["status"] == "queued"
        ended = settle(second, waiting["id"])
    assert ended["status"] == "succeeded" and ended["history_id"] and len(ended["data"]) == 4
    assert max(limited.stats()["peak_running"].values()) == 2
