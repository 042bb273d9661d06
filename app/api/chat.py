"""/v1/chat/completions: the model picks an image or video generation; JSON or SSE (``stream: true``)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, jsonify, request

from app.api import context, sse
from app.api.body import read_json_body
from app.api.openapi import documented
from app.api.schemas import ChatCompletionSchema
from app.domain.chat import ChunkHeader, completion
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
    """Everything that can be refused is checked before the stream starts, so bad input is a plain 4xx."""
    body = read_json_body(request)
    data = ChatCompletionSchema().load(body)
    service, sessions, intent = context.service(), context.sessions(), context.intent(body)
    gone = context.client_gone()
    claim = context.ledger().claim(intent, sessions, client_gone=gone)  # before any input is fetched
    start, model = _starter(claim, service, sessions, data, gone)
    header = ChunkHeader(f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), data["model"] or model)
    if data["stream"]:
        return sse.stream_chat(service, start, header, on_close=claim.release)
    with claim:
        job = start()
    result = service.wait(job, request_id=context.request_id(), client_gone=gone)
    return jsonify(completion(result, completion_id=header.completion_id, model=header.model, created=header.created))


def _starter(
    claim: Claim, service: GenerationService, sessions: list[str], data: dict[str, Any], gone: Callable[[], bool]
) -> tuple[Callable[[], Job], str]:
    """What starts this completion's generation (the claim's own job when it resumes one), and its model id;
    the request is prepared (checked, inputs fetched) only when it will be submitted."""
    resumed = claim.job
    if resumed is not None:
        return (lambda: resumed), resumed.model
    with claim.releasing_on_error():
        prepared = service.prepare_chat(data["model"], data["messages"], session_id=sessions[0])
    return (lambda: claim.submit(lambda: service.start(sessions, prepared, client_gone=gone))), prepared.plan.model_id
