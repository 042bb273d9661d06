"""What every view needs from the app: settings, the generation service, the catalog, the caller's session pool."""

from __future__ import annotations

import select
import socket
from collections.abc import Callable

from flask import current_app, g, request

from app.api.auth import session_pool
from app.domain.catalog import CatalogSource
from app.domain.generation import GenerationService
from config.settings import Settings


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def service() -> GenerationService:
    return current_app.extensions["generation"]


def catalog_source() -> CatalogSource:
    return current_app.extensions["catalog"]


def sessions() -> list[str]:
    return session_pool(request, settings())


def request_id() -> str:
    return str(g.get("request_id", "-"))


def client_gone() -> Callable[[], bool]:
    """A check whether the client closed its connection, without reading or blocking (a peek at its socket)."""
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")

    def gone() -> bool:
        if sock is None:
            return False
        try:  # poll, not select: select refuses descriptors >= 1024 (FD_SETSIZE), common at 1,000 clients
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0)) and sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    return gone


def wants_async(flag: bool) -> bool:
    """``"async": true`` in the body, or the ``Prefer: respond-async`` header (RFC 7240)."""
    prefer = request.headers.get("Prefer", "")
    return flag or any(part.strip().lower() == "respond-async" for part in prefer.split(","))
