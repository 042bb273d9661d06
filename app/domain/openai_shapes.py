"""Pure builders of the OpenAI-shaped response dicts (images, videos, tasks; chat in app/domain/chat.py)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from app.domain.errors import DomainError
from app.domain.models import GenerationKind, GenerationResult, Phase, Snapshot
from app.domain.tasks import TaskView

TASK_OBJECT = "generation.task"
COMPOSITION_TYPE = "multi_image_synthesis"


def result_items(result: GenerationResult) -> list[dict[str, Any]]:
    """The ``data`` items of an image or video answer, in upstream order, none dropped."""
    if result.b64:
        items: list[dict[str, Any]] = [{"b64_json": blob} for blob in result.b64]
    else:
        items = [{"url": url} for url in result.urls]
    if result.kind is GenerationKind.VIDEO:
        for item in items:
            item["revised_prompt"] = result.prompt
    return items


def images_response(
    result: GenerationResult,
    *,
    composition: bool = False,
    describe_failure: Callable[[DomainError], dict[str, Any]] = lambda error: {"message": error.message},
) -> dict[str, Any]:
    """OpenAI's images answer; ``history_ids`` when the request took several generations, and ``errors`` (each
    an error object with its history id, as ``describe_failure`` renders it) for those that failed while others
    succeeded."""
    body: dict[str, Any] = {"created": result.created, "history_id": result.history_id, "data": result_items(result)}
    if result.kind is GenerationKind.IMAGE:
        body |= image_fields(result)
    if len(result.history_ids) > 1:
        body["history_ids"] = list(result.history_ids)
    if result.failures:
        body["errors"] = [describe_failure(failure) for failure in result.failures]
    if composition:
        body["input_images"] = result.input_images
        body["composition_type"] = COMPOSITION_TYPE
    return body


def image_fields(result: GenerationResult) -> dict[str, Any]:
    """The gpt-image fields of an images answer that Jimeng's results determine: ``output_format`` (the files'
    real format), ``size`` (the drafts' pixels) and ``background`` (Jimeng makes opaque images). ``quality``
    and ``usage`` are left out: Jimeng has no quality setting (the tier is the resolution) and counts no
    tokens."""
    fields: dict[str, Any] = {"background": "opaque"}
    if result.output_format:
        fields["output_format"] = result.output_format
    if result.size:
        fields["size"] = result.size
    return fields


def queue_fields(snapshot: Snapshot, now: float) -> dict[str, int | None]:
    """``queue_position`` (1 = next in line; only while queued), ``queue_length`` and ``eta_seconds``."""
    place, eta = snapshot.queue_place, snapshot.eta_seconds(now)
    return {
        "queue_position": place,
        "queue_length": snapshot.queue_length if place is not None else None,
        "eta_seconds": round(eta) if eta is not None else None,
    }


def accepted_task(history_ids: tuple[str, ...], created: int, model: str) -> dict[str, Any]:
    """The 202 answer of an ``"async": true`` request, right after Jimeng accepted the draft(s); each history id
    is a task of its own (``GET /v1/tasks/{id}``)."""
    body: dict[str, Any] = {
        "id": history_ids[0],
        "object": TASK_OBJECT,
        "status": Phase.QUEUED.value,
        "created": created,
        "model": model,
        "history_id": history_ids[0],
    }
    if len(history_ids) > 1:
        body["history_ids"] = list(history_ids)
    return body


def queued_task(task_id: str, created: int, model: str, ahead: int | None) -> dict[str, Any]:
    """The 202 answer of an ``"async": true`` request that waits for a free slot of the concurrency caps: a task
    of the service's own, without a history id until Jimeng accepted it (``GET /v1/tasks/{id}``)."""
    return {
        "id": task_id,
        "object": TASK_OBJECT,
        "status": Phase.QUEUED.value,
        "created": created,
        "model": model,
        "history_id": None,
        **slot_queue_fields(ahead or 0),
    }


def slot_queue_fields(ahead: int) -> dict[str, Any]:
    """A task waiting for a free slot: its place in the service's queue (1: next), no forecast yet."""
    return {"queue_position": ahead + 1, "queue_length": None, "eta_seconds": None, "waiting_for_slot": True}


def task_object(view: TaskView, error: dict[str, Any] | None = None, *, now: float) -> dict[str, Any]:
    """``GET /v1/tasks/{id}``: state, progress, Jimeng's queue and forecast while it waits or runs (the service's
    own queue while it waits for a slot), and the result items or the error."""
    snapshot = view.snapshot
    body: dict[str, Any] = {
        "id": view.id,
        "object": TASK_OBJECT,
        "status": snapshot.phase.value,
        "history_id": snapshot.history_id or None,
        "progress": {"finished": snapshot.finished, "total": snapshot.total},
    }
    if len(view.history_ids) > 1:
        body["history_ids"] = list(view.history_ids)
    if view.ahead is not None:
        body |= slot_queue_fields(view.ahead)
    elif not snapshot.phase.terminal:
        body |= queue_fields(snapshot, now)
    if snapshot.phase is Phase.SUCCEEDED:
        if snapshot.video_url:
            body["data"] = [{"url": snapshot.video_url}]
        else:
            body["data"] = [{"url": url} for url in snapshot.image_urls]
    if snapshot.phase is Phase.FAILED and error is not None:
        body["error"] = error
    return body


# -- image streams (OpenAI's image_generation.* / image_edit.* server-sent events) ------------------------------

STREAM_USAGE: dict[str, Any] = {  # Jimeng bills credits, not tokens: the SDK's required usage object, all zeros
    "input_tokens": 0,
    "input_tokens_details": {"image_tokens": 0, "text_tokens": 0},
    "output_tokens": 0,
    "total_tokens": 0,
}


def stream_event_type(*, edit: bool, stage: str = "completed") -> str:
    """``image_generation.completed`` (text to image), ``image_edit.completed`` (compositions and edits)."""
    return f"{'image_edit' if edit else 'image_generation'}.{stage}"


def completed_image_event(
    data: bytes, *, facts: tuple[str, str], url: str, history_id: str, index: int, created_at: int, edit: bool
) -> dict[str, Any]:
    """One finished image as OpenAI's ``*.completed`` stream event: every field the SDK's event type has, plus
    ``history_id`` (the generation it belongs to), ``url`` (Jimeng's file) and ``index`` (its place among the
    request's images, as in a non-streamed answer's ``data``)."""
    output_format, size = facts  # (format, WIDTHxHEIGHT) read from the image's own bytes
    return {
        "type": stream_event_type(edit=edit),
        "b64_json": base64.b64encode(data).decode("ascii"),
        "created_at": created_at,
        "size": size,
        "quality": "auto",
        "background": "opaque",
        "output_format": output_format,
        "usage": STREAM_USAGE,
        "history_id": history_id,
        "url": url,
        "index": index,
    }


def progress_comment(snapshot: Snapshot, now: float) -> str:
    """A generation's state for an SSE comment: Jimeng's queue place and forecast when it gave them."""
    eta = snapshot.eta_seconds(now)
    about = f", ~{round(eta)} s" if eta is not None and round(eta) > 0 else ""
    if snapshot.phase is Phase.QUEUED:
        place = snapshot.queue_place
        where = f", position {place}" if place is not None else ""
        return f"generation {snapshot.history_id}: queued{where}{about}"
    if snapshot.total and snapshot.finished:
        return f"generation {snapshot.history_id}: {snapshot.finished} of {snapshot.total} images ready{about}"
    return f"generation {snapshot.history_id}: generating{about}"
