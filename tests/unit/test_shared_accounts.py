"""Account state shared through the store: pools of several "workers" (each its own SessionPool and store
connection, one SQLite file) make one credit check per account per period and one daily claim per day."""

from __future__ import annotations

import threading
from pathlib import Path

from app.domain.pool import SessionPool
from app.domain.shared_accounts import SharedAccounts
from app.state import SqliteStore
from tests.unit.test_pool import FakeAccounts


def workers(tmp_path: Path, backend: FakeAccounts, count: int, cache: float = 60.0) -> list[SessionPool]:
    path = str(tmp_path / "state.sqlite3")
    return [
        SessionPool(backend, cache, shared=SharedAccounts(SqliteStore(path), cache), day=lambda: "2026-01-01")
        for _ in range(count)
    ]


def test_workers_make_one_credit_check_per_account_per_period(tmp_path: Path) -> None:
    backend = FakeAccounts({"a": 5, "b": 9})
    pools = workers(tmp_path, backend, 4)
    threads = [threading.Thread(target=pool.choose, args=(["a", "b"], 1)) for pool in pools for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(backend.calls) == ["credits:a", "credits:b"]
    assert {pool.choose(["a", "b"], 1) for pool in pools} == {"b"}
    assert len(backend.calls) == 2


def test_an_expired_mark_reaches_every_worker(tmp_path: Path) -> None:
    backend = FakeAccounts({"a": 5, "b": 1})
    first, second = workers(tmp_path, backend, 2)
    first.mark_expired("a")
    assert second.choose(["a", "b"], 1) == "b"
    assert backend.calls == ["credits:b"]  # "a" was not asked again: its mark is shared


def test_the_daily_claim_is_made_once_for_every_worker(tmp_path: Path) -> None:
    backend = FakeAccounts({"a": 0}, grants={"a": 66})
    first, second = workers(tmp_path, backend, 2)
    assert first.choose(["a"], 1) == "a"
    second.state("a")  # its own cache is empty: the shared balance (after the claim) is taken over
    assert second.choose(["a"], 1) == "a"
    assert backend.calls.count("claim:a") == 1
    assert backend.calls.count("credits:a") == 1


def test_without_the_shared_store_each_worker_checks_on_its_own(tmp_path: Path) -> None:
    backend = FakeAccounts({"a": 5})
    for pool in [SessionPool(backend, 60.0) for _ in range(3)]:
        pool.choose(["a"], 1)
    assert backend.calls == ["credits:a"] * 3
