"""What ``GET /v1/tasks/{id}`` and the webhooks tell about a task: a generation Jimeng knows (by history id or
submit id, asked upstream: stateless), or a task of the service's own (``task_<hex>``: an async request that
waited for a slot, ``app/domain/deferred.py``), read from the shared store and, once submitted, from its
generations upstream."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.domain.deferred import QUEUED, DeferredStarts, is_task_id
from app.domain.errors import NotFoundError
from app.domain.models import Phase, Snapshot

Lookup = Callable[[list[str], str], Snapshot]  # GenerationService.lookup: NotFoundError when no session knows it


@dataclass(frozen=True)
class TaskView:
    id: str  # what the client asked for (a history id asked by its submit id shows as the history id)
    snapshot: Snapshot  # the state: one generation's, or the parts' of a request together
    history_ids: tuple[str, ...] = ()  # every generation of the task (none before the submit)
    ahead: int | None = None  # waiting for a free slot: requests ahead of it in the service's queue

    @property
    def terminal(self) -> bool:
        return self.snapshot.phase.terminal


class Tasks:
    def __init__(self, lookup: Lookup, deferred: DeferredStarts | None) -> None:
        self._lookup = lookup
        self._deferred = deferred

    def view(self, sessions: list[str], task_id: str, *, scope: str | None) -> TaskView:
        """The task ``task_id`` as ``sessions`` see it; a service task only for the caller ``scope`` that
        started it (None: any, for the webhooks that the starter registered). NotFoundError when unknown."""
        if not is_task_id(task_id):
            snapshot = self._lookup(sessions, task_id)
            return TaskView(snapshot.history_id, snapshot, (snapshot.history_id,))
        task = self._deferred.get(task_id) if self._deferred is not None else None
        if task is None or (scope is not None and task.scope != scope):
            raise NotFoundError(f"No task {task_id!r}: unknown, expired, or another caller's")
        assert self._deferred is not None
        failure = self._deferred.failure(task)
        if failure is not None:
            return TaskView(task_id, Snapshot(history_id="", phase=Phase.FAILED, status=0, error=failure))
        if task.state == QUEUED:
            return TaskView(task_id, Snapshot(history_id="", phase=Phase.QUEUED, status=0), ahead=task.ahead or 0)
        parts = [self._part(sessions, history_id) for history_id in task.history_ids]
        return TaskView(task_id, combined(parts), task.history_ids)

    def _part(self, sessions: list[str], history_id: str) -> Snapshot:
        try:
            return self._lookup(sessions, history_id)
        except NotFoundError as err:  # deleted from the account since: that part is gone
            return Snapshot(history_id=history_id, phase=Phase.FAILED, status=0, error=err)


def combined(parts: Sequence[Snapshot]) -> Snapshot:
    """One request's generations as one task: running while any runs (queued while all wait), then succeeded
    with every image that was made, or failed with the first part's error when none made any."""
    first = parts[0]
    if len(parts) == 1:
        return first
    waiting = [p for p in parts if not p.phase.terminal]
    made = [p for p in parts if p.phase is Phase.SUCCEEDED]
    if waiting:
        busy = len(waiting) < len(parts) or any(p.phase is Phase.RUNNING for p in waiting)
        phase = Phase.RUNNING if busy else Phase.QUEUED
    else:
        phase = Phase.SUCCEEDED if made else Phase.FAILED
    lead = waiting[0] if waiting else first
    return Snapshot(
        history_id=first.history_id, phase=phase, status=lead.status,
        finished=sum(p.finished for p in parts), total=sum(p.total for p in parts),
        image_urls=tuple(url for p in made for url in p.image_urls), video_url=made[0].video_url if made else None,
        created_time=lead.created_time, queue_position=lead.queue_position, queue_length=lead.queue_length,
        forecast_seconds=lead.forecast_seconds,
        error=None if made or waiting else next((p.error for p in parts if p.error is not None), None),
    )  # fmt: skip
