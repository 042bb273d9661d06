"""The shared state store (``app.domain.store.StateStore``): Redis when ``REDIS_URL`` is set (several
replicas), else one SQLite file (``STATE_DB``, default ``<instance folder>/state.sqlite3``) shared by the
worker processes of one machine. ``STATE_DB=:memory:`` is a private in-process store for tests.

``RedisStore`` lives in ``app.state.redis_store``, imported only when ``REDIS_URL`` asks for it: redis-py (with
its asyncio half) is about 6 MiB resident in every worker that never talks to a Redis."""

from __future__ import annotations

import os

from app.domain.store import StateStore
from app.state.sqlite import MEMORY, SqliteStore
from config.settings import Settings

DEFAULT_FILE = "state.sqlite3"


def open_store(settings: Settings, instance_path: str) -> StateStore:
    """The store the settings ask for. Nothing connects yet: the first call does, in the process that makes
    it (gunicorn forks first)."""
    if settings.redis_url:
        from app.state.redis_store import RedisStore

        return RedisStore(settings.redis_url)
    if settings.state_db == MEMORY:
        return SqliteStore(MEMORY)
    return SqliteStore(settings.state_db or os.path.join(instance_path, DEFAULT_FILE))


__all__ = ["SqliteStore", "open_store"]
