"""Fetching a user's URL against a local server: redirects, the address guard on every hop, caps, deadlines."""

from __future__ import annotations

import gzip
import socket
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import requests

from app.domain.errors import ImageTooLargeError, InvalidRequestError
from app.errors import describe_exception
from app.inputs import fetch, guard
from tests.images import PNG
from tests.local_http import answer

MAX = 10_000
TIMEOUT = (2.0, 2.0)
REAL_GETADDRINFO = socket.getaddrinfo


def _resolving(names: dict[str, list[str]]) -> Callable[..., Any]:
    """getaddrinfo that answers ``names`` itself and passes IP literals (the pinned connect) through."""

    def getaddrinfo(host: str, port: Any, *args: Any, **kw: Any) -> list[Any]:
        if host in names:
            return [
                (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
                for ip in names[host]
            ]
        return REAL_GETADDRINFO(host, port, *args, **kw)

    return getaddrinfo


@pytest.mark.parametrize(
    ("addresses", "reason"),
    [
        (["10.0.0.7"], "resolves to a private address 10.0.0.7"),
        (["93.184.216.34", "192.168.0.9"], "resolves to a private address 192.168.0.9"),
        (["::1"], "resolves to a loopback address ::1"),
    ],
)
def test_a_public_name_resolving_to_a_private_address_is_refused(
    monkeypatch: pytest.MonkeyPatch, addresses: list[str], reason: str
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _resolving({"images.example.com": addresses}))
    with pytest.raises(InvalidRequestError) as caught:
        _fetch("https://images.example.com/cat.png", allow_private=False)
    assert caught.value.code == "image_fetch_failed"
    assert caught.value.message == f"Could not fetch images[0] (https://images.example.com/cat.png): {reason}"


def _fetch(url: str, *, allow_private: bool = True, max_bytes: int = MAX, timeout: Any = TIMEOUT) -> bytes:
    with requests.Session() as http:
        image = fetch.fetch_image_url(
            url, http=http, max_bytes=max_bytes, allow_private=allow_private, timeout=timeout, param="images[0]"
        )
    return image.data


def _failure(url: str, **kw: Any) -> str:
    with pytest.raises(InvalidRequestError) as caught:
        _fetch(url, **kw)
    assert (caught.value.code, caught.value.param) == ("image_fetch_failed", "images[0]")
    return caught.value.message


def test_a_url_is_fetched_through_at_most_three_redirects(server: Any) -> None:
    base, routes, seen, _ = server
    routes.update({f"/r{i}": answer(302, headers={"Location": f"/r{i + 1}"}) for i in range(3)})
    routes["/r3"] = answer(200, PNG)
    assert _fetch(f"{base}/r0") == PNG
    assert [path for path, _ in seen] == ["/r0", "/r1", "/r2", "/r3"]


def test_a_fourth_redirect_is_refused(server: Any) -> None:
    base, routes, _, _ = server
    routes.update({f"/r{i}": answer(301, headers={"Location": f"/r{i + 1}"}) for i in range(5)})
    assert _failure(f"{base}/r0").endswith("too many redirects (more than 3)")


def test_a_loopback_url_is_refused_before_it_is_fetched(server: Any) -> None:
    base, routes, seen, _ = server
    routes["/cat.png"] = answer(200, PNG)
    assert _failure(f"{base}/cat.png", allow_private=False).endswith("resolves to a loopback address 127.0.0.1")
    assert seen == []


def test_the_connection_goes_to_the_address_that_was_checked(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The name is resolved once, by the guard; the connect uses that address and keeps the name as Host."""
    base, routes, seen, _ = server
    routes["/cat.png"] = answer(200, PNG)
    lookups: list[str] = []
    resolver = _resolving({"pinned.test": ["127.0.0.1"]})
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **kw: lookups.append(host) or resolver(host, *a, **kw))
    port = base.rsplit(":", 1)[1]
    assert _fetch(f"http://pinned.test:{port}/cat.png") == PNG
    assert seen == [("/cat.png", f"pinned.test:{port}")]
    assert lookups.count("pinned.test") == 1


def test_a_redirect_to_a_private_address_is_refused(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Our server stands in for a public host ("public.test" -> 127.0.0.1, which this test alone treats as
    public); it redirects to "internal.test", which resolves to 10.0.0.8 and must be refused."""
    base, routes, seen, _ = server
    port = base.rsplit(":", 1)[1]
    routes["/go"] = answer(302, headers={"Location": f"http://internal.test:{port}/secret"})
    monkeypatch.setattr(
        socket, "getaddrinfo", _resolving({"public.test": ["127.0.0.1"], "internal.test": ["10.0.0.8"]})
    )
    refusal = guard.address_refusal
    monkeypatch.setattr(guard, "address_refusal", lambda ip: None if ip == "127.0.0.1" else refusal(ip))
    message = _failure(f"http://public.test:{port}/go", allow_private=False)
    assert message.endswith("resolves to a private address 10.0.0.8")
    assert [path for path, _ in seen] == ["/go"]


def test_a_redirect_to_another_scheme_is_refused(server: Any) -> None:
    base, routes, _, _ = server
    routes["/go"] = answer(302, headers={"Location": "file:///etc/passwd"})
    assert _failure(f"{base}/go").endswith("only http and https URLs can be fetched")


def test_a_404_names_the_url_without_its_credentials(server: Any) -> None:
    base, routes, _, _ = server
    routes["/missing.png?x=1"] = answer(404, b"nope")
    url = base.replace("http://", "http://user:hunter2@") + "/missing.png?x=1"
    message = _failure(url)
    assert message == f"Could not fetch images[0] ({base}/missing.png): HTTP 404"
    assert "hunter2" not in message


@pytest.mark.parametrize("declared", [True, False])
def test_a_body_over_the_cap_stops_the_download(server: Any, declared: bool) -> None:
    base, routes, _, _ = server

    def huge(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        if declared:
            handler.send_header("Content-Length", str(50 * MAX))
        handler.end_headers()
        for _ in range(50):
            handler.wfile.write(b"\0" * MAX)

    routes["/huge"] = huge
    with pytest.raises(ImageTooLargeError) as caught:
        _fetch(f"{base}/huge")
    assert caught.value.param == "images[0]"
    assert describe_exception(caught.value)[0] == 413


def test_a_slow_server_times_out(server: Any) -> None:
    base, routes, _, stop = server
    routes["/slow"] = lambda handler: stop.wait(5)
    assert _failure(f"{base}/slow", timeout=(1.0, 0.2)).endswith(": timed out")


def test_a_server_dripping_bytes_meets_the_total_deadline(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    base, routes, _, stop = server

    def drip(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        while not stop.wait(0.02):
            handler.wfile.write(b"\0")
            handler.wfile.flush()

    routes["/drip"] = drip
    monkeypatch.setattr(fetch, "TOTAL_SECONDS", 0.3)
    started = time.monotonic()
    assert _failure(f"{base}/drip", timeout=(1.0, 0.5)).endswith(": timed out (more than 0.3s in total)")
    assert time.monotonic() - started < 3  # the whole body would take 20 s


def test_a_gzip_body_is_capped_after_decoding(server: Any) -> None:
    base, routes, _, _ = server
    routes["/bomb"] = answer(200, gzip.compress(b"\0" * 50 * MAX), {"Content-Encoding": "gzip"})
    with pytest.raises(ImageTooLargeError):
        _fetch(f"{base}/bomb")


def test_an_unresolvable_name_is_a_fetch_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kw: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    assert _failure("http://no-such-host.invalid/x.png").endswith("the host name does not resolve")


@pytest.mark.parametrize("location", ["http://[", "http://[::1/a.png", "http://user:pw@[x/a.png"])
def test_a_redirect_to_a_url_that_cannot_be_split_is_a_fetch_failure(server: Any, location: str) -> None:
    base, routes, _, _ = server
    routes["/go"] = answer(302, headers={"Location": location})
    assert _failure(f"{base}/go").endswith("redirected to a URL that is not valid")


@pytest.mark.parametrize("url", ["http://[", "http://[::1/a.png", "https://user:pw@[x"])
def test_a_url_that_cannot_be_split_is_a_fetch_failure_showing_no_user_info(url: str) -> None:
    message = _failure(url)
    assert message.endswith("the URL is not valid") and "pw" not in message
