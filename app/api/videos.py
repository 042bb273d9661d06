"""/v1/videos/generations: text-to-video and first/last-frame video."""

from __future__ import annotations

from flask import Blueprint, Response, request

from app.api import context
from app.api.body import read_json_body
from app.api.images import GENERATION_ERRORS, respond
from app.api.openapi import operation
from app.api.schemas import ImagesResponseSchema, TaskSchema, VideoGenerationSchema

bp = Blueprint("videos", __name__)


@bp.post("/v1/videos/generations")
def create_video() -> tuple[Response, int]:
    schema = VideoGenerationSchema(max_prompt_chars=context.settings().max_prompt_chars)
    video_request = schema.load(read_json_body(request))
    job = context.service().start(context.sessions(), video_request)
    return respond(job, context.wants_async(video_request.run_async))


operation(
    path="/v1/videos/generations",
    method="post",
    summary="Text or first/last frame to video",
    request=VideoGenerationSchema,
    response=ImagesResponseSchema,
    accepted=TaskSchema,
    auth=True,
    errors=GENERATION_ERRORS,
)
