"""Server-sent events for chat completions: a generator response whose first byte goes out at once.

Headers are set before the body. Whatever can be refused is refused before them, as a plain JSON error (bad
input, and an expired session or too few credits: ``GenerationService.preflight``). The role chunk is sent
before any upstream call; then the "submitted" line and a progress line whenever the generation's state
changes (as ``reasoning_content`` deltas, or ``content``, or not at all: ``CHAT_PROGRESS``), a ``: keep-alive``
comment when nothing was sent for ``SSE_KEEPALIVE_SECONDS``, the result as ``content``, a
``finish_reason: "stop"`` chunk, the usage chunk when ``stream_options.include_usage`` asked for it, and
``data: [DONE]``. An error after the stream began is a content delta ``Error: …`` (clients that ignore chunks
without choices, such as NextChat, show it) and a ``data: {"error": ...}`` event (with the history id, which
the SDKs raise) before ``[DONE]``.

The generation is followed by ``GenerationService.follow`` (the same loop a waiting request uses): a client
that went away is noticed within its check interval (a non-blocking peek at its socket) or at the next
write; either way the generator ends and its poll is cancelled.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from flask import Response, stream_with_context

from app.api import context
from app.domain.chat import ChunkHeader, markdown, progress_line, usage
from app.domain.follow import Finished, Gone, Idle, Progress
from app.domain.generation import GenerationService
from app.domain.jobs import Job
from app.errors import stream_error_body


class Starter(Protocol):
    """Submits a chat's generation; ``on_wait(n)`` hears the requests ahead while it waits for a slot."""

    def __call__(self, on_wait: Callable[[int], None] | None = None) -> Job: ...


SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def event(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n"


DONE = "data: [DONE]\n\n"
KEEPALIVE = ": keep-alive\n\n"


class ProgressMode(StrEnum):
    """Where progress lines go (``CHAT_PROGRESS``)."""

    REASONING = "reasoning"  # reasoning_content deltas: a collapsible thinking section in chat UIs
    CONTENT = "content"  # content deltas: kept in the chat history
    OFF = "off"


@dataclass(frozen=True)
class ChatOptions:
    """How one stream is written: its progress lines, the prompt's messages (for ``usage``), and whether the
    usage chunk is sent."""

    progress: ProgressMode
    messages: list[dict[str, Any]]
    include_usage: bool = False


def stream_chat(
    service: GenerationService,
    start: Starter,
    header: ChunkHeader,
    options: ChatOptions,
    *,
    on_close: Callable[[], None],
) -> Response:
    """The SSE response of a streamed chat completion; ``start`` submits (called inside the stream);
    ``on_close`` runs when the stream ends, however it ends (a claim nobody submitted is released)."""
    stream = _ChatStream(
        service, start, header, options, context.settings().sse_keepalive_seconds, context.client_gone(),
        context.request_id(),
    )  # fmt: skip
    response = _response(stream.events())
    response.call_on_close(on_close)  # also when the body was never iterated (the client left at once)
    return response


def stream_text(header: ChunkHeader, text: str, options: ChatOptions) -> Response:
    """A stream that answers ``text`` at once (no generation): role, content, stop, usage when asked, done."""

    def events() -> Iterator[str]:
        yield event(header.chunk({"role": "assistant", "content": ""}))
        yield event(header.chunk({"content": text}))
        yield event(header.chunk({}, finish_reason="stop"))
        if options.include_usage:
            yield event(header.usage_chunk(usage(options.messages, text)))
        yield DONE

    return _response(events())


def _response(events: Iterator[str]) -> Response:
    return Response(stream_with_context(events), mimetype="text/event-stream", headers=SSE_HEADERS)


class _ChatStream:
    """Formats what ``GenerationService.follow`` yields as chat completion chunks."""

    def __init__(
        self,
        service: GenerationService,
        start: Starter,
        header: ChunkHeader,
        options: ChatOptions,
        keepalive: float,
        gone: Callable[[], bool],
        rid: str,
    ) -> None:
        self.service, self.start, self.header, self.options = service, start, header, options
        self.keepalive, self.gone, self.rid = keepalive, gone, rid
        self.history_id: str | None = None
        self.sent_text: list[str] = []  # every text delta sent, for the usage chunk

    def events(self) -> Iterator[str]:
        yield self._send({"role": "assistant", "content": ""})
        try:
            job = yield from self._started()
            self.history_id = job.history_id
            if (line := self._progress(f"Submitted to Jimeng (history id {job.history_id}).\n")) is not None:
                yield line
            yield from self._follow(job)
        except Exception as err:
            yield from self._error(err)
        yield DONE

    def _started(self) -> Generator[str, None, Job]:
        """Submit (in a thread of its own), sending "waiting for a free slot (n ahead)" lines meanwhile when the
        per-session caps make the request wait, and keep-alives."""
        notices: queue.Queue[int | None] = queue.Queue()
        outcome: list[Job | BaseException] = []

        def run() -> None:
            try:
                outcome.append(self.start(notices.put))
            except BaseException as err:  # handed to the stream, which reports it
                outcome.append(err)
            finally:
                notices.put(None)

        threading.Thread(target=run, name="chat-submit", daemon=True).start()
        while True:
            try:
                ahead = notices.get(timeout=self.keepalive)
            except queue.Empty:
                yield KEEPALIVE
                continue
            if ahead is None:
                break
            if (line := self._progress(f"Waiting for a free slot ({ahead} ahead).\n")) is not None:
                yield line
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]

    def _follow(self, job: Job) -> Iterator[str]:
        last_line = ""
        events = self.service.follow(job, request_id=self.rid, client_gone=self.gone, idle_seconds=self.keepalive)
        with closing(events):  # a client gone at a write closes this generator: the polling stops too
            for news in events:
                if isinstance(news, Idle):
                    yield KEEPALIVE
                elif isinstance(news, Progress):
                    line = progress_line(job.kind, news.snapshot, time.time())
                    if line != last_line:
                        last_line = line
                        if (chunk := self._progress(line)) is not None:
                            yield chunk
                elif isinstance(news, Finished):
                    yield self._text({"content": markdown(news.result)})
                    yield self._send({}, finish_reason="stop")
                    if self.options.include_usage:
                        answered = usage(self.options.messages, "".join(self.sent_text))
                        yield event(self.header.usage_chunk(answered, history_id=self.history_id))
                elif isinstance(news, Gone):
                    return

    def _progress(self, line: str) -> str | None:
        """A progress line as the stream's options say: a reasoning or content delta, or nothing."""
        if self.options.progress is ProgressMode.OFF:
            return None
        key = "reasoning_content" if self.options.progress is ProgressMode.REASONING else "content"
        return self._text({key: line})

    def _text(self, delta: dict[str, str]) -> str:
        self.sent_text.extend(delta.values())
        return self._send(delta)

    def _send(self, delta: dict[str, Any], finish_reason: str | None = None) -> str:
        return event(self.header.chunk(delta, finish_reason=finish_reason, history_id=self.history_id))

    def _error(self, err: Exception) -> Iterator[str]:
        body = stream_error_body(err, request_id=self.rid, history_id=self.history_id)
        yield self._send({"content": f"Error: {body['error']['message']}"})  # for clients that drop error events
        yield event(body)
