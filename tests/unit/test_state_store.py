"""The StateStore contract, run against every implementation: SQLite in a file, SQLite in memory, and a real
redis-server (tests/redis_server.py). Expiry uses real time with TTLs of a few tenths of a second."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.domain.store import StateStore, StoreUnavailableError
from app.logging import secrets
from app.state import SqliteStore, open_store
from app.state.redis_store import RedisStore
from config.settings import settings_for_tests
from tests.redis_server import redis_server, require_redis_server
from tests.support import free_port

Factory = Callable[[], StateStore]
KINDS = ("sqlite-file", "sqlite-memory", "redis")
SHORT = 0.2  # seconds: a TTL that runs out within a test
PASSWORD = "s3cret-Redis-passw0rd"
ADDS = 200  # per process: enough that unsynchronised increments would overlap


def build(kind: str, target: str) -> StateStore:
    """A new store on the shared backend (also in a child process)."""
    return RedisStore(target) if kind == "redis" else SqliteStore(target)


@pytest.fixture(params=KINDS)
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """Stores sharing one backend: each call opens a new one (own connection), except in memory, where the
    one private store is all there is."""
    kind: str = request.param
    opened: list[StateStore] = []
    if kind == "sqlite-memory":
        shared = SqliteStore(":memory:")
        opened.append(shared)

        def make() -> StateStore:
            return shared

    else:
        target = request.getfixturevalue("redis_url") if kind == "redis" else str(tmp_path / "state.sqlite3")

        def make() -> StateStore:
            store = build(kind, target)
            opened.append(store)
            return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(factory: Factory) -> StateStore:
    return factory()


# -- the contract ---------------------------------------------------------------------------------------


def test_create_sets_only_an_absent_key(store: StateStore) -> None:
    assert store.get("job") is None
    assert store.create("job", "first", 10) is True
    assert store.create("job", "second", 10) is False
    assert store.get("job") == "first"


def test_put_overwrites_and_delete_removes(store: StateStore) -> None:
    store.put("k", "a", 10)
    store.put("k", "b", 10)
    assert store.get("k") == "b"
    store.delete("k")
    store.delete("k")  # deleting an absent key is fine
    assert store.get("k") is None
    assert store.create("k", "c", 10) is True


def test_an_expired_key_is_absent(store: StateStore) -> None:
    assert store.create("claim", "old", SHORT)
    store.put("plain", "x", SHORT)
    time.sleep(SHORT + 0.1)
    assert store.get("claim") is None
    assert store.get("plain") is None
    assert store.swap("claim", "old", "new", 10) is False
    assert store.create("claim", "fresh", 10) is True
    assert store.get("claim") == "fresh"


def test_swap_replaces_only_the_expected_value(store: StateStore) -> None:
    assert store.swap("k", "anything", "v", 10) is False  # absent
    assert store.get("k") is None
    store.put("k", "pending", 10)
    assert store.swap("k", "other", "done", 10) is False
    assert store.get("k") == "pending"
    assert store.swap("k", "pending", "done", 10) is True
    assert store.get("k") == "done"
    assert store.swap("k", "done", None, 10) is True  # None deletes
    assert store.get("k") is None
    assert store.swap("k", "done", None, 10) is False


def test_swap_sets_the_new_ttl(store: StateStore) -> None:
    store.put("k", "pending", 10)
    assert store.swap("k", "pending", "short", SHORT)
    time.sleep(SHORT + 0.1)
    assert store.get("k") is None


def test_values_are_kept_exactly(store: StateStore) -> None:
    value = '{"state": "done", "text": "猫 \\u00e9 \' \\" ; DROP TABLE kv", "n": 1}'
    store.put("json", value, 10)
    assert store.get("json") == value
    assert store.swap("json", value, "", 10) is True
    assert store.get("json") == ""


def test_add_counts_from_zero_and_keeps_the_first_expiry(store: StateStore) -> None:
    assert store.add("n", 3, 10) == 3
    assert store.add("n", 2, 10) == 5
    assert store.add("n", -6, 10) == -1
    assert store.get("n") == "-1"
    assert store.add("budget", 1, 0.3) == 1
    time.sleep(0.15)
    assert store.add("budget", 1, 10) == 2  # an existing key keeps its expiry, 0.15 s from now
    time.sleep(0.25)
    assert store.get("budget") is None
    assert store.add("budget", 4, 10) == 4  # after expiry it starts again from zero


def test_add_works_on_a_put_integer_and_refuses_text(store: StateStore) -> None:
    store.put("n", "7", 10)
    assert store.add("n", 1, 10) == 8
    store.put("word", "seven", 10)
    with pytest.raises(StoreUnavailableError):
        store.add("word", 1, 10)
    assert store.get("word") == "seven"


@pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf")])
def test_a_ttl_must_be_positive(store: StateStore, ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl"):
        store.put("k", "v", ttl)


def _race(threads: int, work: Callable[[int], None]) -> None:
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            work(index)
        except BaseException as err:
            errors.append(err)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert not errors, errors


def test_threads_racing_create_have_one_winner(factory: Factory) -> None:
    stores = [factory() for _ in range(12)]
    wins: list[int] = []

    def claim(index: int) -> None:
        if stores[index].create("race", f"thread-{index}", 10):
            wins.append(index)

    _race(len(stores), claim)
    assert len(wins) == 1
    assert stores[0].get("race") == f"thread-{wins[0]}"


def test_threads_racing_add_lose_no_increment(factory: Factory) -> None:
    stores = [factory() for _ in range(8)]

    def count(index: int) -> None:
        for _ in range(50):
            stores[index].add("total", 1, 10)

    _race(len(stores), count)
    assert stores[0].get("total") == str(8 * 50)


def test_threads_racing_swap_have_one_winner(factory: Factory) -> None:
    stores = [factory() for _ in range(12)]
    stores[0].put("claim", "free", 10)
    wins: list[int] = []

    def take(index: int) -> None:
        if stores[index].swap("claim", "free", f"taken-{index}", 10):
            wins.append(index)

    _race(len(stores), take)
    assert len(wins) == 1


# -- processes ------------------------------------------------------------------------------------------


def _process_worker(kind: str, target: str, index: int, ready: object, start: object, results: object) -> None:
    """One process of the race: its own store, create once, then count."""
    store = build(kind, target)
    store.get("warm-up")  # connect before the start signal
    ready.release()  # type: ignore[attr-defined]
    start.wait(30)  # type: ignore[attr-defined]
    won = store.create("race", f"process-{index}", 30)
    for _ in range(ADDS):
        store.add("total", 1, 30)
    store.close()
    results.put((index, won))  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["sqlite-file", "redis"])
def test_processes_racing_on_one_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Gunicorn workers are processes: 4 of them race create and add on one SQLite file (or one Redis)."""
    target = request.getfixturevalue("redis_url") if kind == "redis" else str(tmp_path / "state.sqlite3")
    processes = 4
    context = multiprocessing.get_context("spawn")
    ready, start, results = context.Semaphore(0), context.Event(), context.Queue()
    children = [
        context.Process(target=_process_worker, args=(kind, target, i, ready, start, results)) for i in range(processes)
    ]
    for child in children:
        child.start()
    try:
        for _ in children:
            assert ready.acquire(timeout=60), "a process did not open the store"
        start.set()
        outcomes = dict(results.get(timeout=60) for _ in children)
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
    assert [child.exitcode for child in children] == [0] * processes
    winners = [index for index, won in outcomes.items() if won]
    assert len(winners) == 1
    check = build(kind, target)
    assert check.get("race") == f"process-{winners[0]}"
    assert check.get("total") == str(processes * ADDS)
    check.close()


def test_a_sqlite_store_used_before_a_fork_reconnects_in_the_child(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "state.sqlite3"))
    assert store.add("n", 1, 10) == 1  # the parent's connection is open
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork() beside other threads
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            code = 0 if store.add("n", 1, 10) == 2 else 1
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.add("n", 1, 10) == 3
    store.close()


# -- SQLite specifics -----------------------------------------------------------------------------------


def test_sqlite_uses_wal_and_creates_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "folder" / "state.sqlite3"
    store = SqliteStore(str(path))
    assert not path.exists()  # nothing is opened before the first call
    store.put("k", "v", 10)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("SELECT key, value FROM kv").fetchall() == [("k", "v")]
    store.close()


def test_sqlite_purges_expired_rows_now_and_then(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = SqliteStore(str(path), purge_every=5)
    for index in range(4):
        store.put(f"old-{index}", "x", 0.05)
    time.sleep(0.1)
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT count(*) FROM kv").fetchone()[0] == 4  # not a scan per call
    store.put("new", "y", 10)  # the 5th write
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT key FROM kv").fetchall() == [("new",)]
    store.close()


def test_sqlite_that_cannot_open_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    store = SqliteStore(str(tmp_path / "file" / "state.sqlite3"))
    with pytest.raises(StoreUnavailableError, match="state store"):
        store.get("k")
    (tmp_path / "garbage.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreUnavailableError):
        SqliteStore(str(tmp_path / "garbage.sqlite3")).get("k")


# -- Redis specifics ------------------------------------------------------------------------------------


def test_redis_keys_are_prefixed(redis_url: str) -> None:
    store = RedisStore(redis_url)
    store.put("k", "v", 10)
    raw = RedisStore(redis_url, prefix="")
    assert raw.get("jimeng-api:k") == "v"
    assert raw.get("k") is None
    store.close()
    raw.close()


def test_an_unreachable_redis_fails_fast_without_its_password() -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0"
    store = RedisStore(url)
    assert PASSWORD not in repr(store)
    started = time.monotonic()
    for call in (lambda: store.get("k"), lambda: store.create("k", "v", 1), lambda: store.add("n", 1, 1)):
        with pytest.raises(StoreUnavailableError) as caught:
            call()
        assert PASSWORD not in str(caught.value)
        assert "127.0.0.1" in str(caught.value)
        assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert time.monotonic() - started < 3


def test_a_redis_with_a_password() -> None:
    with redis_server(password=PASSWORD, binary=require_redis_server()) as server:
        good = RedisStore(server.url)
        assert good.create("k", "v", 10) is True
        assert good.get("k") == "v"
        wrong = RedisStore(server.url.replace(PASSWORD, "wrong-passw0rd-123"))
        with pytest.raises(StoreUnavailableError) as caught:
            wrong.get("k")
        assert "wrong-passw0rd-123" not in str(caught.value) and PASSWORD not in str(caught.value)
        assert PASSWORD not in repr(good)
        good.close()
        wrong.close()


# -- choosing and wiring the store ----------------------------------------------------------------------


def test_open_store_picks_redis_when_redis_url_is_set(tmp_path: Path) -> None:
    store = open_store(settings_for_tests(redis_url=f"redis://:{PASSWORD}@127.0.0.1:6379/0"), str(tmp_path))
    assert isinstance(store, RedisStore)
    assert PASSWORD not in repr(store)
    assert not any(tmp_path.iterdir())


def test_open_store_defaults_to_sqlite_under_the_instance_folder(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    store = open_store(settings_for_tests(state_db=""), str(instance))
    assert isinstance(store, SqliteStore)
    assert store.path == str(instance / "state.sqlite3")
    store.put("k", "v", 10)
    assert (instance / "state.sqlite3").is_file()
    store.close()
    chosen = open_store(settings_for_tests(state_db=str(tmp_path / "elsewhere.db")), str(instance))
    assert isinstance(chosen, SqliteStore) and chosen.path == str(tmp_path / "elsewhere.db")


def test_tests_get_a_private_store_per_app(make_app: Callable[..., object]) -> None:
    first, second = make_app().extensions["state"], make_app().extensions["state"]  # type: ignore[attr-defined]
    assert isinstance(first, SqliteStore) and first.path == ":memory:"
    first.put("k", "v", 10)
    assert second.get("k") is None


def test_the_app_masks_the_redis_password_in_logs(make_app: Callable[..., object]) -> None:
    make_app(redis_url=f"redis://:{PASSWORD}@127.0.0.1:6379/0")
    assert PASSWORD not in secrets.redact(f"connecting with {PASSWORD}")


# -- lease sets (the slots and queues of app/domain/capacity.py) -------------------------------------------


def test_a_lease_set_holds_members_below_its_limit(store: StateStore) -> None:
    assert store.leases("slots") == []
    assert store.lease("slots", "b", 10, limit=2) is True
    assert store.lease("slots", "a", 10, limit=2) is True
    assert store.lease("slots", "c", 10, limit=2) is False  # full
    assert store.lease("slots", "a", 10, limit=2) is True  # a held member renews, full or not
    assert store.leases("slots") == ["a", "b"]
    assert store.unlease("slots", "a") is True
    assert store.unlease("slots", "a") is False
    assert store.lease("slots", "c", 10, limit=2) is True
    assert store.leases("slots") == ["b", "c"]
    assert store.lease("slots", "d", 10) is True  # no limit
    assert store.leases("slots") == ["b", "c", "d"]


def test_an_expired_lease_frees_its_place(store: StateStore) -> None:
    assert store.lease("slots", "dead-worker", SHORT, limit=1) is True
    assert store.lease("slots", "other", 10, limit=1) is False
    time.sleep(SHORT + 0.15)
    assert store.leases("slots") == []
    assert store.unlease("slots", "dead-worker") is False
    assert store.lease("slots", "other", 10, limit=1) is True


def test_renewing_a_lease_keeps_it(store: StateStore) -> None:
    store.lease("queue", "waiter", SHORT)
    for _ in range(3):
        time.sleep(SHORT / 2)
        assert store.lease("queue", "waiter", SHORT) is True
    assert store.leases("queue") == ["waiter"]


def test_lease_sets_are_apart_from_plain_keys(store: StateStore) -> None:
    store.put("slots", "text", 10)
    store.lease("slots", "m", 10)
    assert store.get("slots") == "text"
    assert store.leases("slots") == ["m"]
    assert store.leases("other") == []


def test_threads_racing_for_leases_never_overshoot_the_limit(factory: Factory) -> None:
    stores = [factory() for _ in range(12)]
    wins: list[int] = []

    def take(index: int) -> None:
        if stores[index].lease("slots", f"holder-{index:02d}", 10, limit=3):
            wins.append(index)

    _race(len(stores), take)
    assert len(wins) == 3
    assert stores[0].leases("slots") == sorted(f"holder-{i:02d}" for i in wins)
