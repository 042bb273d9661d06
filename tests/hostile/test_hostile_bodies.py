"""Hostile request bodies against the Procfile command (one gevent worker): none of them stalls the worker."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from app.emulator import EmulatorServer
from bench.attacks import PingProbe, body_bomb, body_slowloris
from tests.e2e.conftest import assert_error
from tests.support import gunicorn_server

MIB = 1024 * 1024
HEADERS = {"Authorization": "Bearer sess-hostile-0001", "Content-Type": "application/json"}
NO_STALL_SECONDS = 5.0  # generous: a stalled worker answered its pings after tens of seconds


@pytest.fixture(scope="module")
def url(emulator_session: EmulatorServer) -> Iterator[str]:
    env = {
        "JIMENG_BASE_URL": emulator_session.url,
        "JIMENG_IMAGEX_URL": emulator_session.url,
        "WEB_CONCURRENCY": "1",
        "MAX_BODY_BYTES": str(8 * MIB),
        "BODY_READ_TIMEOUT_SECONDS": "2",
    }
    with gunicorn_server(env) as base_url:
        yield base_url


def pings_while(url: str, stop: threading.Event, answered: list[float]) -> None:
    while not stop.is_set():
        started = time.monotonic()
        with requests.get(f"{url}/ping", timeout=NO_STALL_SECONDS) as response:
            assert response.text == "pong"
        answered.append(time.monotonic() - started)
        stop.wait(0.05)


@pytest.mark.parametrize("size", [2 * MIB, 7 * MIB])
def test_a_large_lenient_body_gets_400_while_pings_are_answered(url: str, size: int) -> None:
    body = b'{"prompt": "cat", "x": "' + b"A" * size + b'",}'
    stop, answered = threading.Event(), []
    probe = threading.Thread(target=pings_while, args=(url, stop, answered))
    probe.start()
    try:
        time.sleep(0.1)
        response = requests.post(f"{url}/v1/images/generations", data=body, headers=HEADERS, timeout=30)
        time.sleep(0.2)
    finally:
        stop.set()
        probe.join()
    error = assert_error(response, 400, "invalid_json")
    assert f"line 1, column {len(body)}" in error["message"]  # the final "}" after the comma
    assert "Lenient JSON" in error["message"]
    assert answered, "no ping was answered while the body was refused"


def test_a_chunked_body_over_the_limit_gets_413(url: str) -> None:
    observed = body_bomb(url, 12 * MIB, chunked=True)
    assert observed["status"] == 413, observed
    assert observed["code"] == "request_too_large"


def test_a_chunked_body_within_the_limit_is_read(url: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"prompt": "",'
        yield b'"x": "' + b"A" * MIB + b'"}'

    response = requests.post(f"{url}/v1/images/generations", data=chunks(), headers=HEADERS, timeout=30)
    assert_error(response, 400, "invalid_value")  # read whole and parsed: the empty prompt is refused


def _post_head(url: str, framing: str, authorization: str | None) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    auth = f"Authorization: {authorization}\r\n" if authorization else ""
    return (
        f"POST /v1/images/generations HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    ).encode()


def _answer_then_fate(url: str, head: bytes, pieces: list[bytes]) -> tuple[bytes, str]:
    """Send a request and the first piece of its body; read the answer; then go on sending the rest: does the
    service read it ("kept reading", gunicorn draining the body), or has it closed the connection?"""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=NO_STALL_SECONDS) as sock:
        sock.sendall(head + pieces[0])
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        try:
            for piece in pieces[1:]:
                sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            return answer, "closed"
        except TimeoutError:
            return answer, "stopped reading, left open"
    return answer, "kept reading"


@pytest.mark.parametrize(
    ("framing", "authorization", "status"),
    [
        (f"Content-Length: {100 * MIB}", HEADERS["Authorization"], b"413"),  # over the cap, refused unread
        (f"Content-Length: {7 * MIB}", None, b"401"),  # answered 401 before the body is read
        ("Transfer-Encoding: chunked", None, b"401"),
    ],
)
def test_an_answer_that_leaves_a_large_body_unread_closes_the_connection(
    url: str, framing: str, authorization: str | None, status: bytes
) -> None:
    """Gunicorn would read and discard the rest to keep the connection: megabytes in small pieces, the event
    loop held as long as the sender keeps up. The service answers, then closes instead."""
    piece = b"A" * (64 * 1024)
    if "chunked" in framing:
        piece = b"%x\r\n%s\r\n" % (len(piece), piece)
    answer, fate = _answer_then_fate(
        url, _post_head(url, framing, authorization), [piece] * 100
    )  # 6.25 MiB: within every declared length
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
    assert fate == "closed"


def test_a_short_unread_body_keeps_the_connection(url: str) -> None:
    with requests.Session() as session:
        for _ in range(2):
            response = session.post(f"{url}/v1/images/generations", data=b'{"prompt": "cat"}', timeout=10)
            assert response.status_code == 401
            assert response.headers.get("Connection", "").lower() != "close"
        assert len(session.adapters["http://"].poolmanager.pools) == 1


def test_a_body_slowloris_is_cut_after_the_deadline_with_408(url: str) -> None:
    with PingProbe(url, interval=0.25, keep_alive=False) as probe:
        observed = body_slowloris(url, connections=20, hold_seconds=15)
    assert observed["outcomes"] == {"408 request_timeout": 20}, observed
    assert observed["still_open_after_hold"] == 0
    assert probe.figures()["failed"] == 0


def test_a_bad_request_line_gets_gunicorn_s_400_as_json(url: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GARBAGE\r\n\r\n")
        answer = b""
        while data := sock.recv(65536):
            answer += data
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\n"), head
    assert b"Content-Type: application/json" in head
    error = requests.models.complexjson.loads(body)["error"]
    assert set(error) == {"message", "type", "param", "code", "history_id"}
    assert (error["type"], error["code"]) == ("invalid_request_error", "bad_request")
    assert "GARBAGE" in error["message"]


def test_headers_over_gunicorn_s_limit_get_json(url: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("GET", "/ping")
    for index in range(120):  # gunicorn's limit_request_fields is 100
        connection.putheader(f"X-Filler-{index}", "x")
    connection.endheaders()
    response = connection.getresponse()
    assert response.status in (400, 431)
    assert response.getheader("Content-Type") == "application/json"
    error = requests.models.complexjson.loads(response.read())["error"]
    assert error["code"] in ("bad_request", "request_header_fields_too_large")
    connection.close()
