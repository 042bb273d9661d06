"""Server-sent events for chat completions: a generator response whose first byte goes out at once.

Headers are set before the body. The role chunk is sent before any upstream call; then a progress chunk
whenever the generation's state changes, a ``: keep-alive`` comment when nothing was sent for
``SSE_KEEPALIVE_SECONDS``, the result, a ``finish_reason: "stop"`` chunk and ``data: [DONE]``. An error after
the stream began is a ``data: {"error": ...}`` event (with the history id) before ``[DONE]``.

A client that went away is noticed within ``DISCONNECT_CHECK_SECONDS`` (a non-blocking peek at its socket)
or at the next write; either way the generator ends and its poll is cancelled.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, stream_with_context
from loguru import logger

from app.api import context
from app.domain.chat import ChunkHeader, markdown, progress_line
from app.domain.generation import Job
from app.domain.poller import Watch
from app.errors import describe_exception, error_body

DISCONNECT_CHECK_SECONDS = 0.5
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def event(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n"


DONE = "data: [DONE]\n\n"
KEEPALIVE = ": keep-alive\n\n"


def stream_chat(start: Callable[[], Job], header: ChunkHeader) -> Response:
    """The SSE response of a streamed chat completion; ``start`` submits (called inside the stream)."""
    keepalive = context.settings().sse_keepalive_seconds
    stream = _ChatStream(start, header, keepalive, context.client_gone(), context.request_id())
    return Response(stream_with_context(stream.events()), mimetype="text/event-stream", headers=SSE_HEADERS)


class _ChatStream:
    def __init__(
        self, start: Callable[[], Job], header: ChunkHeader, keepalive: float, gone: Callable[[], bool], rid: str
    ) -> None:
        self.start, self.header, self.keepalive, self.gone, self.rid = start, header, keepalive, gone, rid
        self.history_id: str | None = None
        self.watch: Watch | None = None
        self.last_sent = time.monotonic()

    def events(self) -> Iterator[str]:
        yield self._send({"role": "assistant", "content": ""})
        try:
            job = self.start()
            self.history_id = job.history_id
            yield self._send({"content": f"Submitted to Jimeng (history id {job.history_id}).\n"})
            yield from self._follow(job)
        except Exception as err:
            yield self._error(err)
        finally:
            if self.watch is not None:
                self.watch.cancel()
        yield DONE

    def _follow(self, job: Job) -> Iterator[str]:
        service = context.service()
        self.watch = service.watch(job, self.rid)
        last_line = ""
        while True:
            wait = max(0.0, min(DISCONNECT_CHECK_SECONDS, self.keepalive - (time.monotonic() - self.last_sent)))
            poll_event = self.watch.next_event(timeout=wait)
            if poll_event is None:
                if self.gone():
                    logger.info("stream client went away; generation {} is no longer polled", job.history_id)
                    self.watch.cancel()
                    return
                if time.monotonic() - self.last_sent >= self.keepalive:
                    self.last_sent = time.monotonic()
                    yield KEEPALIVE
                continue
            if poll_event.terminal:
                result = service.finish(job, poll_event)
                yield self._send({"content": markdown(result)})
                yield self._send({}, finish_reason="stop")
                return
            snapshot = poll_event.snapshot
            if snapshot is not None:
                line = progress_line(job.kind, snapshot.finished, snapshot.total, snapshot.phase.value)
                if line != last_line:
                    last_line = line
                    yield self._send({"content": line})

    def _send(self, delta: dict[str, Any], finish_reason: str | None = None) -> str:
        self.last_sent = time.monotonic()
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
