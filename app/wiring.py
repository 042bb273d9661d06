"""The register_* steps of create_app: the only place that knows the concrete classes."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.api import health, models, openapi
from app.api.body import reject_oversized_bodies
from app.errors import register_error_handlers as _register_error_handlers
from app.logging import configure_logging, register_request_logging, register_secret
from config.settings import Settings
from config.upstream import load_upstream


def resolve_settings(config: Any) -> Settings:
    if config is None:
        return Settings.from_env()
    if isinstance(config, Settings):
        return config
    if isinstance(config, dict):
        return Settings.from_env().with_overrides(**config)
    raise TypeError(f"create_app(config=...) takes Settings, a dict or None, not {type(config).__name__}")


def register_settings(app: Flask, settings: Settings) -> None:
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["JSON_SORT_KEYS"] = False
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]


def register_logging(app: Flask, settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_json)
    for session_id in settings.jimeng_session_ids + settings.api_keys:
        register_secret(session_id)
    register_request_logging(app)
    app.before_request(lambda: reject_oversized_bodies(settings.max_body_bytes))


def register_proxy_fix(app: Flask, settings: Settings) -> None:
    if settings.trust_proxy:  # Heroku and Render terminate TLS in one proxy hop
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)  # type: ignore[method-assign]


def register_error_handlers(app: Flask) -> None:
    _register_error_handlers(app)


def register_upstream(app: Flask, settings: Settings) -> None:
    app.extensions["upstream"] = load_upstream()


def register_blueprints(app: Flask) -> None:
    for blueprint in (health.bp, models.bp, openapi.bp):
        app.register_blueprint(blueprint)
