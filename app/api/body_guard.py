"""The bytes of a request body: a cap and a read deadline, enforced where the bytes are read.

``BodyGuard`` is WSGI middleware that wraps every request's ``wsgi.input`` in a ``GuardedInput``:

- **Cap.** More than ``MAX_BODY_BYTES`` -> ``RequestTooLargeError`` (413), with or without a ``Content-Length``
  (a chunked body is counted as it arrives; never more than the cap and one byte is read). A declared length
  over the cap is refused before anything reads (``reject_oversized_bodies``).
- **Deadline.** The whole body must arrive within ``BODY_READ_TIMEOUT_SECONDS`` of the request's headers, and
  after a grace of ``FLOOR_GRACE_SECONDS`` at ``BODY_MIN_BYTES_PER_SECOND`` on average: each byte received
  buys ``1 / rate`` seconds. Past either -> ``RequestTimeoutError`` (408). A trickle that would hold one of
  the worker's connections for as long as the client likes is cut after a few seconds; an upload at any
  usable speed is not.

Under gevent (gunicorn's gevent worker) every read runs under a ``gevent.Timeout``, so the deadline is exact
whatever the server's reader does inside one read. Elsewhere (werkzeug's threaded server: tests, local runs)
the connection's socket timeout is set for each read, which bounds each wait for bytes.

**Unread bodies.** After an answer, gunicorn reads and discards whatever the app left of the body so that the
connection can serve its next request: for a 100 MB declared body answered 413 at once, that is 100 MB read in
small pieces, an event loop held for as long as the sender keeps up. So when the guard refused a body, or the
app answered with more than ``DRAIN_MAX_BYTES`` of it unread (or a chunked body not read to its end), the
connection is shut down after the answer is written: the rest of the body is never read. A short unread rest
(a 401 to a small POST) is still drained and the connection kept.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from app.domain.errors import RequestTimeoutError, RequestTooLargeError

FLOOR_GRACE_SECONDS = 5.0  # a slow start (TCP slow start, a phone waking its radio) is not a trickle
_LARGEST_PIECE = 64 * 1024
_SMALLEST_PIECE = 1024
# A body arriving fast is read in pieces up to this large: gunicorn's reader copies what it buffered ahead on
# every read, so small pieces of a fast 16 MB body cost several times the CPU of large ones.
_FAST_PIECE = 4 * 1024 * 1024
DRAIN_MAX_BYTES = 64 * 1024  # an unread rest of a body up to this is left to the server to drain

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class BodyPolicy:
    max_bytes: int
    timeout: float  # the whole body, from the request's start
    min_rate: float  # bytes per second after the grace; 0: no floor
    grace: float = FLOOR_GRACE_SECONDS

    def deadline(self, started: float, received: int) -> float:
        """When the next bytes must have arrived, ``received`` bytes into a body started at ``started``."""
        whole = started + self.timeout
        if self.min_rate <= 0:
            return whole
        return min(whole, started + self.grace + received / self.min_rate)

    @property
    def piece(self) -> int:
        """Bytes asked of the server per read: at the floor rate one piece takes at most half the grace, so a
        deadline set at a piece's start never cuts a body that keeps to the floor."""
        if self.min_rate <= 0:
            return _LARGEST_PIECE
        return max(_SMALLEST_PIECE, min(_LARGEST_PIECE, int(self.min_rate * self.grace / 2)))


class _Expired(Exception):
    """A read did not finish before the body's deadline."""


def _gevent_patched() -> bool:
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return False
    return bool(monkey.is_module_patched("socket"))


class GuardedInput:
    """``wsgi.input`` counted against the cap and read against the deadline."""

    def __init__(
        self,
        stream: IO[bytes],
        policy: BodyPolicy,
        *,
        sock: socket.socket | None,
        declared: int | None = None,
        chunked: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._policy = policy
        self._sock = sock
        self._declared = declared  # Content-Length, when the request has one
        self._chunked = chunked
        self._clock = clock
        self._started = clock()
        self._gevent = _gevent_patched()
        self.received = 0
        self.refused = False  # the cap or the deadline refused this body: its connection must close
        self._ended = False  # a read found the body's end

    @property
    def must_close(self) -> bool:
        """Whether the connection must close after the answer: the body was refused, or so much of it is unread
        that draining it would cost more than a new connection."""
        if self.refused:
            return True
        if self._ended:
            return False
        if self._declared is not None:
            return self._declared - self.received > DRAIN_MAX_BYTES
        return self._chunked

    @property
    def sock(self) -> socket.socket | None:
        return self._sock

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (one piece at most), or the whole rest of the body when ``size`` is negative;
        b"" only at its end."""
        if size is not None and size >= 0:
            return self._piece(lambda n: self._stream.read(n), size) if size else b""
        parts = []
        while part := self._piece(lambda n: self._stream.read(n), self._piece_size()):
            parts.append(part)
        return b"".join(parts)

    def readline(self, size: int | None = -1) -> bytes:
        return self._piece(lambda n: self._stream.readline(n), size if size is not None and size >= 0 else -1)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        return list(self)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def _piece(self, read: Callable[[int], bytes], size: int) -> bytes:
        """One read of at most one piece, and never past the cap's first extra byte."""
        room = self._policy.max_bytes + 1 - self.received
        piece = self._piece_size()
        wanted = min(piece if size < 0 else size, piece, max(room, 1))
        data = self._within_deadline(lambda: read(wanted))
        self.received += len(data)
        if not data or self.received == self._declared:
            self._ended = True
        if self.received > self._policy.max_bytes:
            self.refused = True
            raise RequestTooLargeError(f"Request body is larger than the limit of {self._policy.max_bytes} bytes")
        return data

    def _piece_size(self) -> int:
        """The policy's piece, or larger while the body arrives fast: a piece that takes at most half the grace
        at the speed seen so far (the deadline, not the piece, decides when a body is too slow)."""
        base = self._policy.piece
        elapsed = self._clock() - self._started
        if self.received < base or elapsed <= 0:
            return base
        return max(base, min(_FAST_PIECE, int(self.received / elapsed * self._policy.grace / 2)))

    def _within_deadline(self, read: Callable[[], bytes]) -> bytes:
        seconds = self._policy.deadline(self._started, self.received) - self._clock()
        try:
            if seconds <= 0:
                raise _Expired
            return self._gevent_read(read, seconds) if self._gevent else self._socket_read(read, seconds)
        except _Expired:
            self.refused = True
            raise self._timeout_error() from None

    @staticmethod
    def _gevent_read(read: Callable[[], bytes], seconds: float) -> bytes:
        import gevent

        with gevent.Timeout(seconds, _Expired):
            return read()

    def _socket_read(self, read: Callable[[], bytes], seconds: float) -> bytes:
        if self._sock is None:
            return read()
        try:
            previous = self._sock.gettimeout()
            self._sock.settimeout(seconds)
        except OSError:
            return read()
        try:
            return read()
        except TimeoutError:
            raise _Expired from None
        finally:
            with contextlib.suppress(OSError):
                self._sock.settimeout(previous)

    def _timeout_error(self) -> RequestTimeoutError:
        elapsed = self._clock() - self._started
        policy = self._policy
        if elapsed >= policy.timeout:
            rule = f"the whole body must arrive within {policy.timeout:g} s"
        else:
            rule = f"after its first {policy.grace:g} s it must average {policy.min_rate:g} bytes/s or more"
        return RequestTimeoutError(f"Request body arrived too slowly: {self.received} bytes in {elapsed:.1f} s; {rule}")


class _ShutDownAfter:
    """The app's answer, then the connection shut down: the rest of the body is never read."""

    def __init__(self, result: Iterable[bytes], sock: socket.socket) -> None:
        self._result = result
        self._sock = sock

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._result)

    def close(self) -> None:
        try:
            close = getattr(self._result, "close", None)
            if close is not None:
                close()
        finally:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)


class BodyGuard:
    """WSGI middleware: every request's body read through a ``GuardedInput``."""

    def __init__(self, app: WsgiApp, policy: BodyPolicy) -> None:
        self.app = app
        self.policy = policy

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
        guarded = GuardedInput(
            environ["wsgi.input"],
            self.policy,
            sock=sock,
            declared=_declared_length(environ),
            chunked="chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower(),
        )
        environ["wsgi.input"] = guarded
        result = self.app(environ, start_response)
        if sock is not None and guarded.must_close:
            return _ShutDownAfter(result, sock)
        return result


def _declared_length(environ: dict[str, Any]) -> int | None:
    value = environ.get("CONTENT_LENGTH") or ""
    return int(value) if value.isdigit() else None


def reject_oversized_bodies(max_bytes: int) -> None:
    """413 on any route as soon as the declared length is over the cap, before anything reads the body."""
    from flask import request

    if request.content_length is not None and request.content_length > max_bytes:
        raise RequestTooLargeError(f"Request body is {request.content_length} bytes; the limit is {max_bytes}")
