"""How every generating request starts its generation, and how an async one answers.

One way for all of them: claim the intent (Idempotency-Key, SDK retries: ``app/domain/ledger.py``), prepare
(check, fetch inputs) only when the intent has no job yet, then submit. An async request under the concurrency
caps that has to wait for a slot answers 202 at once with a task of the service's own and is submitted when a
slot frees (``app/domain/deferred.py``); its ``callback_url`` is in the outbox before that 202, like a submitted
job's.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import Response, current_app, jsonify

from app.api import callbacks, context
from app.domain.deferred import DeferredStarts, QueuedTask
from app.domain.errors import DomainError, NotFoundError
from app.domain.jobs import Job, Prepared
from app.domain.ledger import Intent
from app.domain.openai_shapes import accepted_task, queued_task

# What a request prepares before its submit: the checked request with its inputs, and the sessions it may use.
Prepare = Callable[[], tuple[Prepared, list[str]]]


def deferred_starts() -> DeferredStarts | None:
    """The deferred starts, when the caps are on (without them no request waits for a slot)."""
    return current_app.extensions.get("deferred")


def start(
    intent: Intent, prepare: Prepare, *, run_async: bool = False, callback: str | None = None
) -> Job | QueuedTask:
    """The intent's job (resumed, or prepared and submitted now), or, for an async request that waits for a
    slot, its queued task (an async repeat of such a request gets the same task)."""
    service, sessions, gone = context.service(), context.sessions(), context.client_gone()
    deferred = deferred_starts() if run_async else None
    with context.ledger().claim(intent, sessions, client_gone=gone, run_async=deferred is not None) as claim:
        if claim.queued is not None and deferred is not None:
            task = deferred.get(claim.queued)
            if task is None:
                raise NotFoundError(f"Task {claim.queued} of an earlier request with this intent has expired")
            return task
        if claim.job is not None:
            return claim.job
        with claim.releasing_on_error():
            prepared, usable = prepare()
        if deferred is None:
            return claim.submit(lambda: service.start(usable, prepared, client_gone=gone, caller=intent.scope))
        on_job, on_failure = _afterwards(callback, usable)

        def begin(on_wait: Callable[[int], None], still_wanted: Callable[[], bool]) -> Job:
            return service.start(usable, prepared, client_gone=still_wanted, caller=intent.scope, on_wait=on_wait)

        model = prepared.plan.model_id

        def run() -> Job | QueuedTask:
            return deferred.run(
                begin, claim=claim, scope=intent.scope, model=model, client_gone=gone, on_job=on_job,
                on_failure=on_failure,
            )  # fmt: skip

        return claim.submit(run)


@dataclass(eq=False)
class WaitingStart:
    """A streamed request's start that waits for a slot: the stream begins at once and tells the wait (the
    requests ahead) while the start goes on in its own thread, which settles the claim itself."""

    ahead: int
    notices: queue.Queue[int | None]  # requests ahead whenever that changes; None when the start ended
    outcome: list[Job | BaseException]

    def waits(self, keepalive: float) -> Iterator[int | None]:
        """The requests ahead as they change (None: nothing new for ``keepalive`` seconds), until it ended."""
        yield self.ahead
        while True:
            try:
                ahead = self.notices.get(timeout=keepalive)
            except queue.Empty:
                yield None
                continue
            if ahead is None:
                return
            yield ahead

    def result(self) -> Job:
        """The job Jimeng accepted, or the error that ended the start (nothing submitted)."""
        if isinstance(self.outcome[0], BaseException):
            raise self.outcome[0]
        return self.outcome[0]


def start_streaming(intent: Intent, prepare: Prepare) -> Job | WaitingStart:
    """A streamed request's job, as ``start``; under the caps, a start that has to wait for a slot is handed to
    the stream (``WaitingStart``), so its headers and the "waiting for a free slot" comments go out at once.
    Everything refused before it waits is a plain HTTP error, as without the caps. The submit runs in a thread
    of its own either way (without the caps it never waits: the request gets its job or its error)."""
    service, sessions, gone = context.service(), context.sessions(), context.client_gone()
    claim = context.ledger().claim(intent, sessions, client_gone=gone)
    if claim.job is not None:
        return claim.job
    with claim.releasing_on_error():
        prepared, usable = prepare()
    notices: queue.Queue[int | None] = queue.Queue()
    outcome: list[Job | BaseException] = []

    def run() -> None:  # claim.submit records the job, or releases the claim when nothing was submitted
        try:
            outcome.append(
                claim.submit(
                    lambda: service.start(usable, prepared, client_gone=gone, caller=intent.scope, on_wait=notices.put)
                )
            )
        except BaseException as err:  # handed to the request or its stream, which reports it
            outcome.append(err)
        finally:
            notices.put(None)

    threading.Thread(target=run, name="stream-start", daemon=True).start()
    first = notices.get()
    if first is None:
        return WaitingStart(0, notices, outcome).result()
    return WaitingStart(first, notices, outcome)


def _afterwards(
    callback: str | None, sessions: list[str]
) -> tuple[Callable[[QueuedTask, Job], None], Callable[[QueuedTask, DomainError], None]]:
    """What a queued task's thread does once its start ended (outside any request: everything is bound now):
    a submitted job is watched until it ends (its slots freed, its callback hurried), a failed start's
    callback is hurried."""
    service = context.service()
    hurry = callbacks.task_hurry(callback) if callback else None

    def on_job(task: QueuedTask, job: Job) -> None:
        service.detach(job, (lambda _history_id: hurry(task.id)) if hurry else None)

    def on_failure(task: QueuedTask, _error: DomainError) -> None:
        if hurry is not None:
            hurry(task.id)

    return on_job, on_failure


def accepted(started: Job | QueuedTask, callback: str | None) -> tuple[Response, int]:
    """The 202 of an async request: the generation(s) Jimeng accepted, or the task waiting for a slot. A
    ``callback_url`` is in the outbox before it (``Callback-Status`` says whether the store took it)."""
    if isinstance(started, QueuedTask):
        body = jsonify(queued_task(started.id, started.created, started.model, started.ahead))
        if callback is not None:
            body.headers.update(callbacks.register_task(callback, started.id, context.sessions()))
        return body, 202
    deliveries = callbacks.register(callback, started) if callback else None
    on_end = callbacks.hurry(deliveries) if deliveries else None
    context.service().detach(started, on_end)  # nobody follows it here: its slots are freed when it ends
    answer = jsonify(accepted_task(started.history_ids, started.created, started.model))
    if deliveries is not None:
        answer.headers.update(callbacks.status(started, deliveries))
    return answer, 202
