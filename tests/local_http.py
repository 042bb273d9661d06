"""A scripted HTTP server on 127.0.0.1 for client-side tests: each path answers through a route function,
and every request is recorded (path and ``Host``, and the client's port, one per connection)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

Route = Callable[[BaseHTTPRequestHandler], None]


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, Route]] = {}
    seen: ClassVar[list[tuple[str, str]]] = []
    ports: ClassVar[list[int]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Host", "")))
        self.ports.append(self.client_address[1])
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client may stop reading early
            self.routes[self.path](self)

    def log_message(self, *args: Any) -> None:
        pass


def answer(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Route:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **(headers or {})}.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return respond


@dataclass(frozen=True)
class ScriptedServer:
    base: str
    routes: dict[str, Route]
    seen: list[tuple[str, str]]
    ports: list[int]
    stop: threading.Event  # set when the test ends: routes that wait on it give up


@contextlib.contextmanager
def scripted_server(protocol: str = "HTTP/1.0") -> Iterator[ScriptedServer]:
    """A server on a free port; ``HTTP/1.1`` keeps connections open (routes must then send a length)."""
    stop = threading.Event()
    handler = type("Handler", (_Handler,), {"routes": {}, "seen": [], "ports": [], "protocol_version": protocol})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield ScriptedServer(f"http://127.0.0.1:{httpd.server_port}", handler.routes, handler.seen, handler.ports, stop)
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
