"""The webhook outbox and its deliveries, against both stores (SQLite file and a real redis-server): retries
with back-off, signatures, the sealed session, and a second process taking over what the first left."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from loguru import logger

from app.domain.jobs import Job, Part
from app.domain.models import GenerationKind, Phase, ResponseFormat, Snapshot, Submitted
from app.domain.store import StateStore, StoreUnavailableError
from app.domain.tasks import TaskView
from app.domain.webhooks import Webhooks, WebhookSettings, backoff, signature, verify
from app.sealing import INFO, SALT, FernetSealer, derive_key
from app.state import SqliteStore
from app.state.redis_store import RedisStore

SECRET = "whsec-0123456789abcdef"
SESSION = "sealed-session-id-42"


@pytest.fixture(params=("sqlite", "redis"))
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], StateStore]]:
    """Stores on one backend, each its own connection (as two processes would have)."""
    opened: list[StateStore] = []

    def build() -> StateStore:
        if request.param == "redis":
            store: StateStore = RedisStore(request.getfixturevalue("redis_url"))
        else:
            store = SqliteStore(str(tmp_path / "state.sqlite3"))
        opened.append(store)
        return store

    yield build
    for store in opened:
        store.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Receiver:
    """A fake CallbackSender: fails the first ``failures`` posts, remembers every one."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.posts: list[tuple[str, bytes, dict[str, str]]] = []

    def check(self, url: str) -> None:
        if "10.0.0.1" in url:
            raise ValueError("resolves to a private address 10.0.0.1")

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.posts.append((url, body, headers))
        if len(self.posts) <= self.failures:
            if len(self.posts) == 1:
                raise OSError("ConnectionError")  # no answer at all
            return 500
        return 204


def job(history_id: str = "7001") -> Job:
    part = Part.of(Submitted(history_id=history_id, submit_id="sub-" + history_id), 1)
    return Job(
        parts=(part,), session_id=SESSION, kind=GenerationKind.IMAGE, model="jimeng-4.0", prompt="p", created=1,
        response_format=ResponseFormat.URL, input_images=0,
    )  # fmt: skip


def hooks(
    store: StateStore, sender: Receiver, clock: Clock, state: dict[str, Phase], secret: str = SECRET, **kw: Any
) -> Webhooks:
    seen_sessions: list[str] = []

    def lookup(sessions: list[str], task_id: str) -> TaskView | None:
        seen_sessions.extend(sessions)
        assert sessions == [SESSION]
        return TaskView(task_id, Snapshot(history_id=task_id, phase=state.get(task_id, Phase.RUNNING), status=0))

    settings = WebhookSettings(secret=secret, retry_min_seconds=30, retry_max_seconds=3600, check_seconds=5, **kw)
    return Webhooks(store, settings, sender=sender, sealer=FernetSealer(secret), lookup=lookup,
                    render=lambda v: {"id": v.id, "status": str(v.snapshot.phase)}, clock=clock,
                    autostart=False)  # fmt: skip


def test_the_fourth_delivery_arrives_signed_after_three_failures_and_a_new_process(
    new_store: Callable[[], StateStore],
) -> None:
    clock, receiver, state = Clock(), Receiver(failures=3), {}
    first = hooks(new_store(), receiver, clock, state)
    (delivery_id,) = first.register("https://hooks.example/cb", job()).values()
    stored = new_store().get(f"webhook:{delivery_id}") or ""
    assert SESSION not in stored  # sealed, never in clear
    clock.now += 5
    assert first.deliver_due() == 0  # still running: looked at again later, nothing sent
    state["7001"] = Phase.SUCCEEDED
    first.hurry(delivery_id)  # the worker watching it saw it end
    assert first.deliver_due() == 1 and len(receiver.posts) == 1
    clock.now += 29
    assert first.deliver_due() == 0  # the first retry waits 30 s
    clock.now += 1
    assert first.deliver_due() == 1 and len(receiver.posts) == 2

    second = hooks(new_store(), receiver, clock, state)  # a restart: a new process, the same store
    clock.now += 60
    assert second.deliver_due() == 1 and len(receiver.posts) == 3
    clock.now += 120
    assert second.deliver_due() == 1 and len(receiver.posts) == 4
    url, body, headers = receiver.posts[-1]
    assert url == "https://hooks.example/cb" and body == b'{"id":"7001","status":"succeeded"}'
    assert verify(SECRET, headers["Jimeng-Signature"], body, now=clock.now)
    assert headers["Webhook-Id"] == delivery_id
    clock.now += 10_000
    assert second.deliver_due() == 0 and second.outbox.get(delivery_id) is None  # delivered: gone


def test_a_delivery_is_dropped_after_its_last_attempt(new_store: Callable[[], StateStore]) -> None:
    clock, receiver = Clock(), Receiver(failures=100)
    webhooks = hooks(new_store(), receiver, clock, {"7001": Phase.FAILED}, max_attempts=3)
    (delivery_id,) = webhooks.register("https://hooks.example/cb", job()).values()
    for _ in range(10):
        clock.now += 3600
        webhooks.deliver_due()
    assert len(receiver.posts) == 3 and webhooks.outbox.get(delivery_id) is None


def test_one_process_at_a_time_delivers_an_entry(new_store: Callable[[], StateStore]) -> None:
    clock, receiver, state = Clock(), Receiver(failures=0), {"7001": Phase.SUCCEEDED}
    first, second = hooks(new_store(), receiver, clock, state), hooks(new_store(), receiver, clock, state)
    first.register("https://hooks.example/cb", job())
    clock.now += 5
    (due,) = first.outbox.due()
    assert first.outbox.claim(due)
    assert second.deliver_due() == 0  # claimed by the first
    first.outbox.unclaim(due)
    assert second.deliver_due() == 1 and len(receiver.posts) == 1


def test_the_same_task_and_url_make_one_entry_and_a_refused_url_is_a_400(new_store: Callable[[], StateStore]) -> None:
    webhooks = hooks(new_store(), Receiver(0), Clock(), {})
    assert webhooks.register("https://a.example/", job()) == webhooks.register("https://a.example/", job())
    assert len(webhooks.outbox.due()) == 0
    with pytest.raises(Exception) as refused:
        webhooks.check("http://10.0.0.1/hook")
    assert refused.value.code == "invalid_value" and refused.value.param == "callback_url"  # type: ignore[attr-defined]


def test_back_off_doubles_from_the_minimum_to_the_maximum() -> None:
    settings = WebhookSettings(secret=SECRET)
    assert [backoff(n, settings) for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]


def test_signatures_follow_the_documented_scheme_and_old_ones_are_refused() -> None:
    body = b'{"id":"1"}'
    header = signature(SECRET, 1_800_000_000, body)
    mac = hmac.new(SECRET.encode(), b"1800000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1800000000,v1={mac}"
    assert verify(SECRET, header, body, now=1_800_000_299)
    assert not verify(SECRET, header, body, now=1_800_000_301)  # older than five minutes
    assert not verify(SECRET, header, body + b" ", now=1_800_000_000)
    assert not verify("another-secret-0123456", header, body, now=1_800_000_000)


def test_a_sealed_session_opens_only_with_its_secret() -> None:
    sealed = FernetSealer(SECRET).seal(SESSION)
    assert SESSION not in sealed and FernetSealer(SECRET).seal(SESSION) != sealed  # a fresh IV each time
    assert Fernet(derive_key(SECRET)).decrypt(sealed.encode()) == SESSION.encode()  # a plain Fernet token
    assert FernetSealer(SECRET).unseal(sealed) == SESSION
    assert FernetSealer("another-secret-0123456").unseal(sealed) is None
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    assert FernetSealer(SECRET).unseal(tampered) is None
    assert FernetSealer(SECRET).unseal("not a token") is None
    old_scheme = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQ"  # the hand-made cipher's shape
    assert FernetSealer(SECRET).unseal(old_scheme) is None


def test_the_sealing_key_comes_from_hkdf_and_differs_from_the_secret() -> None:
    key = base64.urlsafe_b64decode(derive_key(SECRET))
    expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=INFO).derive(SECRET.encode())
    assert key == expected and SECRET.encode() not in key
    assert derive_key(SECRET) != derive_key("another-secret-0123456")


def test_a_changed_secret_drops_the_pending_deliveries(new_store: Callable[[], StateStore]) -> None:
    clock, receiver, state = Clock(), Receiver(failures=0), {"7001": Phase.SUCCEEDED}
    store = new_store()
    (delivery_id,) = hooks(store, receiver, clock, state).register("https://hooks.example/cb", job()).values()
    rotated = hooks(new_store(), receiver, clock, state, secret="a-rotated-secret-0123456")
    clock.now += 5
    assert rotated.deliver_due() == 0 and receiver.posts == []
    assert rotated.outbox.get(delivery_id) is None  # unreadable with the new key: dropped, not retried forever


class FailingStore:
    """A store that is down for the outbox's writes (the job was accepted just before)."""

    def __init__(self, inner: StateStore) -> None:
        self._inner = inner

    def create(self, key: str, value: str, ttl: float) -> bool:
        if key.startswith("webhook:"):
            raise StoreUnavailableError("redis: connection refused")
        return self._inner.create(key, value, ttl)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_store_that_fails_after_the_submit_leaves_the_history_id_and_an_error_log(
    new_store: Callable[[], StateStore],
) -> None:
    lines: list[str] = []
    sink = logger.add(lines.append, level="ERROR", format="{level} {message}")
    try:
        webhooks = hooks(FailingStore(new_store()), Receiver(0), Clock(), {})  # type: ignore[arg-type]
        assert webhooks.register("https://hooks.example/cb", job("7002")) == {}
    finally:
        logger.remove(sink)
    (line,) = lines
    assert line.startswith("ERROR") and "7002" in line and "will not be sent" in line
