"""Fixtures shared by the unit tests that need a real HTTP peer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.local_http import scripted_server


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, Any], list[tuple[str, str]], threading.Event]]:
    """(base URL, routes, requests seen, stop event) of a scripted server on 127.0.0.1."""
    with scripted_server() as scripted:
        yield scripted.base, scripted.routes, scripted.seen, scripted.stop
