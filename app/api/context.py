"""What every view needs from the app: settings, the generation service, the caller's session pool."""

from __future__ import annotations

from flask import current_app, g, request

from app.api.auth import session_pool
from app.domain.generation import GenerationService
from config.settings import Settings


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def service() -> GenerationService:
    return current_app.extensions["generation"]


def sessions() -> list[str]:
    return session_pool(request, settings())


def request_id() -> str:
    return str(g.get("request_id", "-"))


def wants_async(flag: bool) -> bool:
    """``"async": true`` in the body, or the ``Prefer: respond-async`` header (RFC 7240)."""
    prefer = request.headers.get("Prefer", "")
    return flag or any(part.strip().lower() == "respond-async" for part in prefer.split(","))
