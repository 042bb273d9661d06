"""Server-sent events for OpenAI's image streaming (``"stream": true`` on the image endpoints).

The view checks, claims and submits before it returns this response, so everything refused before Jimeng
accepted the job (bad input, 401, 402, 429...) is a plain HTTP error. Under the concurrency caps, a request
that has to wait for a free slot starts its stream at once instead, with ``: waiting for a free slot (n
ahead)`` comments (a refusal after that wait is an ``error`` event). The stream then sends, in this order:

- ``: generation <id> submitted ...``, a comment naming the history id(s) at once;
- each image the moment Jimeng finished it (parts of a split job in order), downloaded and sent base64 as
  ``event: image_generation.completed`` (``image_edit.completed`` for compositions and edits) with the fields
  the OpenAI SDK's event types have, plus ``history_id``, ``url`` and ``index``;
- progress (queue place, forecast) as comments, ``: keep-alive`` after ``SSE_KEEPALIVE_SECONDS`` of quiet:
  the SDKs skip comments, while an unknown event type would reach their users as a malformed image event;
- a failure as ``event: error`` with ``{"type": "error", "error": {..., "history_id"}}`` (the SDK raises it as
  ``APIError``), after the images of the parts that succeeded; then the stream ends. No ``[DONE]``: OpenAI's
  image streams end with their last event.

Jimeng makes no previews, so no ``partial_image`` events are sent, whatever ``partial_images`` asks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import Any

from flask import Response, stream_with_context

from app.api import context
from app.api.sse import KEEPALIVE, SSE_HEADERS
from app.api.starting import WaitingStart
from app.domain.follow import Finished, Gone, Idle, PartFinished, Progress
from app.domain.generation import GenerationService
from app.domain.jobs import Job
from app.domain.openai_shapes import completed_image_event, progress_comment
from app.errors import stream_error_body
from app.imaging import image_facts

MAX_PARALLEL_DOWNLOADS = 4  # images that arrived together are fetched side by side, then sent in order


def named_event(name: str, payload: dict[str, Any]) -> str:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f"event: {name}\ndata: {data}\n\n"


def comment(text: str) -> str:
    return "".join(f": {line}\n" for line in text.splitlines() or [""]) + "\n"


def stream_images(service: GenerationService, started: Job | WaitingStart, *, edit: bool) -> Response:
    """The SSE response following ``started`` for an image request: a job Jimeng accepted, or a start that
    waits for a free slot (told as comments until it was submitted)."""
    keepalive, gone, rid = context.settings().sse_keepalive_seconds, context.client_gone(), context.request_id()

    def events() -> Iterator[str]:
        if isinstance(started, Job):
            job = started
        else:
            for ahead in started.waits(keepalive):
                yield KEEPALIVE if ahead is None else comment(f"waiting for a free slot ({ahead} ahead)")
            try:
                job = started.result()
            except Exception as err:  # nothing was submitted: the error has no history id
                body = stream_error_body(err, request_id=rid, history_id=None)
                yield named_event("error", {"type": "error", **body})
                return
        yield from _ImageStream(service, job, edit=edit, keepalive=keepalive, gone=gone, rid=rid).events()

    return Response(stream_with_context(events()), mimetype="text/event-stream", headers=SSE_HEADERS)


class _ImageStream:
    """Sends each part's images in order, each once, as soon as a poll shows it (or the part's result does)."""

    def __init__(
        self, service: GenerationService, job: Job, *, edit: bool, keepalive: float, gone: Callable[[], bool], rid: str
    ) -> None:
        self.service, self.job, self.edit = service, job, edit
        self.keepalive, self.gone, self.rid = keepalive, gone, rid
        self.sent = [0] * len(job.parts)  # images sent per part: Jimeng's item list fills in order
        self.index = 0  # images sent in all

    def events(self) -> Iterator[str]:
        ids = self.job.history_ids
        yield comment(
            f"generation {', '.join(ids)} submitted to Jimeng ({sum(p.count for p in self.job.parts)} image(s) "
            f"asked for; GET /v1/tasks/{ids[0]} finds it later)"
        )
        try:
            yield from self._follow()
        except Exception as err:
            yield self._error(err, self.job.history_id)

    def _follow(self) -> Iterator[str]:
        last_line = ""
        events = self.service.follow(self.job, request_id=self.rid, client_gone=self.gone, idle_seconds=self.keepalive)
        with closing(events):  # a client gone at a write closes this generator: the polling stops too
            for event in events:
                if isinstance(event, Idle):
                    yield KEEPALIVE
                elif isinstance(event, Progress):
                    line = progress_comment(event.snapshot, time.time())
                    if line != last_line:
                        last_line = line
                        yield comment(line)
                    yield from self._images(event.part, event.snapshot.image_urls)
                elif isinstance(event, PartFinished):
                    yield from self._images(event.part, event.result.urls)
                elif isinstance(event, Finished):
                    for failure in event.result.failures:  # parts that failed beside the ones sent above
                        yield self._error(failure, failure.history_id)
                    return
                elif isinstance(event, Gone):
                    return

    def _images(self, part_index: int, urls: tuple[str, ...]) -> Iterator[str]:
        """The part's images not sent yet among ``urls`` (what the record lists now), downloaded and sent."""
        part = self.job.parts[part_index]
        new = urls[self.sent[part_index] : part.count]
        if not new:
            return
        with ThreadPoolExecutor(max_workers=min(len(new), MAX_PARALLEL_DOWNLOADS)) as pool:
            blobs = pool.map(lambda url: self.service.download_image(part.history_id, url, self.job.session_id), new)
            for url, blob in zip(new, blobs, strict=True):  # in order, each as soon as it and those before are in
                payload = completed_image_event(
                    blob, facts=image_facts(blob), url=url, history_id=part.history_id, index=self.index,
                    created_at=int(time.time()), edit=self.edit,
                )  # fmt: skip
                self.sent[part_index] += 1
                self.index += 1
                yield named_event(payload["type"], payload)

    def _error(self, err: BaseException, history_id: str | None) -> str:
        body = stream_error_body(err, request_id=self.rid, history_id=history_id)
        return named_event("error", {"type": "error", **body})
