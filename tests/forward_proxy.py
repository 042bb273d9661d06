"""A small real forward proxy on loopback for tests: absolute-form HTTP requests and CONNECT tunnels.

It relays what a client sends through it, adds ``Via: 1.1 test-proxy`` to relayed HTTP requests (so the
server behind it can tell proxied traffic apart), counts what it relayed, and, when started with credentials,
refuses requests without the matching ``Proxy-Authorization`` (407), as an authenticating proxy does.
"""

from __future__ import annotations

import base64
import http.client
import select
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

VIA = "1.1 test-proxy"
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer",
              "transfer-encoding", "upgrade"}  # fmt: skip


class ForwardProxy:
    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.credentials = credentials
        self.relayed: Counter[str] = Counter()  # path -> requests relayed
        self.tunnels = 0
        self.refused = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def url(self) -> str:
        if self.credentials:
            user, password = self.credentials
            return f"http://{user}:{password}@127.0.0.1:{self.port}"
        return f"http://127.0.0.1:{self.port}"

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.relayed.values())

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _authorised(self) -> bool:
                if proxy.credentials is None:
                    return True
                expected = "Basic " + base64.b64encode(":".join(proxy.credentials).encode()).decode()
                if self.headers.get("Proxy-Authorization") == expected:
                    return True
                with proxy._lock:
                    proxy.refused += 1
                self.send_response(407)
                self.send_header("Proxy-Authenticate", 'Basic realm="test"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return False

            def do_CONNECT(self) -> None:
                if not self._authorised():
                    return
                host, _, port = self.path.rpartition(":")
                try:
                    upstream = socket.create_connection((host, int(port)), timeout=10)
                except OSError:
                    self.send_error(502)
                    return
                with proxy._lock:
                    proxy.tunnels += 1
                self.send_response(200, "Connection established")
                self.end_headers()
                self.close_connection = True
                _pipe(self.connection, upstream)

            def _relay(self) -> None:
                if not self._authorised():
                    return
                target = urlsplit(self.path)
                if target.scheme != "http" or not target.hostname:
                    self.send_error(400, "absolute-form http:// URL expected")
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["Via"] = VIA
                path = target.path + (f"?{target.query}" if target.query else "")
                connection = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=60)
                try:
                    connection.request(self.command, path or "/", body=body, headers=headers)
                    answer = connection.getresponse()
                    data = answer.read()
                except OSError:
                    self.send_error(502)
                    return
                finally:
                    connection.close()
                with proxy._lock:
                    proxy.relayed[target.path] += 1
                self.send_response(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_HEAD = _relay

        return Handler


def _pipe(client: socket.socket, upstream: socket.socket) -> None:
    sockets = [client, upstream]
    try:
        while True:
            readable, _, broken = select.select(sockets, [], sockets, 30)
            if broken or not readable:
                return
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                (upstream if sock is client else client).sendall(data)
    finally:
        upstream.close()


@contextmanager
def forward_proxy(credentials: tuple[str, str] | None = None) -> Iterator[ForwardProxy]:
    proxy = ForwardProxy(credentials)
    try:
        yield proxy
    finally:
        proxy.stop()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
