"""jimeng-api: OpenAI-compatible endpoints in front of Jimeng AI image and video generation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(config: Any = None) -> Flask:
    """The WSGI app; ``config`` is a Settings, a mapping of Settings overrides, or None (environment)."""
    from app import wiring

    settings = wiring.resolve_settings(config if not isinstance(config, Mapping) else dict(config))
    app = Flask(__name__)
    wiring.register_settings(app, settings)
    wiring.register_logging(app, settings)
    wiring.register_request_guards(app, settings)
    wiring.register_proxy_fix(app, settings)
    wiring.register_path_normaliser(app)
    wiring.register_cors(app)
    wiring.register_error_handlers(app)
    wiring.register_upstream(app, settings)
    wiring.register_state(app, settings)
    wiring.register_generation(app, settings)
    wiring.register_ledger(app, settings)
    wiring.register_webhooks(app, settings)
    wiring.register_blueprints(app)
    wiring.register_observability(app, settings)
    return app
