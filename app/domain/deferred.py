"""Async requests under the concurrency caps: a 202 at once, the submit when a slot frees.

A request in the async mode (``"async": true`` or ``Prefer: respond-async``) that finds every session of its
pool at its cap does not hold its client until a slot frees. Its start (wait for a slot, upload, submit) runs on
in a thread of the worker; the request answers 202 with a **task** of the service's own (``task_<hex>``, since
Jimeng has no history id for it yet), recorded in the shared store (``task:<id>``) so every worker and replica
can answer ``GET /v1/tasks/{id}`` for it:

- ``queued``: waiting for a slot (with the requests ahead of it); the owner renews the record's heartbeat while
  it waits, so a worker that died is told from one that waits (a record whose heartbeat stopped reads as
  failed: nothing was submitted, nothing charged);
- ``submitted``: Jimeng accepted it; the record keeps the job (its history ids, the session's digest), and the
  task reads as its generations do;
- ``failed``: it ended before Jimeng accepted anything (the wait timed out, the worker was stopped, the account
  refused the submit); the record keeps the error.

A request whose slot is free at once is submitted as before, and its 202 carries the history id. The idempotency
claim (``app/domain/ledger.py``) stays pending with the task's id while it waits, renewed by the same heartbeat:
an async repeat gets the same task, a waiting repeat follows the job once submitted.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from loguru import logger

from app.domain.errors import (
    DomainError,
    ServiceRestartingError,
    UpstreamUnavailableError,
    error_record,
    restore_error,
)
from app.domain.jobs import Job
from app.domain.ledger import Claim
from app.domain.store import StateStore, StoreUnavailableError

TASK_PREFIX = "task_"
QUEUED, SUBMITTED, FAILED = "queued", "submitted", "failed"
AHEAD_WRITE_SECONDS = 1.0  # the requests-ahead figure of a waiting task is written at most this often

# What a started job's thread runs: ``begin(on_wait, client_gone)`` waits for a slot, uploads and submits.
Begin = Callable[[Callable[[int], None], Callable[[], bool]], Job]


def is_task_id(text: str) -> bool:
    return text.startswith(TASK_PREFIX)


@dataclass(frozen=True, kw_only=True)
class QueuedTask:
    """The store's record of one deferred start."""

    id: str
    scope: str  # the caller's digest: only the same credentials may read it
    model: str
    created: int
    state: str = QUEUED
    beat: float = 0.0  # unix seconds of the owner's last heartbeat while queued
    ahead: int | None = None  # requests ahead of it in the fair queue, while queued
    job: dict[str, Any] | None = None  # Job.to_record(), once submitted
    error: dict[str, Any] | None = None  # error_record(), once failed

    @property
    def history_ids(self) -> tuple[str, ...]:
        if self.job is None:
            return ()
        return tuple(str(part["history_id"]) for part in self.job.get("parts", ()))

    def failure(self, now: float, lease_seconds: float) -> DomainError | None:
        """Why it ended without a generation: its recorded error, or a worker that stopped renewing it."""
        if self.state == FAILED and self.error is not None:
            return restore_error(self.error)
        if self.state == QUEUED and now - self.beat > lease_seconds:
            return ServiceRestartingError(
                "The service restarted while this request waited for a free slot; nothing was submitted (and "
                "nothing charged): send the request again"
            )
        return None


@dataclass(eq=False)
class _Handoff:
    """Between a request and the thread that starts its job: who answers for the outcome."""

    event: threading.Event
    lock: threading.Lock
    task_id: str | None = None  # set when the request answered 202 with a queued task: the thread owns the rest
    ahead: int | None = None  # requests ahead when it had to wait for a slot
    inline: bool = False  # the store could not record a task: the request waits for the outcome itself
    outcome: Job | BaseException | None = None


class DeferredStarts:
    """Starts of async requests that may wait for a slot after their 202 (see the module's docstring)."""

    def __init__(
        self,
        store: StateStore,
        *,
        lease_seconds: float,
        retention_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._lease = lease_seconds
        self._retention = retention_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting: dict[str, tuple[QueuedTask, Claim]] = {}  # this process's queued tasks, renewed here
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition(self._lock)  # notified when a task of this process concluded
        self._writing = threading.Lock()  # a heartbeat's write and a final record's write, one at a time

    # -- the request's side ---------------------------------------------------------------------------------

    def run(
        self,
        begin: Begin,
        *,
        claim: Claim,
        scope: str,
        model: str,
        client_gone: Callable[[], bool],
        on_job: Callable[[QueuedTask, Job], None],
        on_failure: Callable[[QueuedTask, DomainError], None],
    ) -> Job | QueuedTask:
        """Start the job in a thread of its own: its Job when it was submitted without waiting for a slot (or
        its error, raised here), else the queued task, recorded before this returns. From then on the thread
        settles the claim and the record, and calls ``on_job`` (submitted) or ``on_failure`` (nothing was)."""
        handoff = _Handoff(threading.Event(), threading.Lock())

        def on_wait(ahead: int) -> None:
            if handoff.ahead is None:
                handoff.ahead = ahead
            handoff.event.set()
            self._note_ahead(handoff, ahead)

        def gone() -> bool:  # the client may leave once it has its 202: the job goes on without it
            if handoff.task_id is not None:
                return False
            left = client_gone()  # may yield to the request, which may answer 202 meanwhile: look again after
            return left and handoff.task_id is None

        def body() -> None:
            try:
                outcome: Job | BaseException = begin(on_wait, gone)
            except BaseException as err:  # handed to the request, or recorded: never lost
                outcome = err
            with handoff.lock:
                if handoff.task_id is None:
                    handoff.outcome = outcome
                    handoff.event.set()
                    return
                task_id = handoff.task_id
            self._conclude(task_id, outcome, on_job, on_failure)

        threading.Thread(target=body, name="deferred-start", daemon=True).start()
        while True:
            handoff.event.wait()
            with handoff.lock:
                if handoff.outcome is not None:
                    if isinstance(handoff.outcome, BaseException):
                        raise handoff.outcome
                    return handoff.outcome
                if handoff.inline:  # a wait notice after the store failed: keep waiting for the outcome
                    handoff.event.clear()
                    continue
                task = QueuedTask(
                    id=f"{TASK_PREFIX}{uuid.uuid4().hex}", scope=scope, model=model, created=int(self._clock()),
                    beat=self._clock(), ahead=handoff.ahead,
                )  # fmt: skip
                try:
                    self._write(task)  # before the thread may settle it: it waits for this lock
                except StoreUnavailableError as err:
                    # without a record nobody could read the task: the request waits for its submit as before
                    logger.warning("deferred start: the state store failed ({}); the request waits for its slot", err)
                    handoff.inline = True
                    handoff.event.clear()
                    continue
                claim.defer(task.id)
                with self._lock:
                    self._waiting[task.id] = (task, claim)
                handoff.task_id = task.id
            self._ensure_keeper()
            logger.info("async request waits for a free slot as task {}", task.id)
            return task

    def get(self, task_id: str) -> QueuedTask | None:
        raw = self._store.get(f"task:{task_id}")
        if raw is None:
            return None
        try:
            return QueuedTask(**json.loads(raw))
        except (ValueError, TypeError):
            return None

    def failure(self, task: QueuedTask) -> DomainError | None:
        return task.failure(self._clock(), self._lease)

    def drain(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` seconds) until every task of this process concluded: a worker going away
        refuses the waiting ones at once (``ServiceRestartingError``) and lets a submit on its way be recorded
        with its history id. True when none is left."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._waiting:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    # -- the thread's side ----------------------------------------------------------------------------------

    def _note_ahead(self, handoff: _Handoff, ahead: int) -> None:
        """A waiting task's requests ahead changed: kept, and written at most every AHEAD_WRITE_SECONDS."""
        if handoff.task_id is None:
            return
        with self._writing:
            with self._lock:
                held = self._waiting.get(handoff.task_id)
            if held is None or held[0].state != QUEUED or held[0].ahead == ahead:
                return
            task, claim = held
            fresh = replace(task, ahead=ahead)
            if self._clock() - task.beat >= AHEAD_WRITE_SECONDS:
                fresh = replace(fresh, beat=self._clock())
                self._quietly(lambda: self._write(fresh))
            with self._lock:
                self._waiting[task.id] = (fresh, claim)

    def _conclude(
        self,
        task_id: str,
        outcome: Job | BaseException,
        on_job: Callable[[QueuedTask, Job], None],
        on_failure: Callable[[QueuedTask, DomainError], None],
    ) -> None:
        """Record how the start ended (the task's record, then its claim), then tell ``on_job``/``on_failure``.
        The final record is written under the keeper's lock and marks the task concluded, so a heartbeat taken
        a moment before can never write "queued" over it."""
        with self._lock:
            task, claim = self._waiting[task_id]
        error: DomainError | None = None
        if isinstance(outcome, Job):
            final = replace(task, state=SUBMITTED, ahead=None, job=outcome.to_record())
        else:
            error = outcome if isinstance(outcome, DomainError) else _unexpected(outcome)
            final = replace(task, state=FAILED, ahead=None, error=error_record(error))
        try:
            with self._writing:
                self._quietly(lambda: self._write(final))
                with self._lock:
                    self._waiting[task_id] = (final, claim)
            claim.conclude(outcome if isinstance(outcome, Job) else None)
        finally:
            with self._idle:
                self._waiting.pop(task_id, None)
                self._idle.notify_all()
        if isinstance(outcome, Job):
            logger.info("task {} submitted as generation {}", task_id, outcome.history_id)
            on_job(final, outcome)
        else:
            assert error is not None
            logger.info("task {} ended before a submit: {}", task_id, error.message)
            on_failure(final, error)

    def _write(self, task: QueuedTask) -> None:
        self._store.put(f"task:{task.id}", json.dumps(asdict(task), separators=(",", ":")), self._retention)

    def _ensure_keeper(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._keep, name="deferred-keeper", daemon=True)
                self._thread.start()

    def _keep(self) -> None:
        """Renew the heartbeat of every task waiting here, and its claim, a few times per lease."""
        while True:
            time.sleep(self._lease / 3)
            with self._lock:
                waiting = list(self._waiting.values())
            self._renew_round(waiting)

    def _renew_round(self, waiting: list[tuple[QueuedTask, Claim]]) -> None:
        for task, claim in waiting:
            with self._writing:  # a task that concluded since the list was taken keeps its final record
                with self._lock:
                    current = self._waiting.get(task.id)
                if current is None or current[0].state != QUEUED:
                    continue
                fresh = replace(current[0], beat=self._clock())
                self._quietly(lambda fresh=fresh: self._write(fresh))  # type: ignore[misc]
                with self._lock:
                    self._waiting[task.id] = (fresh, claim)
            self._quietly(claim.renew)

    @staticmethod
    def _quietly(call: Callable[[], object]) -> None:
        try:
            call()
        except StoreUnavailableError as err:
            logger.warning("deferred start: the state store failed ({}); its task record may be stale", err)


def _unexpected(err: BaseException) -> DomainError:
    """A bug or a broken dependency, told as an upstream failure (the record must say something)."""
    logger.opt(exception=err).error("deferred start failed unexpectedly")
    return UpstreamUnavailableError(
        "The generation could not be started; nothing was submitted: send the request again"
    )
