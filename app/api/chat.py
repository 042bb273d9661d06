"""/v1/chat/completions: the model picks an image or video generation; JSON or SSE (``stream: true``)."""

from __future__ import annotations

import time
import uuid

from flask import Blueprint, Response, jsonify, request

from app.api import context, sse
from app.api.body import read_json_body
from app.api.openapi import operation
from app.api.schemas import ChatCompletionSchema
from app.domain.chat import ChunkHeader, chat_request, completion, parse_messages, parse_model

bp = Blueprint("chat", __name__)


@bp.post("/v1/chat/completions")
def create_chat_completion() -> Response:
    """Everything that can be refused is checked before the stream starts, so bad input is a plain 4xx."""
    data = ChatCompletionSchema().load(read_json_body(request))
    chat_model, prompt = parse_model(data["model"]), parse_messages(data["messages"])
    service = context.service()
    generation = chat_request(chat_model, prompt, service.planner.kind_of(chat_model.model_id))
    sessions = context.sessions()
    prepared = service.prepare(generation, param="messages.image_url")
    header = ChunkHeader(f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), data["model"] or "jimeng-4.0")
    if data["stream"]:
        return sse.stream_chat(lambda: service.start(sessions, prepared), header)
    result = service.wait(service.start(sessions, prepared), context.request_id(), context.client_gone())
    return jsonify(completion(result, completion_id=header.completion_id, model=header.model, created=header.created))


operation(
    path="/v1/chat/completions",
    method="post",
    summary="Image or video generation as a chat completion (stream: true for SSE)",
    request=ChatCompletionSchema,
    response="application/json",
    auth=True,
    errors=("400", "401", "402", "413", "415", "429", "502", "504"),
)
