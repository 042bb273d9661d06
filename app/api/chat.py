"""/v1/chat/completions: the model picks an image or video generation; JSON or SSE (``stream: true``)."""

from __future__ import annotations

import time
import uuid

from flask import Blueprint, Response, jsonify, request

from app.api import context, sse
from app.api.body import read_json_body
from app.api.openapi import documented
from app.api.schemas import ChatCompletionSchema
from app.domain.chat import ChunkHeader, completion
from app.domain.jobs import Job

bp = Blueprint("chat", __name__)


@bp.post("/v1/chat/completions")
@documented(
    summary="Image or video generation as a chat completion (stream: true for SSE)",
    request=ChatCompletionSchema, response="application/json", auth=True,
    errors=("400", "401", "402", "413", "415", "429", "502", "504"),
)  # fmt: skip
def create_chat_completion() -> Response:
    """Everything that can be refused is checked before the stream starts, so bad input is a plain 4xx."""
    body = read_json_body(request)
    data = ChatCompletionSchema().load(body)
    service, sessions, intent = context.service(), context.sessions(), context.intent(body)
    prepared = service.prepare_chat(data["model"], data["messages"], session_id=sessions[0])
    header = ChunkHeader(f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), data["model"] or prepared.plan.model_id)
    gone = context.client_gone()

    def start() -> Job:
        return context.ledger().start(
            intent, sessions, lambda: service.start(sessions, prepared, client_gone=gone), client_gone=gone
        )

    if data["stream"]:
        context.ledger().check(intent)  # a reused key is a plain 422, not an event inside a 200 stream
        return sse.stream_chat(service, start, header)
    job = start()
    result = service.wait(job, request_id=context.request_id(), client_gone=gone)
    return jsonify(completion(result, completion_id=header.completion_id, model=header.model, created=header.created))
