"""SIGTERM (every deploy, Heroku's daily restart) with generations in flight: the Procfile service against the
emulator. Every waiting client and every stream gets its generation's history id before the worker exits."""

from __future__ import annotations

import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from app.emulator import EmulatorServer
from tests.e2e.conftest import emu, emulator_session  # noqa: F401  (fixtures)
from tests.support import gunicorn_process

WAITING = STREAMS = 20
QUICK = 4  # short jobs started with the others: they finish inside the window
GRACE = 8  # GRACEFUL_TIMEOUT_SECONDS: the long jobs are answered 5 s before its end, 3 s after SIGTERM


def wait_for_image(url: str, i: int, gen: str) -> requests.Response:
    body = {"prompt": f"a cat number {i} [gen={gen}]", "model": "jimeng-4.0"}
    headers = {"Authorization": f"Bearer shutdown-session-{i:04d}"}
    return requests.post(f"{url}/v1/images/generations", json=body, headers=headers, timeout=60)


def stream_chat(url: str, i: int) -> list[str]:
    """Every `data:` payload of one streamed chat completion, in order."""
    body: dict[str, Any] = {
        "model": "jimeng-4.0",
        "stream": True,
        "messages": [{"role": "user", "content": f"dog {i} [gen=60s]"}],
    }
    headers = {"Authorization": f"Bearer shutdown-stream-{i:04d}"}
    with requests.post(f"{url}/v1/chat/completions", json=body, headers=headers, stream=True, timeout=60) as resp:
        assert resp.status_code == 200, resp.text
        lines = [raw.decode() for raw in resp.iter_lines()]
        return [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]


def wait_for_generations(emulator: EmulatorServer, count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while len(emulator.stats().get("generations", {})) < count:
        assert time.monotonic() < deadline, f"only {len(emulator.stats().get('generations', {}))} of {count} submitted"
        time.sleep(0.1)


@pytest.mark.parametrize("target", ["master", "every process"])  # a deploy's kill; Heroku signals every process
def test_sigterm_answers_every_waiting_request_and_stream_with_its_history_id(
    emu: EmulatorServer,  # noqa: F811
    tmp_path: Path,
    target: str,
) -> None:
    env = {
        "JIMENG_BASE_URL": emu.url,
        "JIMENG_IMAGEX_URL": emu.url,
        "WEB_CONCURRENCY": "2",
        "GRACEFUL_TIMEOUT_SECONDS": str(GRACE),
        "POLL_MAX_LATE_SECONDS_IMAGE": "0.3",
        "POLL_MIN_SECONDS": "0.1",
        "POLL_MAX_SECONDS": "0.5",
        "SSE_KEEPALIVE_SECONDS": "1",
        "LOG_LEVEL": "INFO",
    }
    log = tmp_path / "gunicorn.log"
    with gunicorn_process(env, log_path=log) as (url, server), ThreadPoolExecutor(WAITING + STREAMS + QUICK) as pool:
        waiting = [pool.submit(wait_for_image, url, i, "60s") for i in range(WAITING)]
        streams = [pool.submit(stream_chat, url, i) for i in range(STREAMS)]
        wait_for_generations(emu, WAITING + STREAMS)
        quick = [pool.submit(wait_for_image, url, 100 + i, "1500ms") for i in range(QUICK)]
        wait_for_generations(emu, WAITING + STREAMS + QUICK)
        kept_alive = requests.Session()  # a client whose connection stays open across the SIGTERM
        assert kept_alive.get(f"{url}/ping", timeout=5).status_code == 200
        signalled = time.monotonic()
        workers = psutil.Process(server.pid).children() if target == "every process" else []
        server.send_signal(signal.SIGTERM)  # the master passes it on to its workers
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        late = kept_alive.post(
            f"{url}/v1/images/generations", json={"prompt": "too late [gen=60s]"},
            headers={"Authorization": "Bearer shutdown-late-0001"}, timeout=10,
        )  # fmt: skip
        kept_alive.close()
        answered = [f.result(timeout=GRACE + 10) for f in waiting]
        ended = [f.result(timeout=GRACE + 10) for f in streams]
        finished = [f.result(timeout=GRACE + 10) for f in quick]
        answered_within = time.monotonic() - signalled
        server.wait(timeout=GRACE + 10)
    generations = set(emu.stats()["generations"])

    ids = [check_waiting_answer(response) for response in answered]
    ids += [check_stream_end(events) for events in ended]
    assert len(set(ids)) == WAITING + STREAMS and set(ids) <= generations  # each its own, real generation
    for response in finished:  # short jobs were not cut short: they finished inside the window
        assert response.status_code == 200, response.text
        assert response.json()["data"][0]["url"]
    # a request that came after the SIGTERM on a kept-alive connection: refused before anything was spent
    assert late.status_code == 503 and late.json()["error"]["code"] == "service_restarting", late.text
    assert late.json()["error"]["history_id"] is None and late.headers["Retry-After"] == "1"
    assert late.headers.get("Connection") == "close"  # gunicorn closes it: the retry goes to a worker that stays
    assert len(generations) == WAITING + STREAMS + QUICK  # nothing was submitted for it
    assert answered_within < GRACE, f"answers came {answered_within:.1f}s after SIGTERM, the window is {GRACE}s"
    assert server.returncode == 0, log.read_text()[-3000:]


def check_waiting_answer(response: requests.Response) -> str:
    assert response.status_code == 503, response.text
    assert response.headers.get("x-should-retry") == "false"
    assert "Retry-After" not in response.headers
    error = response.json()["error"]
    assert error["code"] == "service_restarting" and error["type"] == "service_unavailable", error
    assert error["history_id"] and f"/v1/tasks/{error['history_id']}" in error["message"]
    return str(error["history_id"])


def check_stream_end(events: list[str]) -> str:
    assert events[-1] == "[DONE]", events[-3:]
    last: dict[str, Any] = json.loads(events[-2])
    error = last.get("error")
    assert error and error["code"] == "service_restarting", last
    submitted = [json.loads(e) for e in events[1:-1] if "Submitted to Jimeng" in e]
    assert submitted and submitted[0]["history_id"] == error["history_id"]  # told early, and again at the end
    return str(error["history_id"])
