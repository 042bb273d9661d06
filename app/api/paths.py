"""Paths as clients build them: with or without ``/v1``, with or without a trailing slash.

Chat UIs and SDK wrappers join a configured base URL and an endpoint in every way (``http://host`` +
``/chat/completions``, ``http://host/v1/`` + ``models/``); OpenAI answers them all. This WSGI middleware
rewrites such a path to the canonical one before routing, so every view, the OpenAPI description (canonical
``/v1`` paths only) and the logs see one path per endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

WSGIEnviron = dict[str, Any]

# The OpenAI-style endpoints served under /v1: a path starting with one of these (as a whole segment) gets it.
V1_PREFIXES = ("/chat/completions", "/images/", "/videos/", "/models", "/tasks/")


def canonical_path(path: str) -> str:
    """``/chat/completions/`` -> ``/v1/chat/completions``; other paths only lose their trailing slashes."""
    stripped = path.rstrip("/") or "/"
    if any(stripped == p.rstrip("/") or stripped.startswith(p if p.endswith("/") else p + "/") for p in V1_PREFIXES):
        return "/v1" + stripped
    return stripped


class PathNormaliser:
    """WSGI middleware: ``PATH_INFO`` rewritten by ``canonical_path``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnviron, start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if isinstance(path, str) and path:
            environ["PATH_INFO"] = canonical_path(path)
        return self.app(environ, start_response)
