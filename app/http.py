"""The service's one outbound HTTP exchange: send a request, classify what broke on the wire, read the body
with an optional byte cap and an optional deadline.

The upstream client (Jimeng's JSON calls, ImageX uploads, result downloads) and the input fetcher (users'
URLs) all go through ``exchange``, and each maps the neutral errors here to its own: the client to
``TransientError`` (retried, then ``UpstreamUnavailableError``/``RateLimitedError``), the fetcher to
``FetchError`` and ``ImageTooLargeError``. A reason never names the URL: it may carry credentials or
signatures. This module imports neither ``app.jimeng`` nor ``app.inputs``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import urllib3

CHUNK = 64 * 1024
_NEVER_SENT = ("NewConnectionError", "Connection refused", "Failed to resolve")  # no connection was made
_RESET = ("ConnectionResetError", "Connection reset by peer")


class WireError(Exception):
    """No whole answer arrived. ``sent`` is False only when no connection was made: then the server cannot
    have seen the request, and even a call that is not idempotent may be sent again."""

    def __init__(self, reason: str, *, sent: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent


class BodyTooLargeError(Exception):
    """The body (decoded) is larger than the cap, or its ``Content-Length`` says it will be."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


class DeadlinePassedError(Exception):
    """The deadline passed while the body was still arriving."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes  # empty when ``read_when`` declined it


def succeeded(status: int) -> bool:
    """A ``read_when`` for callers that want only a 2xx body (an error page can be large, and says nothing)."""
    return 200 <= status < 300


def exchange(
    send: Callable[..., requests.Response],
    *args: Any,
    max_bytes: int | None = None,
    deadline: float | None = None,
    read_when: Callable[[int], bool] | None = None,
    **kw: Any,
) -> Reply:
    """``send(*args, stream=True, **kw)`` (a session's ``request``, an adapter's ``send``) and its answer.

    The body is read only if ``read_when(status)`` (default: always); an unread body closes its connection
    instead of returning it to the pool. ``deadline`` is a ``time.monotonic()`` instant. Raises WireError,
    BodyTooLargeError or DeadlinePassedError.
    """
    try:
        response = send(*args, stream=True, **kw)
    except requests.exceptions.RequestException as err:
        raise WireError(_reason(err), sent=not _never_sent(err)) from err
    with response:
        wanted = read_when is None or read_when(response.status_code)
        body = _read(response, max_bytes, deadline) if wanted else b""
    return Reply(response.status_code, response.headers, body)


def _read(response: requests.Response, max_bytes: int | None, deadline: float | None) -> bytes:
    """The decoded body, refused past ``max_bytes`` or past the deadline.

    ``read1`` returns whatever has arrived, so a server dripping one byte per read timeout still meets the
    deadline; ``iter_content`` would block until a whole chunk is in (urllib3 < 2.3 has no ``read1``).
    Reading to the end hands the connection back to the session's pool for the next call.
    """
    declared = response.headers.get("Content-Length", "")
    if max_bytes is not None and declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLargeError(max_bytes)
    read1 = getattr(response.raw, "read1", None)
    pieces = iter(lambda: read1(CHUNK, decode_content=True), b"") if read1 else response.iter_content(CHUNK)
    chunks, size = [], 0
    try:
        for chunk in pieces:
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise BodyTooLargeError(max_bytes)
            if deadline is not None and time.monotonic() > deadline:
                raise DeadlinePassedError
            chunks.append(chunk)
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as err:
        raise WireError(_reason(err)) from err
    return b"".join(chunks)  # one chunk is returned as it is, without a copy


def _never_sent(err: Exception) -> bool:
    """No connection was made (connect timeout, refused, unresolvable name), so nothing reached the server."""
    if isinstance(err, requests.exceptions.ConnectTimeout):
        return True
    return isinstance(err, requests.exceptions.ConnectionError) and any(mark in repr(err) for mark in _NEVER_SENT)


def _reason(err: Exception) -> str:
    """A short plain phrase: never the URL (which may carry credentials), an exception's repr (``ConnectionResetError
    (104, ...)``) or a library's class name; the log line of the caller keeps the exception itself."""
    if isinstance(err, requests.exceptions.ConnectTimeout):
        return "connect timed out"
    timeout = isinstance(err, requests.exceptions.Timeout | urllib3.exceptions.TimeoutError)
    if timeout or "timed out" in str(err).lower():
        return "timed out"
    if isinstance(err, requests.exceptions.SSLError | urllib3.exceptions.SSLError):
        return "TLS handshake or certificate check failed"
    if isinstance(err, requests.exceptions.ContentDecodingError | urllib3.exceptions.DecodeError):
        return "the answer's content encoding is broken"
    if _never_sent(err):
        return "could not connect"
    if any(mark in repr(err) for mark in _RESET):
        return "the connection was reset"
    broken = (
        requests.exceptions.ConnectionError,
        requests.exceptions.ChunkedEncodingError,
        urllib3.exceptions.HTTPError,
    )
    if isinstance(err, broken):
        return "connection lost"
    return "the request could not be sent"
