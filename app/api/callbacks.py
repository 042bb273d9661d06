"""A generating request's ``callback_url`` (webhooks, ``app/domain/webhooks.py``): checked before anything is
submitted, registered once Jimeng accepted the job, before the 202."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app

from app.domain.errors import InvalidRequestError
from app.domain.jobs import Job
from app.domain.webhooks import Webhooks, delivery_id

CALLBACK_HEADER = "Callback-Status"


def requested(body: Any, *, stream: bool, run_async: bool) -> str | None:
    """The request's callback URL (None without one); 400 when webhooks are off, the request does not run in
    the async mode, or the URL may not be called (scheme, a private address: the image URLs' guard)."""
    url = body.get("callback_url") if isinstance(body, dict) else None
    if url is None:
        return None
    hooks: Webhooks | None = current_app.extensions.get("webhooks")
    if hooks is None:
        raise InvalidRequestError(
            "callback_url needs webhooks, which are off on this server (the operator sets WEBHOOK_SECRET)",
            param="callback_url",
        )
    if stream or not run_async:
        raise InvalidRequestError(
            'callback_url needs the async mode ("async": true or Prefer: respond-async), without stream',
            param="callback_url",
        )
    return hooks.check(url)


def register(url: str, job: Job) -> dict[str, str]:
    """The job's deliveries in the outbox: history id -> delivery id (a part the store failed to write is
    missing: logged, and the 202 says so in ``CALLBACK_HEADER``)."""
    hooks: Webhooks = current_app.extensions["webhooks"]
    return hooks.register(url, job)


def register_task(url: str, task_id: str, sessions: list[str]) -> dict[str, str]:
    """A queued task's delivery in the outbox: the 202's ``CALLBACK_HEADER``."""
    hooks: Webhooks = current_app.extensions["webhooks"]
    return {CALLBACK_HEADER: "registered" if hooks.register_task(url, task_id, sessions) else "not-registered"}


def task_hurry(url: str) -> Callable[[str], None]:
    """Called with a queued task's id when it ended before a submit, or when one of its generations ended
    (outside any request: the outbox is bound now): its delivery is due now."""
    hooks: Webhooks = current_app.extensions["webhooks"]
    return lambda task_id: hooks.hurry(delivery_id(task_id, url))


def status(job: Job, deliveries: dict[str, str]) -> dict[str, str]:
    """The 202's ``Callback-Status`` header: ``registered``, or ``not-registered`` when the state store failed
    to write a part's delivery (the task is accepted all the same; its callback will not be sent)."""
    whole = all(history_id in deliveries for history_id in job.history_ids)
    return {CALLBACK_HEADER: "registered" if whole else "not-registered"}


def hurry(deliveries: dict[str, str]) -> Any:
    """``on_end`` of ``GenerationService.detach``: a part ended here, its delivery (if it has one) is due now."""
    hooks: Webhooks = current_app.extensions["webhooks"]

    def on_end(history_id: str) -> None:
        if history_id in deliveries:
            hooks.hurry(deliveries[history_id])

    return on_end
