"""Hostile request bodies against a running service, each returning what it observed (issue 15).

Small functions for `bench/hostile.py` and for tests; each takes the service's base URL:

- `lenient_bomb(url, size)`: a `size`-byte body that strict JSON refuses (a trailing comma after a huge
  string), the kind that used to go to the pure-Python lenient parser; a second client pings meanwhile.
- `chunked_bomb(url, size)`: a chunked (length-less) body of `size` bytes, sent as fast as the server reads.
- `body_slowloris(url, connections, hold_seconds)`: `connections` requests that send their headers,
  `Content-Length: 100` and one byte, then nothing; how long the service holds each, and how a second
  client's `/ping` fares meanwhile.

    python -m bench.attacks [--connections 1000] [--hold 40] [--lenient-mb 16] [--chunked-mb 30]

runs all three against a fresh service (Procfile command, one gevent worker, the emulator upstream) and
prints the figures. Figures, not tests: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import select
import selectors
import socket
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from urllib.parse import urlsplit

import requests

ENDPOINT = "/v1/images/generations"
TOKEN = "sess-hostile-bench-0001"
PING_TIMEOUT_SECONDS = 60.0


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _head(url: str, extra: str) -> bytes:
    host, port = _address(url)
    return (
        f"POST {ENDPOINT} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: application/json\r\n{extra}\r\n"
    ).encode()


def _status_of(answer: bytes) -> dict[str, Any]:
    """Status line and the error code of a raw HTTP answer (what arrived of it)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    code = None
    with suppress(ValueError, KeyError, TypeError):
        code = json.loads(body.decode())["error"]["code"]
    words = status_line.split()
    status = int(words[1]) if len(words) > 1 and words[1].isdigit() else None
    return {"status": status, "status_line": status_line, "code": code}


class PingProbe:
    """A second client: `GET /ping` one after another (each on a new connection) while an attack runs."""

    def __init__(self, url: str, interval: float = 0.25) -> None:
        self.url = url
        self.interval = interval
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PingProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(PING_TIMEOUT_SECONDS + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                with requests.get(f"{self.url}/ping", timeout=PING_TIMEOUT_SECONDS) as response:
                    response.raise_for_status()
                self.latencies.append(time.monotonic() - started)
            except requests.RequestException as err:
                self.failures.append(f"{type(err).__name__} after {time.monotonic() - started:.1f}s")
            self._stop.wait(self.interval)

    def figures(self) -> dict[str, Any]:
        values = sorted(self.latencies)
        return {
            "pings": len(values),
            "failed": len(self.failures),
            "median_seconds": round(statistics.median(values), 3) if values else None,
            "max_seconds": round(values[-1], 3) if values else None,
            "failures": self.failures[:5],
        }


def lenient_bomb(url: str, size: int) -> dict[str, Any]:
    """POST a `size`-byte body strict JSON refuses; the answer, its time, and the pings answered meanwhile."""
    filler = max(0, size - 32)
    body = b'{"prompt": "", "x": "' + b"A" * filler + b'",}'  # lenient, and refused once parsed
    with PingProbe(url, interval=0.1) as probe:
        started = time.monotonic()
        response = requests.post(
            url + ENDPOINT,
            data=body,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            timeout=120,
        )
        seconds = time.monotonic() - started
        time.sleep(0.3)  # one more ping after the answer
    is_json = response.headers.get("Content-Type", "").startswith("application/json")
    error = response.json().get("error", {}) if is_json else {}
    return {
        "bytes": len(body),
        "status": response.status_code,
        "code": error.get("code"),
        "message": (error.get("message") or "")[:160],
        "seconds": round(seconds, 3),
        "ping": probe.figures(),
    }


def chunked_bomb(url: str, size: int, chunk: int = 64 * 1024) -> dict[str, Any]:
    """Send `size` bytes chunked (no Content-Length), watching for an answer between chunks; stop sending when
    it arrives or the service stops reading. The answer, and how many bytes were sent before it."""
    sock = socket.create_connection(_address(url), timeout=30)
    sent = 0
    started = time.monotonic()
    answered_after = None
    try:
        sock.sendall(_head(url, "Transfer-Encoding: chunked\r\n"))
        piece = b"A" * chunk
        sock.settimeout(0.5)
        while sent < size and not select.select([sock], [], [], 0)[0]:
            part = piece[: min(chunk, size - sent)]
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
            except OSError:
                break  # the service stopped reading: its answer, if any, is waiting
            sent += len(part)
        else:
            if sent >= size:
                sock.sendall(b"0\r\n\r\n")
        answer = b""
        sock.settimeout(30)
        with suppress(OSError):
            while data := sock.recv(65536):
                answered_after = answered_after or time.monotonic() - started
                answer += data
    finally:
        sock.close()
    return {
        "bytes_sent": sent,
        "answered_after_seconds": round(answered_after, 3) if answered_after else None,
        **_status_of(answer),
    }


def body_slowloris(url: str, connections: int, hold_seconds: float) -> dict[str, Any]:
    """`connections` requests that send headers, `Content-Length: 100` and one byte, then wait up to
    `hold_seconds` for the service to answer or close; how long each was held, and a second client's pings."""
    selector = selectors.DefaultSelector()
    opened: dict[socket.socket, float] = {}
    answers: dict[socket.socket, bytes] = {}
    held: list[float] = []
    outcomes: Counter[str] = Counter()
    connect_failures = 0
    with PingProbe(url) as probe:
        for _ in range(connections):
            try:
                sock = socket.create_connection(_address(url), timeout=10)
                sock.sendall(_head(url, "Content-Length: 100\r\n") + b"{")
            except OSError:
                connect_failures += 1
                continue
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
            opened[sock] = time.monotonic()
            answers[sock] = b""
        end = time.monotonic() + hold_seconds
        while opened and (left := end - time.monotonic()) > 0:
            for key, _ in selector.select(timeout=min(left, 0.5)):
                sock = key.fileobj  # type: ignore[assignment]
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if data:
                    answers[sock] += data
                    continue
                held.append(time.monotonic() - opened.pop(sock))
                status = _status_of(answers.pop(sock))
                outcomes[f"{status['status']} {status['code']}" if status["status"] else "closed without answer"] += 1
                selector.unregister(sock)
                sock.close()
        still_open = len(opened)
        for sock in opened:
            selector.unregister(sock)
            sock.close()
    selector.close()
    held.sort()
    return {
        "connections": connections,
        "connect_failures": connect_failures,
        "closed_by_service": len(held),
        "still_open_after_hold": still_open,
        "outcomes": dict(outcomes),
        "held_median_seconds": round(statistics.median(held), 2) if held else None,
        "held_max_seconds": round(held[-1], 2) if held else None,
        "ping": probe.figures(),
    }


@contextmanager
def _fresh_service(overrides: dict[str, str]) -> Iterator[str]:
    from bench import harness

    with (
        TemporaryDirectory(prefix="jimeng-attacks-") as tmp,
        harness.emulator(Path(tmp)) as emu,
        harness.service(emu.url, Path(tmp), {"WEB_CONCURRENCY": "1", **overrides}) as service,
    ):
        yield service.url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--hold", type=float, default=40.0, help="seconds each slowloris connection waits at most")
    parser.add_argument("--lenient-mb", type=float, default=16.0)
    parser.add_argument("--chunked-mb", type=float, default=30.0)
    args = parser.parse_args()
    with _fresh_service({}) as url:
        figures = {
            "lenient_bomb": lenient_bomb(url, int(args.lenient_mb * 1024 * 1024)),
            "lenient_bomb_64k": lenient_bomb(url, 64 * 1024),
            "chunked_bomb": chunked_bomb(url, int(args.chunked_mb * 1024 * 1024)),
        }
    with _fresh_service({}) as url:
        figures["body_slowloris"] = body_slowloris(url, args.connections, args.hold)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
