"""Liveness and the welcome page: no upstream call, so a platform health check never spends anything."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template

from app.version import __version__

bp = Blueprint("health", __name__)


@bp.get("/ping")
def ping() -> Response:
    return Response("pong", mimetype="text/plain")


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok", version=__version__)


@bp.get("/")
def welcome() -> str:
    upstream = current_app.extensions["upstream"]
    return render_template("index.html", version=__version__, models=upstream.models)
