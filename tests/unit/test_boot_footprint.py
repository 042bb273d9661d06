"""What a worker loads when it boots: libraries only some requests need are imported when first used, so an
idle worker (and every worker at 1,000 generations in flight) does not carry them (issue 17: peak RSS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import MethodType

import flask
import pytest
from flask import Flask

from app.api.body_guard import BodyGuard
from app.api.paths import PathNormaliser

ROOT = Path(__file__).resolve().parents[2]
LAZY = ("redis", "cryptography", "PIL", "apispec")  # REDIS_URL; webhook sealing; images read; /openapi.json

PROBE = """
import json, sys
from app import create_app
create_app()
print(json.dumps(sorted(name for name in {lazy!r} if name in sys.modules)))
"""


@pytest.fixture(scope="module")
def loaded_at_boot() -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WEBHOOK_SECRET")}
    env.update({"STATE_DB": ":memory:", "JIMENG_BASE_URL": "http://127.0.0.1:9", "LOG_LEVEL": "WARNING"})
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(lazy=LAZY)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("module", LAZY)
def test_a_booted_app_has_not_imported(module: str, loaded_at_boot: list[str]) -> None:
    assert module not in loaded_at_boot


def test_the_sealer_still_seals_once_cryptography_is_loaded() -> None:
    from app.sealing import FernetSealer

    sealer = FernetSealer("a webhook secret")
    sealed = sealer.seal("session-1")
    assert sealed != "session-1"
    assert sealer.unseal(sealed) == "session-1"
    assert FernetSealer("another secret").unseal(sealed) is None
    assert sealer.unseal("not a token") is None


def test_the_wsgi_middleware_is_chained_by_bound_methods(make_app: Callable[..., Flask]) -> None:
    """Each middleware is called as a bound method, never as an instance (a call through C): a waiting request
    keeps a copy of its C stack, about 0.7 KiB more per instance (issue 17)."""
    app = make_app()
    seen, current = [], app.wsgi_app
    while isinstance(getattr(current, "__self__", None), BodyGuard | PathNormaliser):
        assert isinstance(current, MethodType)
        seen.append(type(current.__self__))
        current = current.__self__.app
    assert seen == [PathNormaliser, BodyGuard]
    assert current == app.__class__.wsgi_app.__get__(app)  # Flask's own, reached with no instance call between


def test_every_request_shares_one_empty_read_only_session(make_app: Callable[..., Flask]) -> None:
    """No cookie sessions here: not one NullSession per request, held by each request in flight (issue 17)."""
    app = make_app()
    seen = []
    for _ in range(2):
        with app.test_request_context("/v1/models"):
            seen.append(flask.session._get_current_object())  # type: ignore[attr-defined]
    assert seen[0] is seen[1] and len(seen[0]) == 0
    with app.test_request_context("/v1/models"), pytest.raises(RuntimeError):
        flask.session["user"] = "x"
