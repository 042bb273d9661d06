"""Fixture ladder: settings -> app -> live server on a loopback port (real HTTP, no test client)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from app import create_app
from config.settings import settings_for_tests
from tests.redis_server import RedisServer, redis_server, require_redis_server
from tests.support import LiveServer


@pytest.fixture
def make_app() -> Callable[..., Flask]:
    def build(**overrides: Any) -> Flask:
        return create_app(settings_for_tests(**overrides))

    return build


@pytest.fixture
def live_server(make_app: Callable[..., Flask]) -> Iterator[Callable[..., str]]:
    """Start the app (with Settings overrides) on 127.0.0.1:<port>; returns its base URL."""
    servers: list[LiveServer] = []

    def start(**overrides: Any) -> str:
        server = LiveServer(make_app(**overrides))
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()
        server.app.extensions["generation"].poller.stop()


@pytest.fixture(scope="session")
def redis_instance() -> Iterator[RedisServer]:
    """One redis-server for the session (tests/redis_server.py): fails under CI when it is not installed,
    skips elsewhere."""
    with redis_server(binary=require_redis_server()) as server:
        yield server


@pytest.fixture
def redis_url(redis_instance: RedisServer) -> str:
    """The URL of the session's redis-server, its database emptied for this test."""
    client = redis_instance.client()
    try:
        client.flushdb()
    finally:
        client.close()
    return redis_instance.url
