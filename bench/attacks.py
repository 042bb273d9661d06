"""Hostile request bodies against a running service, each returning what it observed (issue 15).

Small functions for `bench/hostile.py` (which runs them against one gevent worker and prints the figures) and
for tests; each takes the service's base URL:

- `body_bomb(url, size, chunked=...)`: a `size`-byte body that strict JSON refuses (a trailing comma after a
  huge string, the kind that used to go to the pure-Python lenient parser), sent with a Content-Length or
  chunked, as fast as the service reads it.
- `body_slowloris(url, connections, hold_seconds)`: `connections` requests that send their headers,
  `Content-Length: 100` and one byte, then nothing; how long the service holds each.
- `PingProbe`: a second client's `GET /ping` every ~50 ms while an attack runs, on one kept-alive connection
  or on a new connection each time.

Figures, not tests: nothing here asserts on time.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import select
import selectors
import socket
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

import requests

from bench import harness

ENDPOINT = "/v1/images/generations"
TOKEN = "sess-hostile-bench-0001"
PING_TIMEOUT_SECONDS = 60.0
ANSWER_SECONDS = 30.0  # how long a bomb waits for the answer once it stopped sending


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
    """Status line, error code and message of a raw HTTP answer (what arrived of it)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    code = message = None
    with suppress(ValueError, KeyError, TypeError):
        error = json.loads(body.decode())["error"]
        code, message = error["code"], str(error["message"])[:160]
    words = status_line.split()
    status = int(words[1]) if len(words) > 1 and words[1].isdigit() else None
    return {"status": status, "status_line": status_line, "code": code, "message": message}


def _ping_loop(url: str, interval: float, keep_alive: bool, stop: Any, ready: Any, out: Any) -> None:
    """The probe's own process: `GET /ping` every `interval` s until `stop`; (latencies, failures) to `out`."""
    latencies: list[float] = []
    failures: list[str] = []
    session = requests.Session() if keep_alive else None
    try:
        while not stop.is_set():
            started = time.monotonic()
            try:
                getter = session.get if session is not None else requests.get
                with getter(f"{url}/ping", timeout=PING_TIMEOUT_SECONDS) as response:
                    response.raise_for_status()
                latencies.append(time.monotonic() - started)
            except requests.RequestException as err:
                failures.append(f"{type(err).__name__} after {time.monotonic() - started:.1f}s")
            ready.set()
            stop.wait(interval)
    finally:
        if session is not None:
            session.close()
        out.put((latencies, failures))


class PingProbe:
    """A second client: `GET /ping` every `interval` seconds while an attack runs, from a process of its own
    (threads in the attacker's process would share its GIL, and time the attacker instead of the service).

    `keep_alive=True`: one connection, opened before the attack (the block starts after the first answer) and
    reused; `False`: a new connection per ping, as a client arriving during the attack has to open one.
    """

    def __init__(self, url: str, interval: float = 0.05, keep_alive: bool = True) -> None:
        self.url = url
        self.interval = interval
        self.keep_alive = keep_alive
        self.latencies: list[float] = []
        self.failures: list[str] = []
        context = multiprocessing.get_context("spawn")
        self._stop, self._ready, self._out = context.Event(), context.Event(), context.Queue()
        self._process = context.Process(
            target=_ping_loop,
            args=(url, interval, keep_alive, self._stop, self._ready, self._out),
            name="ping-probe",
            daemon=True,
        )

    def __enter__(self) -> PingProbe:
        self._process.start()
        self._ready.wait(PING_TIMEOUT_SECONDS)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.latencies, self.failures = self._out.get(timeout=PING_TIMEOUT_SECONDS + 5)
        self._process.join(10)

    def figures(self) -> dict[str, Any]:
        values = self.latencies

        def _pct(pct: float) -> float | None:
            value = harness.percentile(values, pct)
            return None if value is None else round(value, 4)

        return {
            "keep_alive": self.keep_alive,
            "pings": len(values),
            "failed": len(self.failures),
            "p50_seconds": _pct(50),
            "p99_seconds": _pct(99),
            "max_seconds": round(max(values), 4) if values else None,
            "failures": self.failures[:5],
        }


BOMB_SHAPES = {
    # strict JSON refuses it at its last byte, after a parser built the 16 MB string
    "trailing-comma": (b'{"prompt": "", "x": "', b"A", b'",}'),
    # valid JSON: millions of empty objects, hundreds of MB once parsed
    "tiny-values": (b'{"prompt": "", "x": [', b"{},", b"{}]}"),
}


def _bomb_pieces(size: int, chunk: int, shape: str = "trailing-comma") -> Iterator[bytes]:
    """A body of the `shape` (`BOMB_SHAPES`: head, repeated unit, tail) of about `size` bytes (at least its
    frame), in pieces of about `chunk`."""
    head, unit, tail = BOMB_SHAPES[shape]
    yield head
    filler = max(0, size - len(head) - len(tail)) // len(unit)
    per_piece = max(1, chunk // len(unit))
    piece = unit * per_piece
    while filler > 0:
        yield piece[: min(per_piece, filler) * len(unit)]
        filler -= per_piece
    yield tail


def body_bomb(
    url: str, size: int, *, chunked: bool, chunk: int = 64 * 1024, shape: str = "trailing-comma"
) -> dict[str, Any]:
    """POST a `size`-byte body strict JSON refuses, with a Content-Length or chunked, as fast as the service
    reads it; stop sending as soon as an answer (or a close) arrives, or when the service read nothing for
    `ANSWER_SECONDS`. The answer, how many body bytes were sent before it, and when it arrived."""
    sock = socket.create_connection(_address(url), timeout=30)
    framing = "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {size}\r\n"
    pieces = (b"%x\r\n%s\r\n" % (len(p), p) if chunked else p for p in _bomb_pieces(size, chunk, shape))
    ending = [b"0\r\n\r\n"] if chunked else []
    sent = 0
    started = time.monotonic()
    answered_after = None
    answer = b""
    try:
        sock.sendall(_head(url, framing))
        sock.setblocking(False)
        pending = b""
        for piece in itertools.chain(pieces, ending):
            pending = piece
            while pending:
                readable, writable, _ = select.select([sock], [sock], [], ANSWER_SECONDS)
                if readable or not writable:
                    break  # an answer before the whole body, or the service stopped reading
                try:
                    written = sock.send(pending)
                except OSError:
                    break
                pending = pending[written:]
            if pending:
                break
            sent += len(piece)
        sock.setblocking(True)
        sock.settimeout(ANSWER_SECONDS)
        with suppress(OSError):
            while data := sock.recv(65536):
                answered_after = answered_after or time.monotonic() - started
                answer += data
                if _complete(answer):
                    break
    finally:
        sock.close()
    return {
        "bytes": size,
        "chunked": chunked,
        "bytes_sent": min(sent, size),
        "answered_after_seconds": round(answered_after, 3) if answered_after else None,
        **_status_of(answer),
    }


def _complete(answer: bytes) -> bool:
    """A whole answer with a Content-Length has arrived (the service may keep the connection open)."""
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return len(body) >= int(value.strip())
    return False


def body_slowloris(url: str, connections: int, hold_seconds: float) -> dict[str, Any]:
    """`connections` requests that send headers, `Content-Length: 100` and one byte, then wait up to
    `hold_seconds` for the service to answer or close; how long each was held and how it ended."""
    selector = selectors.DefaultSelector()
    opened: dict[socket.socket, float] = {}
    answers: dict[socket.socket, bytes] = {}
    held: list[float] = []
    outcomes: Counter[str] = Counter()
    connect_failures = 0
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
    }
