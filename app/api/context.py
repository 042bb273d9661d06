"""What every view needs from the app: settings, the generation service, the catalog, the caller's session pool."""

from __future__ import annotations

import _socket
import re
import socket
from collections.abc import Callable

from flask import current_app, g, request

from app.api.auth import caller_scope, session_pool
from app.api.openapi import requires_auth
from app.domain.catalog import CatalogSource
from app.domain.errors import InvalidRequestError
from app.domain.generation import GenerationService
from app.domain.ledger import Intent, Ledger, is_retry
from app.domain.tasks import Tasks
from config.settings import Settings


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def service() -> GenerationService:
    return current_app.extensions["generation"]


def ledger() -> Ledger:
    return current_app.extensions["ledger"]


def tasks() -> Tasks:
    return current_app.extensions["tasks"]


def catalog_source() -> CatalogSource:
    return current_app.extensions["catalog"]


def sessions() -> list[str]:
    """The caller's session pool (``app.api.auth``), worked out once per request."""
    pool = g.get("session_pool")
    if pool is None:
        pool = session_pool(request, settings())
        g.session_pool = pool
    return list(pool)


def authenticate() -> None:
    """Before every request: a view documented with ``auth=True`` has its caller's credentials checked (401)
    before anything reads or parses its body, so a stranger's body costs nothing but its bytes."""
    if request.method == "OPTIONS" or request.endpoint is None:  # CORS preflights carry no credentials
        return
    view = current_app.view_functions.get(request.endpoint)
    if view is not None and requires_auth(view):
        sessions()


IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,254}$")  # printable ASCII, as Stripe's keys


def intent(body: object) -> Intent:
    """This request's intent: the caller, the endpoint and ``body`` (what it asks for), its Idempotency-Key
    and whether the client marks it as a retry (``x-stainless-retry-count``, sent by the official SDKs)."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key.strip()):
        raise InvalidRequestError(
            "Idempotency-Key must be 1 to 255 printable ASCII characters", param="Idempotency-Key"
        )
    return Intent(
        scope=caller_scope(request, settings()),
        fingerprint=Intent.digest(request.endpoint, body),
        key=key.strip() if key is not None else None,
        retry=is_retry(request.headers.get("X-Stainless-Retry-Count")),
    )


def caller() -> str:
    """Who is asking (a digest of the credentials): the unit the fair queue takes turns between."""
    return caller_scope(request, settings())


def request_id() -> str:
    return str(g.get("request_id", "-"))


def client_gone() -> Callable[[], bool]:
    """A check whether the client closed its connection, without reading or blocking (a peek at its socket)."""
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")

    def gone() -> bool:
        return sock is not None and socket_closed_by_peer(sock.fileno())

    return gone


def socket_closed_by_peer(fd: int) -> bool:
    """True when the peer of the connected socket ``fd`` closed it (or it broke); False while it is open, also
    with unread bytes waiting. One non-blocking ``recv(MSG_PEEK)`` on the descriptor itself: a waiting request
    asks twice a second, 2,000 times a second at 1,000 in flight, and gevent's ``select.poll`` (a poll object,
    a watcher and a switch to the hub per check) was a sizable share of the worker's time (issue 17)."""
    try:
        raw = _socket.socket(fileno=fd)  # the C socket, never gevent's: it must not wait for anything
    except (OSError, ValueError):
        return True
    try:
        return raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False  # nothing to read: open and quiet
    except OSError:
        return True
    finally:
        raw.detach()  # the descriptor stays the server's


def wants_async(flag: bool) -> bool:
    """``"async": true`` in the body, or the ``Prefer: respond-async`` header (RFC 7240)."""
    prefer = request.headers.get("Prefer", "")
    return flag or any(part.strip().lower() == "respond-async" for part in prefer.split(","))
