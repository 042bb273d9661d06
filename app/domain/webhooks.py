"""Webhooks: a generating request's ``callback_url`` hears the task object when its generation ends.

The outbox is durable, in the shared ``StateStore``: an entry is written when Jimeng accepted the job (before
the 202), so a worker that dies, a deploy or a restart loses nothing. Each entry (``webhook:<id>``, JSON) holds
the URL, the task id (a history id; or the service's own task id of a request that waited for a slot), the
session that submitted it (the caller's pool for a task still waiting: sealed by a ``Sealer``: Fernet, keyed from
``WEBHOOK_SECRET`` through HKDF, ``app/sealing.py``; the store never holds a session id in clear, and a changed
secret makes the pending entries unreadable: they are dropped), its attempts and when it is due;
the lease set ``webhooks`` lists the entries, so any process finds them.

One delivery thread per process (``Webhooks.start``) takes due entries (a short claim in the store, so two
processes never deliver one entry at once) and resolves the task itself with the task look-up, as
``GET /v1/tasks/{id}`` does: still running, it looks again after ``check_seconds`` (a live worker that watches
the generation makes it due at once when it ends: ``hurry``); ended, it POSTs the task object, signed. A 2xx
answer delivers it; anything else (or no answer) is tried again after ``retry_min_seconds``, doubled each time
up to ``retry_max_seconds``, at most ``max_attempts`` attempts in all.

The signature (header ``Jimeng-Signature``) is Stripe's scheme: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>">``; receivers check it and refuse timestamps older than five minutes (``verify``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol

from loguru import logger

from app.domain.errors import DomainError, InvalidRequestError
from app.domain.jobs import Job
from app.domain.observe import Observer, Silent
from app.domain.store import StateStore, StoreUnavailableError
from app.domain.tasks import TaskView

INDEX = "webhooks"
SIGNATURE_HEADER = "Jimeng-Signature"
TOLERANCE_SECONDS = 300
MAX_URL_CHARS = 2048


class CallbackSender(Protocol):
    def check(self, url: str) -> None:
        """Refuse a URL that may not be called (scheme, private address: ValueError with the reason)."""
        ...

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST ``body`` once; the HTTP status (OSError/ValueError when there was no answer)."""
        ...


@dataclass(frozen=True, kw_only=True)
class WebhookSettings:
    secret: str
    max_attempts: int = 8
    retry_min_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    check_seconds: float = 30.0
    retention_seconds: float = 3 * 86400.0  # an entry older than this is gone, delivered or not
    claim_seconds: float = 120.0  # one delivery's claim (look-up and POST fit well inside it)


@dataclass(frozen=True, kw_only=True)
class Delivery:
    id: str
    url: str
    task_id: str
    sealed: str
    due: float  # unix seconds
    attempts: int = 0
    created: float = 0.0


def delivery_id(task_id: str, url: str) -> str:
    """One delivery per task and URL (a repeat of the request registers nothing new)."""
    return hashlib.sha256(f"{task_id}\n{url}".encode()).hexdigest()[:24]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Jimeng-Signature`` header of ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, now: float, tolerance: float = TOLERANCE_SECONDS) -> bool:
    """A receiver's check (the snippet of docs/api.md): a v1 signature matches and the time stamp is recent."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


def backoff(attempts: int, settings: WebhookSettings) -> float:
    """The wait after ``attempts`` failed attempts: the minimum, doubled each time, at most the maximum."""
    return min(settings.retry_max_seconds, settings.retry_min_seconds * 2 ** max(0, attempts - 1))


class Sealer(Protocol):
    """Session ids in the store, encrypted and authenticated with a key derived from ``WEBHOOK_SECRET``
    (``FernetSealer`` of ``app/sealing.py``, wired in ``app/wiring.py``)."""

    def seal(self, text: str) -> str: ...

    def unseal(self, sealed: str) -> str | None:
        """The text, or None when it was not sealed with this secret (a changed WEBHOOK_SECRET) or was altered."""
        ...


class Outbox:
    """The deliveries in the store: add, list the due ones, claim one, reschedule or remove it."""

    def __init__(self, store: StateStore, settings: WebhookSettings, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock

    def add(self, delivery: Delivery) -> bool:
        """Write a new entry (False when one with its id exists: the same task and URL)."""
        ttl = self._settings.retention_seconds
        created = self._store.create(f"webhook:{delivery.id}", _dump(delivery), ttl)
        self._store.lease(INDEX, delivery.id, ttl)
        return created

    def get(self, delivery_id: str) -> Delivery | None:
        raw = self._store.get(f"webhook:{delivery_id}")
        return _load(raw) if raw is not None else None

    def due(self) -> list[Delivery]:
        """Entries due now, earliest first (entries gone from the store leave the index)."""
        now, found = self._clock(), []
        for delivery_id in self._store.leases(INDEX):
            delivery = self.get(delivery_id)
            if delivery is None:
                self._store.unlease(INDEX, delivery_id)
            elif delivery.due <= now:
                found.append(delivery)
        return sorted(found, key=lambda d: d.due)

    def claim(self, delivery: Delivery) -> bool:
        return self._store.create(f"webhook-claim:{delivery.id}", "1", self._settings.claim_seconds)

    def unclaim(self, delivery: Delivery) -> None:
        self._store.delete(f"webhook-claim:{delivery.id}")

    def update(self, before: Delivery, after: Delivery) -> bool:
        return self._store.swap(f"webhook:{before.id}", _dump(before), _dump(after), self._settings.retention_seconds)

    def remove(self, delivery: Delivery) -> None:
        self._store.delete(f"webhook:{delivery.id}")
        self._store.unlease(INDEX, delivery.id)

    def hurry(self, delivery_id: str) -> None:
        """Due now (its generation ended here): when another process changed it meanwhile, its own check runs."""
        delivery = self.get(delivery_id)
        if delivery is not None and delivery.attempts == 0:
            self.update(delivery, replace(delivery, due=self._clock()))


class Webhooks:
    """Registers callbacks of accepted jobs and delivers them (one thread per process)."""

    def __init__(
        self,
        store: StateStore,
        settings: WebhookSettings,
        *,
        sender: CallbackSender,
        sealer: Sealer,
        lookup: Callable[[list[str], str], TaskView | None],
        render: Callable[[TaskView], dict[str, Any]],
        observer: Observer | None = None,
        clock: Callable[[], float] = time.time,
        autostart: bool = True,
    ) -> None:
        """``lookup(sessions, task_id)``: the task as those sessions see it (None: not known or not readable
        now); ``render(view)``: its task object, as ``GET /v1/tasks/{id}`` answers it."""
        self.settings = settings
        self.outbox = Outbox(store, settings, clock)
        self._sealer = sealer
        self._sender = sender
        self._lookup = lookup
        self._render = render
        self._observer: Observer = observer or Silent()
        self._clock = clock
        self._poke = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._autostart = autostart  # False: nothing delivers but ``deliver_due`` (unit tests)

    # -- the request's side ---------------------------------------------------------------------------------

    def check(self, url: object) -> str:
        """A request's ``callback_url``, refused (400) before anything is submitted when it may not be called."""
        if not isinstance(url, str) or not url or len(url) > MAX_URL_CHARS:
            raise InvalidRequestError(
                f"callback_url must be an http or https URL of at most {MAX_URL_CHARS} characters",
                param="callback_url",
            )
        try:
            self._sender.check(url)
        except ValueError as err:
            raise InvalidRequestError(f"callback_url cannot be called: {err}", param="callback_url") from None
        return url

    def register(self, url: str, job: Job) -> dict[str, str]:
        """One delivery per part of an accepted job, due after ``check_seconds`` (sooner when ``hurry`` hears
        its end): history id -> delivery id of each one written. Jimeng has accepted the job, so a store that
        fails here must not cost the caller its history ids: the part is logged as an error (its callback
        will not be sent) and left out, and the caller answers as usual (``GET /v1/tasks/{id}`` still works)."""
        ids = {}
        for history_id in job.history_ids:
            if self._add(url, history_id, [job.session_id]):
                ids[history_id] = delivery_id(history_id, url)
        return ids

    def register_task(self, url: str, task_id: str, sessions: list[str]) -> bool:
        """The delivery of a task that waits for a slot (``app/domain/deferred.py``): it may end on any session
        of the pool, so the pool is sealed with it. False when the store failed (logged; no callback)."""
        return self._add(url, task_id, sessions)

    def _add(self, url: str, task_id: str, sessions: list[str]) -> bool:
        now = self._clock()
        sealed = self._sealer.seal("\n".join(sessions))
        due = now + self.settings.check_seconds
        delivery = Delivery(id=delivery_id(task_id, url), url=url, task_id=task_id, sealed=sealed, due=due, created=now)
        try:
            self.outbox.add(delivery)
        except StoreUnavailableError as err:
            self._observer.webhook("unregistered")
            logger.error("webhook of task {}: the state store failed ({}); its callback will not be sent "
                         "(the task is accepted: GET /v1/tasks/{} answers it)", task_id, err, task_id)  # fmt: skip
            return False
        if self._autostart:
            self.start()
        return True

    def hurry(self, delivery_id: str) -> None:
        try:
            self.outbox.hurry(delivery_id)
        except StoreUnavailableError as err:
            logger.warning("webhook {}: could not mark it due: {}", delivery_id, err)
        self._poke.set()

    # -- the delivery side ----------------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        step = min(1.0, self.settings.check_seconds, self.settings.retry_min_seconds)
        while True:
            self._poke.wait(timeout=step)
            self._poke.clear()
            try:
                self.deliver_due()
            except Exception as err:  # a bug or a store that is down must not end the thread
                logger.opt(exception=err).warning("webhook deliveries failed this round")

    def deliver_due(self) -> int:
        """Every due delivery this process can claim, once; how many were attempted."""
        attempted = 0
        for delivery in self.outbox.due():
            if not self.outbox.claim(delivery):
                continue
            try:
                current = self.outbox.get(delivery.id)
                if current is not None and current.due <= self._clock():
                    attempted += self._handle(current)
            finally:
                self.outbox.unclaim(delivery)
        return attempted

    def _handle(self, delivery: Delivery) -> int:
        sealed = self._sealer.unseal(delivery.sealed)
        if sealed is None:
            logger.warning("webhook {}: sealed with another WEBHOOK_SECRET, dropped", delivery.id)
            self.outbox.remove(delivery)
            return 0
        try:
            view = self._lookup(sealed.split("\n"), delivery.task_id)
        except DomainError as err:
            logger.info("webhook {}: task {} not readable now: {}", delivery.id, delivery.task_id, err.message)
            view = None
        if view is None or not view.terminal:
            self.outbox.update(delivery, replace(delivery, due=self._clock() + self.settings.check_seconds))
            return 0
        body = json.dumps(self._render(view), ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(self._clock())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(self.settings.secret, timestamp, body),
            "Webhook-Id": delivery.id,
            "User-Agent": "jimeng-api-webhooks",
        }
        try:
            status: int | None = self._sender.post(delivery.url, body, headers)
            reason = f"HTTP {status}"
        except (OSError, ValueError) as err:
            status, reason = None, str(err) or type(err).__name__
        attempts = delivery.attempts + 1
        if status is not None and 200 <= status < 300:
            self._observer.webhook("delivered")
            logger.info("webhook {} of task {} delivered (attempt {})", delivery.id, delivery.task_id, attempts)
            self.outbox.remove(delivery)
        elif attempts >= self.settings.max_attempts:
            self._observer.webhook("dropped")
            logger.warning("webhook {} of task {} dropped after {} attempts: {}", delivery.id, delivery.task_id,
                           attempts, reason)  # fmt: skip
            self.outbox.remove(delivery)
        else:
            self._observer.webhook("retry")
            wait = backoff(attempts, self.settings)
            logger.info("webhook {} attempt {} failed ({}): again in {:.1f}s", delivery.id, attempts, reason, wait)
            self.outbox.update(delivery, replace(delivery, attempts=attempts, due=self._clock() + wait))
        return 1


def _dump(delivery: Delivery) -> str:
    return json.dumps(asdict(delivery), sort_keys=True, separators=(",", ":"))


def _load(raw: str) -> Delivery | None:
    try:
        return Delivery(**json.loads(raw))
    except (ValueError, TypeError):
        return None
