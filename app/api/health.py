"""Liveness and the welcome page: no upstream call, so a platform health check never spends anything."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template

from app.api.openapi import documented
from app.api.schemas import HealthSchema
from app.version import __version__

bp = Blueprint("health", __name__)


@bp.get("/ping")
@documented(summary="Liveness probe", response="text/plain")
def ping() -> Response:
    return Response("pong", mimetype="text/plain")


@bp.get("/healthz")
@documented(summary="Health and version", response=HealthSchema)
def healthz() -> Response:
    return jsonify(status="ok", version=__version__)


@bp.get("/")
@documented(summary="Welcome page", response="text/html")
def welcome() -> str:
    catalog = current_app.extensions["catalog"].current()
    return render_template("index.html", version=__version__, models=(*catalog.images, *catalog.videos))
