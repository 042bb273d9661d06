"""gunicorn's gevent worker, answering gunicorn's own errors in the contract's JSON shape.

gunicorn answers a request it could not parse (a bad request line or method, a malformed or too large
header, an unsupported transfer coding) itself, before the app sees it, with an HTML page. This worker lets
gunicorn classify the error and log it as it always does, keeps the page it wrote, and sends the same status
with ``app.errors.protocol_error``'s JSON body instead. Set in ``config/gunicorn.py`` (``worker_class``).
The worker also fixes malloc's mmap threshold before it serves (``app/memory.py``).
"""

from __future__ import annotations

from typing import Any

from gunicorn import util
from gunicorn.workers.ggevent import GeventWorker

_MESSAGE_CHARS = 300  # gunicorn's messages quote the request line or header, up to several KiB


class _Page:
    """Stands in for the client socket while gunicorn writes its HTML error page, keeping what it wrote."""

    def __init__(self) -> None:
        self.data = bytearray()

    def gettimeout(self) -> float:
        return 0.0

    def setblocking(self, flag: bool) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.data += data


def _status_line(page: bytes | bytearray) -> tuple[int, str]:
    """(status, reason) of the page gunicorn wrote: ``HTTP/1.1 400 Bad Request``."""
    words = bytes(page).split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
    if len(words) == 3 and words[1].isdigit():
        return int(words[1]), words[2]
    return 500, "Internal Server Error"


class JsonErrorGeventWorker(GeventWorker):
    def init_process(self) -> None:
        from app.memory import return_large_buffers_to_the_os

        return_large_buffers_to_the_os()  # a 16 MB request body must not stay in the worker's RSS
        super().init_process()

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        page = _Page()
        super().handle_error(req, page, addr, exc)  # classifies, logs, writes its HTML page to `page`
        status, reason = _status_line(page.data)
        from app.errors import protocol_error  # the app's modules load in the worker, after gevent patched it

        message = reason if status >= 500 else f"{reason}: {exc}"[:_MESSAGE_CHARS]
        body = protocol_error(status, message)
        head = (
            f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        try:
            util.write_nonblock(client, head.encode("latin-1") + body)
        except Exception:
            self.log.debug("Failed to send error message.")
