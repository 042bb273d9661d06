"""User images: data URIs, content sniffing, the SSRF address guard, and fetching against a local server."""

from __future__ import annotations

import base64
import contextlib
import gzip
import io
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import requests
from PIL import Image

from app.domain.errors import ImageTooLargeError, InvalidRequestError
from app.domain.sources import DataUri, ImageUrl, Upload, parse_image_source
from app.errors import describe_exception
from app.inputs import fetch, guard

MAX = 10_000
TIMEOUT = (2.0, 2.0)
REAL_GETADDRINFO = socket.getaddrinfo


def image_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), (200, 30, 90)).save(buffer, fmt)
    return buffer.getvalue()


PNG = image_bytes("PNG")
PNG_B64 = base64.b64encode(PNG).decode()


# -- data URIs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        f"data:image/png;base64,{PNG_B64}",
        f"DATA:IMAGE/PNG;BASE64,{PNG_B64}",
        f"  data:image/png;base64,{PNG_B64[:20]}\n{PNG_B64[20:40]} \r\n\t{PNG_B64[40:]}  ",
        f"data:image/png;base64,{PNG_B64.rstrip('=')}",
        f"data:image/jpeg;name=x.png;base64,{PNG_B64}",
    ],
)
def test_a_base64_image_data_uri_decodes_to_its_bytes(uri: str) -> None:
    image = fetch.decode_data_uri(uri, max_bytes=MAX, param="images[0]")
    assert (image.data, image.source) == (PNG, "data_uri")


@pytest.mark.parametrize(
    "uri",
    [
        "data:image/png,rawbytes",
        f"data:text/plain;base64,{PNG_B64}",
        f"data:;base64,{PNG_B64}",
        "data:image/png;base64,@@@not*base64@@@",
        "data:image/png;base64",
        "image/png;base64,AAAA",
    ],
)
def test_a_malformed_data_uri_is_an_unsupported_image(uri: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        fetch.decode_data_uri(uri, max_bytes=MAX, param="images[2]")
    assert (caught.value.code, caught.value.param) == ("unsupported_image", "images[2]")


def test_an_oversized_data_uri_is_a_413_naming_the_image() -> None:
    uri = "data:image/png;base64," + base64.b64encode(b"\0" * (MAX + 1)).decode()
    with pytest.raises(ImageTooLargeError) as caught:
        fetch.decode_data_uri(uri, max_bytes=MAX, param="images[1]")
    status, body = describe_exception(caught.value)
    assert status == 413
    assert (body["error"]["code"], body["error"]["param"]) == ("request_too_large", "images[1]")


# -- sniffing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (image_bytes("PNG"), "image/png"),
        (image_bytes("JPEG"), "image/jpeg"),
        (image_bytes("GIF"), "image/gif"),
        (image_bytes("BMP"), "image/bmp"),
        (image_bytes("WEBP"), "image/webp"),
        (image_bytes("TIFF"), None),
        (image_bytes("PNG")[:40], None),
        (b"hello, I am text", None),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", None),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', None),
        (b"", None),
    ],
)
def test_sniffing_judges_the_format_by_content(data: bytes, mime: str | None) -> None:
    assert fetch.sniff_image(data) == mime


# -- the address guard --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("10.1.2.3", "a private address 10.1.2.3"),
        ("172.16.0.1", "a private address 172.16.0.1"),
        ("192.168.1.1", "a private address 192.168.1.1"),
        ("127.0.0.1", "a loopback address 127.0.0.1"),
        ("127.8.9.10", "a loopback address 127.8.9.10"),
        ("::1", "a loopback address ::1"),
        ("fe80::1", "a link-local address fe80::1"),
        ("fe80::1%eth0", "a link-local address fe80::1"),
        ("169.254.169.254", "a link-local address 169.254.169.254"),
        ("::ffff:127.0.0.1", "a loopback address 127.0.0.1"),
        ("::ffff:10.0.0.1", "a private address 10.0.0.1"),
        ("64:ff9b::a00:1", "a private address 10.0.0.1"),
        ("0.0.0.0", "an unspecified address 0.0.0.0"),
        ("::", "an unspecified address ::"),
        ("224.0.0.1", "a multicast address 224.0.0.1"),
        ("ff02::1", "a multicast address ff02::1"),
        ("100.64.0.1", "a non-public address 100.64.0.1"),
        ("fc00::1", "a private address fc00::1"),
        ("240.0.0.1", "a private address 240.0.0.1"),
        ("93.184.216.34", None),
        ("2606:2800:220:1::", None),
        ("8.8.8.8", None),
    ],
)
def test_the_address_guard_refuses_every_non_public_address(address: str, refused: str | None) -> None:
    assert guard.address_refusal(address) == refused


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


# -- fetching from a local server ---------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, Callable[[BaseHTTPRequestHandler], None]]] = {}
    seen: ClassVar[list[tuple[str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Host", "")))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client may stop reading early
            self.routes[self.path](self)

    def log_message(self, *args: Any) -> None:
        pass


def _answer(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Callable[..., None]:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return respond


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, Any], list[tuple[str, str]], threading.Event]]:
    """(base URL, routes, requests seen, stop event) of a server on 127.0.0.1."""
    stop = threading.Event()
    handler = type("Handler", (_Handler,), {"routes": {}, "seen": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", handler.routes, handler.seen, stop
    stop.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


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
    routes.update({f"/r{i}": _answer(302, headers={"Location": f"/r{i + 1}"}) for i in range(3)})
    routes["/r3"] = _answer(200, PNG)
    assert _fetch(f"{base}/r0") == PNG
    assert [path for path, _ in seen] == ["/r0", "/r1", "/r2", "/r3"]


def test_a_fourth_redirect_is_refused(server: Any) -> None:
    base, routes, _, _ = server
    routes.update({f"/r{i}": _answer(301, headers={"Location": f"/r{i + 1}"}) for i in range(5)})
    assert _failure(f"{base}/r0").endswith("too many redirects (more than 3)")


def test_a_loopback_url_is_refused_before_it_is_fetched(server: Any) -> None:
    base, routes, seen, _ = server
    routes["/cat.png"] = _answer(200, PNG)
    assert _failure(f"{base}/cat.png", allow_private=False).endswith("resolves to a loopback address 127.0.0.1")
    assert seen == []


def test_the_connection_goes_to_the_address_that_was_checked(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The name is resolved once, by the guard; the connect uses that address and keeps the name as Host."""
    base, routes, seen, _ = server
    routes["/cat.png"] = _answer(200, PNG)
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
    routes["/go"] = _answer(302, headers={"Location": f"http://internal.test:{port}/secret"})
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
    routes["/go"] = _answer(302, headers={"Location": "file:///etc/passwd"})
    assert _failure(f"{base}/go").endswith("only http and https URLs can be fetched")


def test_a_404_names_the_url_without_its_credentials(server: Any) -> None:
    base, routes, _, _ = server
    routes["/missing.png?x=1"] = _answer(404, b"nope")
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
    routes["/bomb"] = _answer(200, gzip.compress(b"\0" * 50 * MAX), {"Content-Encoding": "gzip"})
    with pytest.raises(ImageTooLargeError):
        _fetch(f"{base}/bomb")


def test_an_unresolvable_name_is_a_fetch_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any, **kw: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    assert _failure("http://no-such-host.invalid/x.png").endswith("the host name does not resolve")


# -- a request's images -------------------------------------------------------------------------------


def _load(items: list[Any], param: str = "images") -> tuple[Any, ...]:
    """Items as a request carries them (parsed like the schemas do), then loaded."""
    sources = [
        Upload(*item) if isinstance(item, tuple) else parse_image_source(item, param=f"{param}[{index}]")
        for index, item in enumerate(items)
    ]
    with requests.Session() as http:
        return fetch.load_images(sources, http=http, max_bytes=MAX, allow_private=True, timeout=TIMEOUT, param=param)


def test_every_form_of_image_loads_in_input_order(server: Any) -> None:
    base, routes, _, _ = server
    gif, jpeg = image_bytes("GIF"), image_bytes("JPEG")
    routes.update({"/a.gif": _answer(200, gif), "/b.jpg": _answer(200, jpeg)})
    items = [
        f"{base}/a.gif",
        f"data:image/png;base64,{PNG_B64}",
        {"url": f"{base}/b.jpg"},
        ("c.bmp", image_bytes("BMP")),
    ]
    images = _load(items)
    assert [(i.source, i.mime) for i in images] == [
        ("url", "image/gif"), ("data_uri", "image/png"), ("url", "image/jpeg"), ("upload", "image/bmp"),
    ]  # fmt: skip
    assert (images[0].data, images[2].data) == (gif, jpeg)


@pytest.mark.parametrize(
    ("item", "code"),
    [
        (42, "invalid_value"),
        (None, "invalid_value"),
        ({"url": 5}, "invalid_value"),
        ({"href": "http://x"}, "invalid_value"),
        ("", "invalid_value"),
        ("ftp://example.com/a.png", "invalid_value"),
        ("/etc/passwd", "invalid_value"),
        ("data:text/plain;base64,aGVsbG8=", "unsupported_image"),
        ("data:image/png;base64,aGVsbG8=", "unsupported_image"),
        (("notes.txt", b"hello"), "unsupported_image"),
    ],
)
def test_a_bad_item_is_refused_with_its_index_before_any_fetch(server: Any, item: Any, code: str) -> None:
    base, routes, seen, _ = server
    routes["/a.png"] = _answer(200, PNG)
    with pytest.raises(InvalidRequestError) as caught:
        _load([f"{base}/a.png", f"{base}/a.png", item], param="image")
    assert (caught.value.code, caught.value.param) == (code, "image[2]")
    assert seen == []


def test_a_fetched_non_image_is_refused_by_content(server: Any) -> None:
    base, routes, _, _ = server
    routes.update({"/a.png": _answer(200, PNG), "/page.png": _answer(200, b"<html>not an image</html>")})
    with pytest.raises(InvalidRequestError) as caught:
        _load([f"{base}/a.png", f"{base}/page.png"])
    assert (caught.value.code, caught.value.param) == ("unsupported_image", "images[1]")


def test_an_oversized_multipart_file_is_a_413() -> None:
    with pytest.raises(ImageTooLargeError) as caught:
        _load([("big.png", PNG + b"\0" * MAX)])
    assert caught.value.param == "images[0]"


def test_the_image_fetcher_binds_the_limits_for_the_service() -> None:
    with requests.Session() as http:
        loader = fetch.ImageFetcher(http, max_bytes=MAX, allow_private=False, timeout=TIMEOUT)
        (image,) = loader.load([DataUri(f"data:image/png;base64,{PNG_B64}")], param="frames")
        with pytest.raises(InvalidRequestError) as caught:
            loader.load([ImageUrl("http://127.0.0.1:9/a.png")], param="frames")
    assert (image.mime, caught.value.param, caught.value.code) == ("image/png", "frames[0]", "image_fetch_failed")
