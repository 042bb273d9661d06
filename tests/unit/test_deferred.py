"""Deferred starts (async requests that wait for a slot after their 202), their claims and their task views."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator

import pytest

from app.domain.deferred import FAILED, QUEUED, SUBMITTED, DeferredStarts, QueuedTask, is_task_id
from app.domain.errors import (
    DomainError,
    GenerationTimeoutError,
    InsufficientCreditsError,
    NotFoundError,
    ServiceRestartingError,
)
from app.domain.jobs import Job, Part
from app.domain.ledger import PENDING, Intent, Ledger, LedgerSettings
from app.domain.models import GenerationKind, Phase, ResponseFormat, Snapshot
from app.domain.store import StateStore, StoreUnavailableError
from app.domain.tasks import Tasks, combined
from app.state.sqlite import SqliteStore
from tests.unit.test_webhooks import Clock

SESSIONS = ["session-aaaaaaaaaaaa"]
SETTINGS = LedgerSettings(key_ttl=60.0, retry_window=60.0, pending_ttl=5.0)


@pytest.fixture
def store() -> Iterator[StateStore]:
    store = SqliteStore(":memory:")
    yield store
    store.close()


def job(history_id: str = "h1", parts: int = 1) -> Job:
    return Job(
        parts=tuple(Part(history_id=f"{history_id}-{n}" if parts > 1 else history_id, submit_id=f"s{n}", count=4)
                    for n in range(parts)),
        session_id=SESSIONS[0], kind=GenerationKind.IMAGE, model="jimeng-4.5", prompt="a cat", created=1,
        response_format=ResponseFormat.URL, input_images=0,
    )  # fmt: skip


class Begin:
    """A start the test drives: it says it waits (``on_wait``) when told, then ends as the test decides."""

    def __init__(self, *, waits: bool, outcome: Job | DomainError) -> None:
        self.waits = waits
        self.outcome = outcome
        self.release = threading.Event()
        self.gone_checks: list[bool] = []

    def __call__(self, on_wait: Callable[[int], None], gone: Callable[[], bool]) -> Job:
        if self.waits:
            on_wait(3)
            self.release.wait(5)
            self.gone_checks.append(gone())
        if isinstance(self.outcome, DomainError):
            raise self.outcome
        return self.outcome


class Ended:
    def __init__(self) -> None:
        self.jobs: list[tuple[QueuedTask, Job]] = []
        self.failures: list[tuple[QueuedTask, DomainError]] = []
        self.done = threading.Event()

    def on_job(self, task: QueuedTask, started: Job) -> None:
        self.jobs.append((task, started))
        self.done.set()

    def on_failure(self, task: QueuedTask, error: DomainError) -> None:
        self.failures.append((task, error))
        self.done.set()


def run(
    deferred: DeferredStarts, ledger: Ledger, begin: Begin, ended: Ended, *, key: str = "k", gone: bool = False
) -> Job | QueuedTask:
    claim = ledger.claim(intent(key), SESSIONS, run_async=True)

    def start() -> Job | QueuedTask:
        return deferred.run(
            begin, claim=claim, scope="caller", model="jimeng-4.5", client_gone=lambda: gone,
            on_job=ended.on_job, on_failure=ended.on_failure,
        )  # fmt: skip

    with claim:
        return claim.submit(start)


def intent(key: str) -> Intent:
    return Intent(scope="caller", fingerprint=Intent.digest("/v1/images/generations", {"prompt": "a cat"}), key=key)


def starts(store: StateStore, clock: Clock | None = None) -> DeferredStarts:
    return DeferredStarts(store, lease_seconds=30.0, retention_seconds=3600.0, clock=clock or Clock())


def test_a_start_with_a_free_slot_answers_with_its_job_and_records_no_task(store: StateStore) -> None:
    deferred, ledger, ended = starts(store), Ledger(store, SETTINGS), Ended()
    started = run(deferred, ledger, Begin(waits=False, outcome=job("h1")), ended)
    assert isinstance(started, Job) and started.history_id == "h1"
    assert json.loads(store.get(f"idem:caller:{Intent.digest('k')}") or "{}")["state"] == SUBMITTED
    assert not ended.jobs and not ended.failures  # the request answers for it


def test_a_refusal_before_any_wait_is_the_requests_own_error(store: StateStore) -> None:
    deferred, ledger, ended = starts(store), Ledger(store, SETTINGS), Ended()
    with pytest.raises(InsufficientCreditsError):
        run(deferred, ledger, Begin(waits=False, outcome=InsufficientCreditsError("short", ret="1006")), ended)
    assert store.get(f"idem:caller:{Intent.digest('k')}") is None  # released: a later try may run


def test_a_start_that_waits_answers_at_once_with_a_task_then_records_its_job(store: StateStore) -> None:
    clock = Clock()
    deferred, ledger, ended = starts(store, clock), Ledger(store, SETTINGS), Ended()
    begin = Begin(waits=True, outcome=job("h7", parts=2))
    task = run(deferred, ledger, begin, ended, gone=True)  # the client leaves after its 202
    assert isinstance(task, QueuedTask) and is_task_id(task.id) and task.ahead == 3
    recorded = deferred.get(task.id)
    assert recorded is not None and recorded.state == QUEUED and recorded.scope == "caller"
    claim = json.loads(store.get(f"idem:caller:{Intent.digest('k')}") or "{}")
    assert claim["state"] == PENDING and claim["task"] == task.id

    repeat = Ledger(store, SETTINGS).claim(intent("k"), SESSIONS, run_async=True)
    assert repeat.queued == task.id and repeat.job is None  # an async repeat gets the same task

    begin.release.set()
    assert ended.done.wait(5)
    assert begin.gone_checks == [False]  # the client left after its 202: the start goes on
    ((seen, started),) = ended.jobs
    assert seen.id == task.id and started.history_ids == ("h7-0", "h7-1")
    done = deferred.get(task.id)
    assert done is not None and done.state == SUBMITTED and done.history_ids == ("h7-0", "h7-1")
    assert json.loads(store.get(f"idem:caller:{Intent.digest('k')}") or "{}")["state"] == SUBMITTED
    resumed = Ledger(store, SETTINGS).claim(intent("k"), SESSIONS, run_async=True)
    assert resumed.job is not None and resumed.job.history_ids == ("h7-0", "h7-1")


def test_a_start_that_fails_after_its_202_is_recorded_failed_and_releases_its_claim(store: StateStore) -> None:
    deferred, ledger, ended = starts(store), Ledger(store, SETTINGS), Ended()
    begin = Begin(waits=True, outcome=GenerationTimeoutError("stayed at the cap"))
    task = run(deferred, ledger, begin, ended)
    assert isinstance(task, QueuedTask)
    begin.release.set()
    assert ended.done.wait(5) and not ended.jobs
    ((seen, error),) = ended.failures
    assert seen.id == task.id and isinstance(error, GenerationTimeoutError)
    failed = deferred.get(task.id)
    assert failed is not None and failed.state == FAILED
    assert isinstance(deferred.failure(failed), GenerationTimeoutError)
    assert store.get(f"idem:caller:{Intent.digest('k')}") is None  # nothing was submitted: a new try may run
    assert deferred.drain(1.0)


def test_a_heartbeat_never_writes_queued_over_a_task_that_concluded(store: StateStore) -> None:
    deferred, ledger, ended = starts(store), Ledger(store, SETTINGS), Ended()
    begin = Begin(waits=True, outcome=job("h4"))
    task = run(deferred, ledger, begin, ended)
    assert isinstance(task, QueuedTask)
    stale = deferred._waiting[task.id]  # what a heartbeat round listed a moment before the task concluded
    begin.release.set()
    assert ended.done.wait(5)
    deferred._renew_round([stale])  # the round goes on with its old list
    recorded = deferred.get(task.id)
    assert recorded is not None and recorded.state == SUBMITTED


def test_a_queued_task_whose_worker_stopped_renewing_reads_as_failed_with_nothing_charged() -> None:
    task = QueuedTask(id="task_x", scope="c", model="m", created=0, state=QUEUED, beat=1000.0)
    assert task.failure(1029.0, 30.0) is None
    stale = task.failure(1031.0, 30.0)
    assert isinstance(stale, ServiceRestartingError) and "nothing was submitted" in stale.message


def test_drain_waits_for_a_task_on_its_way_and_gives_up_at_its_timeout(store: StateStore) -> None:
    deferred, ledger, ended = starts(store), Ledger(store, SETTINGS), Ended()
    begin = Begin(waits=True, outcome=job("h9"))
    task = run(deferred, ledger, begin, ended)
    assert isinstance(task, QueuedTask)
    assert deferred.drain(0.05) is False
    begin.release.set()
    assert deferred.drain(5.0) is True
    recorded = deferred.get(task.id)  # recorded, its claim settled, before the worker may go
    assert recorded is not None and recorded.state == SUBMITTED
    assert json.loads(store.get(f"idem:caller:{Intent.digest('k')}") or "{}")["state"] == SUBMITTED


def snap(history_id: str, phase: Phase, *, urls: tuple[str, ...] = (), error: DomainError | None = None) -> Snapshot:
    return Snapshot(history_id=history_id, phase=phase, status=0, finished=len(urls), total=2, image_urls=urls,
                    error=error)  # fmt: skip


def test_a_requests_parts_read_as_one_task() -> None:
    assert combined([snap("a", Phase.QUEUED), snap("b", Phase.QUEUED)]).phase is Phase.QUEUED
    assert combined([snap("a", Phase.SUCCEEDED, urls=("u1",)), snap("b", Phase.QUEUED)]).phase is Phase.RUNNING
    both = combined([snap("a", Phase.SUCCEEDED, urls=("u1", "u2")), snap("b", Phase.FAILED, error=NotFoundError("x"))])
    assert both.phase is Phase.SUCCEEDED and both.image_urls == ("u1", "u2") and both.error is None
    assert both.history_id == "a" and (both.finished, both.total) == (2, 4)
    failed = combined([snap("a", Phase.FAILED, error=InsufficientCreditsError("no")), snap("b", Phase.FAILED)])
    assert failed.phase is Phase.FAILED and isinstance(failed.error, InsufficientCreditsError)


def test_a_task_of_the_service_is_read_from_the_store_for_its_caller_only(store: StateStore) -> None:
    deferred = starts(store)
    looked: list[str] = []

    def lookup(sessions: list[str], history_id: str) -> Snapshot:
        looked.append(history_id)
        return snap(history_id, Phase.SUCCEEDED, urls=(f"u-{history_id}",))

    tasks = Tasks(lookup, deferred)
    queued = QueuedTask(id="task_q", scope="caller", model="m", created=1, beat=deferred._clock(), ahead=4)
    deferred._write(queued)
    view = tasks.view(SESSIONS, "task_q", scope="caller")
    assert view.snapshot.phase is Phase.QUEUED and view.ahead == 4 and not looked
    with pytest.raises(NotFoundError):
        tasks.view(SESSIONS, "task_q", scope="someone-else")
    with pytest.raises(NotFoundError):
        tasks.view(SESSIONS, "task_unknown", scope="caller")
    deferred._write(QueuedTask(id="task_q", scope="caller", model="m", created=1, state=SUBMITTED,
                               job=job("h5", parts=2).to_record()))  # fmt: skip
    done = tasks.view(SESSIONS, "task_q", scope=None)
    assert done.id == "task_q" and done.history_ids == ("h5-0", "h5-1") and looked == ["h5-0", "h5-1"]
    assert done.snapshot.image_urls == ("u-h5-0", "u-h5-1") and done.terminal
    plain = tasks.view(SESSIONS, "12345", scope="caller")  # a history id: asked upstream as before
    assert plain.id == "12345" and plain.history_ids == ("12345",)


class FailingWrites:
    """A store whose writes of task records fail (a Redis that went away), everything else working."""

    def __init__(self, inner: StateStore) -> None:
        self.inner = inner

    def put(self, key: str, value: str, ttl: float) -> None:
        if key.startswith("task:"):
            raise StoreUnavailableError("connection refused")
        self.inner.put(key, value, ttl)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_without_a_task_record_the_request_waits_for_its_submit_instead_of_losing_it(store: StateStore) -> None:
    deferred = DeferredStarts(FailingWrites(store), lease_seconds=30.0, retention_seconds=3600.0)  # type: ignore[arg-type]
    ledger, ended = Ledger(store, SETTINGS), Ended()
    begin = Begin(waits=True, outcome=job("h3"))
    threading.Timer(0.2, begin.release.set).start()
    started = run(deferred, ledger, begin, ended)
    assert isinstance(started, Job) and started.history_id == "h3"  # answered by the request, as before
    assert not ended.jobs and not ended.failures
