"""Introspection routes: ``/__health``, ``/__stats``, ``/__reset``, ``/__config`` (never faulted)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from app.emulator.context import json_response

if TYPE_CHECKING:
    from app.emulator.server import EmulatorApp


def handle(app: EmulatorApp, request: Request) -> Response:
    route = (request.method, request.path)
    if route == ("GET", "/__health"):
        return json_response({"status": "ok"})
    if route == ("GET", "/__stats"):
        return json_response(app.stats.snapshot(app.state, app.now()))
    if route == ("POST", "/__reset"):
        app.reset()
        return json_response({"status": "reset"})
    if route == ("GET", "/__config"):
        return json_response(app.config.to_json())
    if route == ("POST", "/__config"):
        return _configure(app, request)
    return json_response({"error": f"no route {request.method} {request.path}"}, 404)


def _configure(app: EmulatorApp, request: Request) -> Response:
    try:
        changes = json.loads(request.get_data() or b"{}")
        if not isinstance(changes, dict):
            raise ValueError("body must be a JSON object")
        config = app.configure(changes)
    except ValueError as err:
        return json_response({"error": str(err)}, 400)
    return json_response(config.to_json())
