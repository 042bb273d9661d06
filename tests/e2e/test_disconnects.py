"""Slow and vanishing clients under gunicorn's gevent worker: 100 streams that hang up at random points
leave no poll running and no connection open."""

from __future__ import annotations

import json
import random
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from app.emulator import EmulatorServer
from tests.e2e.conftest import Api
from tests.support import gunicorn_process

STREAMS = 100


def open_stream(port: int, prompt: str, account: str = "000001") -> socket.socket:
    body = json.dumps({"model": "jimeng-4.0", "stream": True, "messages": [{"role": "user", "content": prompt}]})
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    request = (
        # one account per 10 streams: an emulated account's credits pay for about 25 jobs of 4 images
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer disconnect-session-{account}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    )
    sock.sendall(request.encode())
    return sock


def read_events(sock: socket.socket, count: int) -> str:
    """Read until ``count`` SSE events (blank-line separated) arrived; returns what was read."""
    data = b""
    while data.count(b"\n\n") < count:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def hang_up_somewhere(port: int, index: int) -> str | None:
    """A client that reads 1-3 events (role, submitted, progress...) and then closes the connection."""
    rng = random.Random(index)
    sock = open_stream(port, f"cat {index} [gen=30s]", account=f"{index // 10:06d}")
    try:
        text = read_events(sock, rng.randint(1, 3))
        time.sleep(rng.uniform(0, 0.5))
    finally:
        sock.close()
    marker = '"history_id":"'
    return text.split(marker, 1)[1].split('"', 1)[0] if marker in text else None


def established_connections(pid: int, port: int) -> int:
    process = psutil.Process(pid)
    workers = [process, *process.children(recursive=True)]
    return sum(
        1
        for proc in workers
        for conn in proc.net_connections(kind="tcp")
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_ESTABLISHED
    )


def total_polls(emu: EmulatorServer) -> int:
    return int(emu.stats()["requests"]["by_path"].get("/mweb/v1/get_history_by_ids", 0))


def test_hundred_streams_hanging_up_leave_no_poll_and_no_connection(emu: EmulatorServer, tmp_path: Path) -> None:
    env = {
        "JIMENG_BASE_URL": emu.url,
        "JIMENG_IMAGEX_URL": emu.url,
        "WEB_CONCURRENCY": "1",
        "POLL_MAX_LATE_SECONDS_IMAGE": "0.3",
        "POLL_MIN_SECONDS": "0.1",
        "POLL_MAX_SECONDS": "0.3",
        "SSE_KEEPALIVE_SECONDS": "0.3",
        "LOG_LEVEL": "WARNING",
        "SESSION_CONCURRENCY": "0",  # 100 generations on one session at once: more than the caps allow
    }
    with gunicorn_process(env, log_path=tmp_path / "gunicorn.log") as (url, server):
        port = int(url.rsplit(":", 1)[1])
        baseline = established_connections(server.pid, port)
        with ThreadPoolExecutor(25) as pool:
            history_ids = list(pool.map(lambda i: hang_up_somewhere(port, i), range(STREAMS)))
        submitted = [hid for hid in history_ids if hid]
        assert len(submitted) >= STREAMS // 2  # most clients stayed until their generation existed
        time.sleep(1.5)  # a disconnect check (0.5 s) plus a poll interval, with margin
        settled = total_polls(emu)
        time.sleep(2.0)
        assert total_polls(emu) == settled, "generations are still polled after their clients left"
        assert established_connections(server.pid, port) <= baseline
        assert set(submitted) <= set(emu.stats()["generations"])


def test_a_waiting_request_whose_client_hangs_up_stops_polling(start_api: Callable[..., Api]) -> None:
    api = start_api(poll_max_late_seconds_image=0.15, poll_min_seconds=0.05, poll_max_seconds=0.2)
    port = int(api.url.rsplit(":", 1)[1])
    body = json.dumps({"prompt": "cat [gen=30s]"})
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            (
                "POST /v1/images/generations HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer waiting-session-0001\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}"
            ).encode()
        )
        deadline = time.monotonic() + 5
        while not api.generations() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
    assert api.generations()
    time.sleep(1.5)  # one client check (1 s) and a poll interval
    settled = total_polls(api.emulator)
    time.sleep(1.5)
    assert total_polls(api.emulator) == settled
