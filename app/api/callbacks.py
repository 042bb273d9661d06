"""A generating request's ``callback_url`` (webhooks, ``app/domain/webhooks.py``): checked before anything is
submitted, registered once Jimeng accepted the job, before the 202."""

from __future__ import annotations

from typing import Any

from flask import current_app

from app.domain.errors import InvalidRequestError
from app.domain.jobs import Job
from app.domain.webhooks import Webhooks


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
    """The job's deliveries in the outbox: history id -> delivery id."""
    hooks: Webhooks = current_app.extensions["webhooks"]
    return dict(zip(job.history_ids, hooks.register(url, job), strict=True))


def hurry(deliveries: dict[str, str]) -> Any:
    """``on_end`` of ``GenerationService.detach``: a part ended here, its delivery is due now."""
    hooks: Webhooks = current_app.extensions["webhooks"]
    return lambda history_id: hooks.hurry(deliveries[history_id])
