"""One poller per worker process owns every in-flight generation.

Each tick asks the backend once per session for all of that session's due generations (one
``get_history_by_ids`` for many ids; jobs of a polled session due within ``BATCH_AHEAD`` ride along, so the
looks of a busy session align), pushes what changed to the waiting requests, and sleeps until the next job is
due (``schedule.next_delay`` over the job's ``schedule.Window``). Under gevent the loop and its calls are
greenlets; without it, threads.

A waiter (``Watch``) reads events from its own inbox: progress, then exactly one terminal event
(succeeded, failed, or timed out). ``Watch.cancel`` (client gone, request over) removes the job before the
next tick, so nobody polls a generation nobody waits for.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from loguru import logger

from app.domain.errors import DomainError, GenerationFailedError, JimengError, SessionExpiredError
from app.domain.models import Phase, Snapshot
from app.domain.observe import Observer, Silent
from app.domain.schedule import (
    PRIOR_START,
    JobClass,
    Learner,
    PollPolicy,
    PollTiming,
    Sample,
    Window,
    Zone,
    next_delay,
    zone,
)

BATCH_AHEAD = 1.0  # seconds: jobs of a polled session due this soon ride along in the same call
MAX_IDS_PER_CALL = 100
MAX_PARALLEL_CALLS = 32


class HistorySource(Protocol):
    def histories(self, session_id: str, history_ids: list[str]) -> dict[str, Snapshot]: ...


class PollOutcome(StrEnum):
    PROGRESS = "progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class PollEvent:
    outcome: PollOutcome
    snapshot: Snapshot | None = None
    error: DomainError | None = None

    @property
    def terminal(self) -> bool:
        return self.outcome is not PollOutcome.PROGRESS


class Inbox:
    """One job's events, for its one reader: a list and an Event. A ``queue.Queue`` did the same with three
    Conditions and their deques, about ten times the memory, and 1,000 jobs in flight hold 1,000 of them."""

    __slots__ = ("_events", "_ready")

    def __init__(self) -> None:
        self._events: list[PollEvent] = []
        self._ready = threading.Event()

    def put(self, event: PollEvent) -> None:
        self._events.append(event)
        self._ready.set()

    def get(self, timeout: float | None = None) -> PollEvent | None:
        """The oldest event not read yet, or None once ``timeout`` seconds passed without one."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._events:
                return self._events.pop(0)
            self._ready.clear()  # a put's signal already read; a put after this line sets it again
            if self._events:
                continue
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            self._ready.wait(left)


@dataclass(eq=False)
class _Job:
    history_id: str
    poll_id: str  # the id Jimeng's poll answer is keyed by (the submit id)
    session_id: str
    job_class: JobClass
    created: float
    deadline: float
    next_poll: float
    forecast: float | None = None  # Jimeng's forecast of queue + generation, seconds from submit
    changed_at: float = 0.0
    events: Inbox = field(default_factory=Inbox)
    cancelled: bool = False
    in_flight: bool = False
    last_poll: float | None = None
    polls: int = 0
    last: Snapshot | None = None
    request_id: str = "-"
    resumed: bool = False  # submitted by an earlier request: its first poll cannot time it
    window: Window | None = None  # cached until its class learns something (``learned``) or its forecast changes
    learned: int = -1
    floor: float = 0.0  # seconds from submit before which it cannot be done (seen still queued)
    zone: Zone = Zone.BEFORE  # where its last look placed it

    @property
    def kind(self) -> str:
        return self.job_class.kind


class Watch:
    """A request's handle on one generation: iterate its events, cancel when done."""

    def __init__(self, job: _Job, poller: Poller) -> None:
        self._job = job
        self._poller = poller

    @property
    def history_id(self) -> str:
        return self._job.history_id

    def next_event(self, timeout: float | None = None) -> PollEvent | None:
        """The next event, or None when ``timeout`` passed without one."""
        return self._job.events.get(timeout=timeout)

    def cancel(self) -> None:
        self._poller.cancel(self._job)


class Poller:
    def __init__(
        self,
        source: HistorySource,
        timing: PollTiming,
        clock: Callable[[], float] = time.monotonic,
        learner: Learner | None = None,
        autostart: bool = True,
        observer: Observer | None = None,
    ) -> None:
        self._observer: Observer = observer or Silent()  # metrics: generations polled, polls per generation
        self._source = source
        self._timing = timing
        self._clock = clock
        self.learner = learner or Learner()
        self._jobs: dict[int, _Job] = {}
        self._in_core: defaultdict[str, int] = defaultdict(int)  # per session: its jobs in their window's core
        self._batch_ahead = 0.0 if timing.policy is PollPolicy.EVERY_SECOND else BATCH_AHEAD  # the reference's
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._stopped = False
        self._autostart = autostart

    # -- the waiting side -------------------------------------------------------------------------------

    def watch(
        self,
        session_id: str,
        history_id: str,
        *,
        poll_id: str,
        kind: str,
        model: str,
        timeout: float,
        tier: str = "",
        count: int = 0,
        forecast: float | None = None,
        request_id: str = "-",
        age: float | None = None,
    ) -> Watch:
        """Follow one generation; ``poll_id`` keys it in poll answers; ``kind``, ``model``, ``tier`` and ``count``
        its class (what it is timed against); ``forecast`` is Jimeng's estimate of its duration in seconds.
        ``age``: the generation was submitted that many seconds ago by an earlier request (a repeat resumes
        it): it is looked at at once, since it may well be done, and its schedule runs from its submit."""
        now = self._clock()
        created = now - age if age is not None else now
        job_class = JobClass(kind, model, tier, count)
        job = _Job(history_id, poll_id, session_id, job_class, created, now + timeout, now,
                   forecast if forecast is not None and forecast > 0 else None, now, request_id=request_id,
                   resumed=age is not None)  # fmt: skip
        with self._wake:
            if not job.resumed:
                self._reschedule(job, now, failed=False)
            self._jobs[id(job)] = job
            self._observer.in_flight(len(self._jobs))
            if self._autostart:
                self._ensure_running()
            self._wake.notify()
        return Watch(job, self)

    def cancel(self, job: _Job) -> None:
        with self._wake:
            job.cancelled = True
            self._drop(job)
            self._wake.notify()

    @property
    def in_flight(self) -> int:
        return len(self._jobs)

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def poll_due(self) -> int:
        """Poll every due batch now, in the calling thread (tests drive the poller with a fake clock)."""
        with self._wake:
            batches = self._due_batches()
        for session_id, jobs in batches:
            self._poll_batch(session_id, jobs)
        return len(batches)

    def next_due(self) -> float | None:
        with self._wake:
            pending = [job.next_poll for job in self._jobs.values()]
        return min(pending) if pending else None

    # -- the polling side -------------------------------------------------------------------------------

    def _ensure_running(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._executor = ThreadPoolExecutor(MAX_PARALLEL_CALLS, thread_name_prefix="poll")
            self._thread = threading.Thread(target=self._run, name="poller", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._wake:
                batches = self._due_batches()
                while not batches and not self._stopped:
                    self._wake.wait(timeout=self._seconds_to_next())
                    batches = self._due_batches()
                if self._stopped:
                    return
            for session_id, jobs in batches:
                assert self._executor is not None
                self._executor.submit(self._poll_batch, session_id, jobs)

    def _seconds_to_next(self) -> float | None:
        pending = [job.next_poll for job in self._jobs.values() if not job.in_flight]
        return max(min(pending) - self._clock(), 0.0) if pending else None

    def _due_batches(self) -> list[tuple[str, list[_Job]]]:
        """Sessions with a due job; each with every job of it due within BATCH_AHEAD (called under the lock)."""
        now = self._clock()
        idle = [job for job in self._jobs.values() if not job.in_flight]
        due_sessions = {job.session_id for job in idle if job.next_poll <= now}
        if not due_sessions:
            return []
        grouped: defaultdict[str, list[_Job]] = defaultdict(list)
        for job in idle:
            if job.session_id in due_sessions and self._rides_along(job, now):
                grouped[job.session_id].append(job)
        batches = []
        for session_id, jobs in grouped.items():
            jobs.sort(key=lambda job: job.next_poll)
            for start in range(0, len(jobs), MAX_IDS_PER_CALL):
                chunk = jobs[start : start + MAX_IDS_PER_CALL]
                for job in chunk:
                    job.in_flight = True
                batches.append((session_id, chunk))
        return batches

    def _rides_along(self, job: _Job, now: float) -> bool:
        """Due now, or due within ``BATCH_AHEAD`` and past half of its own spacing: a busy session's looks align,
        but a job is never looked at more than twice as often as its schedule says. Without that half, a
        session with jobs in their core (a look every ``POLL_MIN_SECONDS``) took every other job along on
        every look: at 1,000 in flight, 17 looks per generation, each a record to build, send and read."""
        if job.next_poll <= now:
            return True
        since = job.last_poll if job.last_poll is not None else job.created
        return job.next_poll <= now + self._batch_ahead and now - since >= (job.next_poll - since) / 2

    def _poll_batch(self, session_id: str, jobs: list[_Job]) -> None:
        ids = [job.poll_id for job in jobs]
        try:
            snapshots: dict[str, Snapshot] | None = self._source.histories(session_id, ids)
            error: JimengError | None = None
        except JimengError as err:
            snapshots, error = None, err
        except Exception as err:  # a bug must not kill the poller: log it and treat it as a failed poll
            logger.opt(exception=err).error("poll of {} generations failed unexpectedly", len(ids))
            snapshots, error = (
                None,
                JimengError("the progress of the generation could not be read (an internal error, logged)"),
            )
        now = self._clock()
        with self._wake:
            for job in jobs:
                job.in_flight = False
                if job.cancelled:
                    continue
                self._apply(job, now, snapshots, error)
            self._wake.notify()

    def _apply(self, job: _Job, now: float, snapshots: dict[str, Snapshot] | None, error: JimengError | None) -> None:
        """Update one job from a poll's outcome (called under the lock)."""
        previous_poll, job.last_poll = job.last_poll, now
        job.polls += 1
        snapshot = snapshots.get(job.poll_id) if snapshots is not None else None
        if isinstance(error, SessionExpiredError):  # one error for the whole batch: each job gets its own copy
            return self._finish(job, PollEvent(PollOutcome.FAILED, job.last, error.for_generation(job.history_id)))
        if snapshot is not None and snapshot.phase.terminal:
            self._learn(job, previous_poll, now, snapshot)
            outcome = PollOutcome.SUCCEEDED if snapshot.phase is Phase.SUCCEEDED else PollOutcome.FAILED
            return self._finish(job, PollEvent(outcome, snapshot))
        if now >= job.deadline:
            return self._finish(job, PollEvent(PollOutcome.TIMEOUT, snapshot or job.last))
        if snapshot is not None:
            self._note(job, now, snapshot)
        if snapshot is not None and _progressed(job.last, snapshot):
            job.changed_at, job.last = now, snapshot
            job.events.put(PollEvent(PollOutcome.PROGRESS, snapshot))
        elif snapshot is not None and snapshot.must_progress and now - job.changed_at > self._timing.stall_seconds:
            stalled = GenerationFailedError(
                f"Generation {job.history_id} made no progress for {self._timing.stall_seconds:.0f}s in state "
                f"{snapshot.status}; it may still finish: GET /v1/tasks/{job.history_id}",
                history_id=job.history_id,
            )
            return self._finish(job, PollEvent(PollOutcome.FAILED, snapshot, stalled))
        self._reschedule(job, now, failed=snapshots is None)

    def _note(self, job: _Job, now: float, snapshot: Snapshot) -> None:
        """What a look tells the schedule: a forecast the submit answer lacked; a job still queued cannot be
        done before its generation ran (at least PRIOR_START of its forecast generation time)."""
        if job.forecast is None and snapshot.forecast_seconds:
            job.forecast, job.window = snapshot.forecast_seconds, None
        if snapshot.phase is Phase.QUEUED and snapshot.forecast_generate_seconds:
            job.floor = max(job.floor, now - job.created + PRIOR_START * snapshot.forecast_generate_seconds)

    def _window(self, job: _Job) -> Window:
        version = self.learner.version(job.job_class)
        if job.window is None or job.learned != version:
            job.window, job.learned = self.learner.window(job.job_class, job.forecast), version
        return job.window.not_before(job.floor)

    def _reschedule(self, job: _Job, now: float, failed: bool) -> None:
        elapsed = now - job.created
        window = self._window(job)
        where = zone(elapsed, window, self._timing)
        self._place(job, where)
        delay = next_delay(elapsed, window, self._timing, job.kind, max(self._in_core[job.session_id], 1))
        if failed:  # not sooner than error_interval, unless that would break the bound
            delay = max(delay, min(self._timing.error_interval, self._timing.tail_spacing(job.kind)))
        job.next_poll = min(now + delay, job.deadline)

    def _place(self, job: _Job, where: Zone) -> None:
        """Count the session's jobs in their core (the more there are, the denser its looks: one call serves
        them all)."""
        if (job.zone is Zone.CORE) != (where is Zone.CORE):
            self._in_core[job.session_id] += 1 if where is Zone.CORE else -1
        job.zone = where

    def _learn(self, job: _Job, previous_poll: float | None, now: float, snapshot: Snapshot) -> None:
        if job.resumed and previous_poll is None:
            return  # found finished on a resumed job's first look: when it finished is not known
        if snapshot.phase is Phase.SUCCEEDED:
            earliest = (previous_poll if previous_poll is not None else job.created) - job.created
            sample = Sample(earliest, now - job.created, job.forecast)
            self.learner.record(job.job_class, sample, missed=job.zone is Zone.BEFORE)

    def _drop(self, job: _Job) -> None:
        if self._jobs.pop(id(job), None) is not None:
            self._place(job, Zone.BEFORE)
        self._observer.in_flight(len(self._jobs))

    def _finish(self, job: _Job, event: PollEvent) -> None:
        self._drop(job)
        self._observer.polls(job.polls)
        job.events.put(event)
        logger.bind(request_id=job.request_id).debug(
            "generation {} {} after {} polls", job.history_id, event.outcome, job.polls
        )


def _progressed(before: Snapshot | None, after: Snapshot) -> bool:
    if before is None:
        return True
    seen = (before.status, before.finished, before.total, before.queue_position)
    return seen != (after.status, after.finished, after.total, after.queue_position)
