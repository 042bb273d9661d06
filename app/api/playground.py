"""/playground: a page to try the API in a browser (plain HTML, CSS and an ES module from app/static).

The page talks to this service only: its Content-Security-Policy allows scripts, styles and requests
(``connect-src``) from this origin alone, so the session id a person pastes (kept in the browser's
localStorage) cannot be sent anywhere else by the page. Result images and videos are files at Jimeng's CDN
(``https:``), or at the emulator in the demo, so ``img-src`` and ``media-src`` also allow those for display.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, make_response, render_template

from app.api.openapi import documented
from app.version import __version__

bp = Blueprint("playground", __name__)


def media_origins(*urls: str) -> list[str]:
    """Where result files may come from besides https: the origins of plain-http upstream URLs (the emulator
    of ``jimeng-api demo`` serves its media itself)."""
    origins: list[str] = []
    for url in urls:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if parts.scheme == "http" and parts.netloc and origin not in origins:
            origins.append(origin)
    return origins


def content_security_policy(media: list[str]) -> str:
    shown = " ".join(["'self'", "data:", "blob:", "https:", *media])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            f"img-src {shown}",
            f"media-src {shown}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


@bp.get("/playground")
@documented(summary="Playground: try the API in a browser", response="text/html")
def playground() -> Response:
    settings = current_app.config["SETTINGS"]
    response = make_response(render_template("playground.html", version=__version__))
    policy = content_security_policy(media_origins(settings.jimeng_base_url, settings.jimeng_imagex_url))
    response.headers["Content-Security-Policy"] = policy
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
