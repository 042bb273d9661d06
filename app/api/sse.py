"""Server-sent events for chat completions: a generator response whose first byte goes out at once.

Headers are set before the body. The role chunk is sent before any upstream call; then a progress chunk
whenever the generation's state changes, a ``: keep-alive`` comment when nothing was sent for
``SSE_KEEPALIVE_SECONDS``, the result, a ``finish_reason: "stop"`` chunk and ``data: [DONE]``. An error after
the stream began is a ``data: {"error": ...}`` event (with the history id) before ``[DONE]``.

The generation is followed by ``GenerationService.follow`` (the same loop a waiting request uses): a client
that went away is noticed within its check interval (a non-blocking peek at its socket) or at the next
write; either way the generator ends and its poll is cancelled.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

from flask import Response, stream_with_context
from loguru import logger

from app.api import context
from app.domain.chat import ChunkHeader, markdown, progress_line
from app.domain.follow import Finished, Gone, Idle, Progress
from app.domain.generation import GenerationService
from app.domain.jobs import Job
from app.errors import describe_exception, error_body

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def event(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n"


DONE = "data: [DONE]\n\n"
KEEPALIVE = ": keep-alive\n\n"


def stream_chat(
    service: GenerationService, start: Callable[[], Job], header: ChunkHeader, *, on_close: Callable[[], None]
) -> Response:
    """The SSE response of a streamed chat completion; ``start`` submits (called inside the stream);
    ``on_close`` runs when the stream ends, however it ends (a claim nobody submitted is released)."""
    stream = _ChatStream(
        service, start, header, context.settings().sse_keepalive_seconds, context.client_gone(), context.request_id()
    )
    response = Response(stream_with_context(stream.events()), mimetype="text/event-stream", headers=SSE_HEADERS)
    response.call_on_close(on_close)  # also when the body was never iterated (the client left at once)
    return response


class _ChatStream:
    """Formats what ``GenerationService.follow`` yields as chat completion chunks."""

    def __init__(
        self,
        service: GenerationService,
        start: Callable[[], Job],
        header: ChunkHeader,
        keepalive: float,
        gone: Callable[[], bool],
        rid: str,
    ) -> None:
        self.service, self.start, self.header = service, start, header
        self.keepalive, self.gone, self.rid = keepalive, gone, rid
        self.history_id: str | None = None

    def events(self) -> Iterator[str]:
        yield self._send({"role": "assistant", "content": ""})
        try:
            job = self.start()
            self.history_id = job.history_id
            yield self._send({"content": f"Submitted to Jimeng (history id {job.history_id}).\n"})
            yield from self._follow(job)
        except Exception as err:
            yield self._error(err)
        yield DONE

    def _follow(self, job: Job) -> Iterator[str]:
        last_line = ""
        events = self.service.follow(job, request_id=self.rid, client_gone=self.gone, idle_seconds=self.keepalive)
        with closing(events):  # a client gone at a write closes this generator: the polling stops too
            for event in events:
                if isinstance(event, Idle):
                    yield KEEPALIVE
                elif isinstance(event, Progress):
                    line = progress_line(job.kind, event.snapshot, time.time())
                    if line != last_line:
                        last_line = line
                        yield self._send({"content": line})
                elif isinstance(event, Finished):
                    yield self._send({"content": markdown(event.result)})
                    yield self._send({}, finish_reason="stop")
                elif isinstance(event, Gone):
                    return

    def _send(self, delta: dict[str, Any], finish_reason: str | None = None) -> str:
        return event(self.header.chunk(delta, finish_reason=finish_reason, history_id=self.history_id))

    def _error(self, err: Exception) -> str:
        described = describe_exception(err)
        if described is None:
            logger.opt(exception=err).error("stream failed [request {}]", self.rid)
            body = error_body(f"internal error (request id {self.rid})", type="server_error", code="internal_error")
        else:
            body = described[1]
        body["error"]["history_id"] = body["error"].get("history_id") or self.history_id
        return event(body)
