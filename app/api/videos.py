"""/v1/videos/generations: text-to-video and first/last-frame video."""

from __future__ import annotations

from flask import Blueprint, Response, request

from app.api import callbacks, context
from app.api.body import read_json_body
from app.api.images import GENERATION_ERRORS, respond, submit
from app.api.openapi import documented
from app.api.schemas import ImagesResponseSchema, TaskSchema, VideoGenerationSchema

bp = Blueprint("videos", __name__)


@bp.post("/v1/videos/generations")
@documented(
    summary="Text or first/last frame to video", request=VideoGenerationSchema, response=ImagesResponseSchema,
    accepted=TaskSchema, auth=True, errors=GENERATION_ERRORS,
)  # fmt: skip
def create_video() -> tuple[Response, int]:
    body = read_json_body(request)
    video_request = VideoGenerationSchema().load(body)
    run_async = context.wants_async(video_request.run_async)
    callback = callbacks.requested(body, stream=False, run_async=run_async)
    started = submit(video_request, context.intent(body), run_async=run_async, callback=callback)
    return respond(started, run_async, callback=callback)
