"""The HTTP server: werkzeug's threaded server with a request handler that keeps HTTP/1.1 alive.

werkzeug's own handler closes every connection; this one reads exactly the request body, always answers
with a Content-Length, and can drop a connection with a real TCP RST (SO_LINGER 0) for fault injection.
"""

from __future__ import annotations

import io
import socket
import struct
import sys
import traceback
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from app.emulator.server import MAX_BODY, ConnectionResetByEmulator

_HOP_BY_HOP = frozenset({"content-length", "connection", "transfer-encoding", "keep-alive"})


class EmulatorRequestHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 600  # seconds an idle keep-alive connection may stay open
    _reset = False

    def setup(self) -> None:
        """Disable Nagle: headers and body are two writes, and delayed ACKs would add 40 ms to each answer."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Silent: under load a line per request would cost more than the request."""

    def log_error(self, fmt: str, *args: Any) -> None:
        """Silent: idle keep-alive timeouts are normal here."""

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        try:
            body = self._read_body(environ)
        except (ValueError, OSError):
            self.close_connection = True
            self._send("400 BAD REQUEST", [("Content-Type", "text/plain")], b"bad request body")
            return
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        try:
            status, headers, payload = self._call_app(environ)
        except ConnectionResetByEmulator:
            self._reset = True
            self.close_connection = True
            return
        except Exception:
            traceback.print_exc(file=sys.stderr)
            status, headers = "500 INTERNAL SERVER ERROR", [("Content-Type", "application/json")]
            payload = b'{"error":"internal emulator error"}'
        self._send(status, headers, payload)

    def _read_body(self, environ: dict[str, Any]) -> bytes:
        """Read the whole body first, so the next request on this connection starts at the right byte."""
        if environ.get("wsgi.input_terminated"):
            return environ["wsgi.input"].read(MAX_BODY + 1)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if not 0 <= length <= MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _call_app(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        chunks: list[bytes] = []
        started: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started.update(status=status, headers=headers)
            return chunks.append

        result = self.server.app(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return started["status"], started["headers"], b"".join(chunks)

    def _send(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def finish(self) -> None:
        """After an emulated reset, close with SO_LINGER 0 so the peer gets RST instead of FIN."""
        if self._reset:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        super().finish()
        if self._reset:
            self.connection.close()


class EmulatorWSGIServer(ThreadedWSGIServer):
    request_queue_size = 2048  # a burst of a thousand clients connecting at once must not be refused


def make_server(host: str, port: int, app: Any) -> EmulatorWSGIServer:
    return EmulatorWSGIServer(host, port, app, handler=EmulatorRequestHandler)
