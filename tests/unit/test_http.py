"""The one HTTP exchange against a local server: whole bodies, pooled connections, caps, deadlines, and what
broke on the wire (with reasons that never carry the URL)."""

from __future__ import annotations

import gzip
import socket
import struct
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import requests

from app.http import BodyTooLargeError, DeadlinePassedError, WireError, exchange, succeeded
from tests.local_http import ScriptedServer, answer, scripted_server
from tests.support import free_port

BODY = b'{"ret": "0", "data": {"x": "' + b"y" * 200_000 + b'"}}'


def chunked(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    for start in range(0, len(BODY), 70_000):
        piece = BODY[start : start + 70_000]
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
    handler.wfile.write(b"0\r\n\r\n")


def hang_up(handler: BaseHTTPRequestHandler) -> None:
    handler.close_connection = True  # the request was read; no answer comes


@pytest.fixture
def keep_alive() -> Iterator[ScriptedServer]:
    with scripted_server("HTTP/1.1") as server:
        server.routes.update({
            "/plain": answer(200, BODY, {"Content-Type": "application/json"}),
            "/gzip": answer(200, gzip.compress(BODY), {"Content-Encoding": "gzip"}),
            "/chunked": chunked,
            "/missing": answer(404, b"x" * 5000),
            "/hang-up?token=secret": hang_up,
            "/slow?token=secret": lambda handler: server.stop.wait(5),
        })  # fmt: skip
        yield server


@pytest.mark.parametrize("path", ["/plain", "/gzip", "/chunked"])
def test_a_body_is_read_whole_and_its_connection_serves_the_next_call(keep_alive: ScriptedServer, path: str) -> None:
    """The poller's calls must not open a connection each: reading to the end hands it back to the pool."""
    with requests.Session() as session:
        replies = [exchange(session.request, "GET", keep_alive.base + path, timeout=(2, 2)) for _ in range(3)]
    assert all((reply.status, reply.body) == (200, BODY) for reply in replies)
    assert len(set(keep_alive.ports)) == 1


def test_a_body_the_caller_does_not_want_is_left_unread(keep_alive: ScriptedServer) -> None:
    with requests.Session() as session:
        reply = exchange(session.request, "GET", keep_alive.base + "/missing", max_bytes=10, read_when=succeeded)
    assert (reply.status, reply.body, reply.headers["content-length"]) == (404, b"", "5000")


@pytest.mark.parametrize("path", ["/plain", "/gzip", "/chunked"])
def test_a_body_over_the_cap_is_refused(keep_alive: ScriptedServer, path: str) -> None:
    with requests.Session() as session, pytest.raises(BodyTooLargeError, match="larger than 1000 bytes"):
        exchange(session.request, "GET", keep_alive.base + path, timeout=(2, 2), max_bytes=1000)


def test_a_body_still_arriving_at_the_deadline_is_refused(keep_alive: ScriptedServer) -> None:
    with requests.Session() as session, pytest.raises(DeadlinePassedError):
        exchange(session.request, "GET", keep_alive.base + "/chunked", deadline=time.monotonic() - 1)


def test_a_refused_connection_was_never_sent() -> None:
    url = f"http://user:hunter2@127.0.0.1:{free_port()}/x?token=secret"
    with requests.Session() as session, pytest.raises(WireError) as caught:
        exchange(session.request, "POST", url, timeout=(2, 2))
    assert (caught.value.reason, caught.value.sent) == ("could not connect", False)


@pytest.mark.parametrize(("path", "reason"), [("/hang-up", "connection lost"), ("/slow", "timed out")])
def test_an_answer_lost_after_the_request_may_have_been_acted_on(
    keep_alive: ScriptedServer, path: str, reason: str
) -> None:
    url = keep_alive.base.replace("//", "//user:hunter2@") + path + "?token=secret"  # the reason names neither
    with requests.Session() as session, pytest.raises(WireError) as caught:
        exchange(session.request, "GET", url, timeout=(2, 0.3))
    assert (caught.value.reason, caught.value.sent) == (reason, True)
    assert "hunter2" not in str(caught.value) and "secret" not in str(caught.value)


def reset_mid_body(handler: BaseHTTPRequestHandler) -> None:
    """Half the promised body, then a TCP reset (SO_LINGER 0): the client sees ConnectionResetError(104, ...)."""
    handler.send_response(200)
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    handler.wfile.write(b"x" * 1000)
    handler.wfile.flush()
    time.sleep(0.05)
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (reset_mid_body, "the connection was reset"),
        (answer(200, b"not gzip at all", {"Content-Encoding": "gzip"}), "the answer's content encoding is broken"),
    ],
)
def test_a_broken_answer_is_told_in_a_plain_phrase(route: Any, reason: str) -> None:
    """Users read these reasons (an input image's fetch error): no exception repr, no library class name."""
    with scripted_server("HTTP/1.1") as server:
        server.routes["/x"] = route
        with requests.Session() as session, pytest.raises(WireError) as caught:
            exchange(session.request, "GET", server.base + "/x", timeout=(2, 2))
    assert caught.value.reason == reason
