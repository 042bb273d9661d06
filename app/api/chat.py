"""/v1/chat/completions: the model picks an image or video generation; JSON or SSE (``stream: true``)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request
from loguru import logger

from app.api import context, sse
from app.api.body import read_json_body
from app.api.openapi import documented
from app.api.schemas import ChatCompletionSchema
from app.domain import ui_tasks
from app.domain.chat import ChunkHeader, completion, markdown, usage
from app.domain.generation import GenerationService
from app.domain.jobs import Job
from app.domain.ledger import Claim

bp = Blueprint("chat", __name__)


@bp.post("/v1/chat/completions")
@documented(
    summary="Image or video generation as a chat completion (stream: true for SSE)",
    request=ChatCompletionSchema, response="application/json", auth=True,
    errors=("400", "401", "402", "413", "415", "422", "429", "502", "503", "504"),
)  # fmt: skip
def create_chat_completion() -> Response:
    """Everything that can be refused is checked before the stream starts, so bad input, an expired session or
    too few credits are a plain 4xx. A chat UI's own background request is answered without a generation."""
    body = read_json_body(request)
    data = ChatCompletionSchema().load(body)
    service, sessions, settings = context.service(), context.sessions(), context.settings()
    messages: list[dict[str, Any]] = data["messages"]
    options = sse.ChatOptions(
        progress=sse.ProgressMode(settings.chat_progress), messages=messages,
        include_usage=bool((data["stream_options"] or {}).get("include_usage")),
    )  # fmt: skip
    task = ui_tasks.recognise(messages) if settings.chat_ui_tasks == "answer" else None
    if task is not None:
        return _answer_ui_task(task, service, sessions, data, options)
    gone = context.client_gone()
    claim = context.ledger().claim(context.intent(body), sessions, client_gone=gone)  # before any input is fetched
    start, model = _starter(claim, service, sessions, data, gone)
    header = _header(data["model"] or model)
    if data["stream"]:
        return sse.stream_chat(service, start, header, options, on_close=claim.release)
    with claim:
        job = start()
    result = service.wait(job, request_id=context.request_id(), client_gone=gone)
    text = markdown(result)
    answer = completion(
        text, completion_id=header.completion_id, model=header.model, created=header.created,
        usage=usage(messages, text), history_id=result.history_id,
    )  # fmt: skip
    return jsonify(answer)


def _header(model: str) -> ChunkHeader:
    return ChunkHeader(f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), model)


def _starter(
    claim: Claim, service: GenerationService, sessions: list[str], data: dict[str, Any], gone: Callable[[], bool]
) -> tuple[sse.Starter, str]:
    """What starts this completion's generation (the claim's own job when it resumes one), and its model id;
    the request is prepared (checked, inputs fetched) only when it will be submitted. A stream's session is
    chosen (and refused: expired, too few credits) before its headers go out; the submit is the stream's."""
    resumed = claim.job
    if resumed is not None:
        return (lambda on_wait=None: resumed), resumed.model
    with claim.releasing_on_error():
        prepared = service.prepare_chat(data["model"], data["messages"], session_id=sessions[0])
        chosen = service.preflight(sessions, prepared) if data["stream"] else None

    caller = context.caller()

    def start(on_wait: Callable[[int], None] | None = None) -> Job:
        return claim.submit(
            lambda: service.start(sessions, prepared, client_gone=gone, chosen=chosen, caller=caller, on_wait=on_wait)
        )

    return start, prepared.plan.model_id


def _answer_ui_task(
    task: ui_tasks.UiTask,
    service: GenerationService,
    sessions: list[str],
    data: dict[str, Any],
    options: sse.ChatOptions,
) -> Response:
    """A chat UI's background request, answered at once (no ledger claim: nothing is spent). The model must
    exist; a connection check also checks the pool's sessions (a cached credit check, never a submit)."""
    model = service.check_chat_model(data["model"], session_id=sessions[0])
    if task is ui_tasks.UiTask.CONNECTION_CHECK:
        service.check_sessions(sessions)
    logger.info("chat UI task {} answered without a generation", task.value)
    text = ui_tasks.answer(task, options.messages)
    header = _header(data["model"] or model)
    if data["stream"]:
        return sse.stream_text(header, text, options)
    answer = completion(
        text, completion_id=header.completion_id, model=header.model, created=header.created,
        usage=usage(options.messages, text),
    )  # fmt: skip
    return jsonify(answer)
