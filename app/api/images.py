"""/v1/images/generations (and, with input images, compositions and edits)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app.api import context
from app.api.body import read_json_body
from app.api.openapi import operation
from app.api.schemas import ImageGenerationSchema, ImagesResponseSchema, TaskSchema
from app.domain.generation import Job
from app.domain.openai_shapes import accepted_task, images_response

bp = Blueprint("images", __name__)
GENERATION_ERRORS = ("400", "401", "402", "413", "415", "429", "502", "504")


@bp.post("/v1/images/generations")
def create_image() -> tuple[Response, int]:
    body = read_json_body(request)
    image_request = ImageGenerationSchema(max_prompt_chars=context.settings().max_prompt_chars).load(body)
    job = context.service().start_images(context.sessions(), image_request)
    return respond(job, context.wants_async(image_request.run_async))


def respond(job: Job, run_async: bool, *, composition: bool = False) -> tuple[Response, int]:
    """202 with the task right after the submit, or wait and answer with every image."""
    if run_async:
        return jsonify(accepted_task(job.history_id, job.created, job.model)), 202
    result = context.service().wait(job, context.request_id())
    return jsonify(images_response(result, composition=composition)), 200


operation(
    path="/v1/images/generations",
    method="post",
    summary="Text to image",
    request=ImageGenerationSchema,
    response=ImagesResponseSchema,
    accepted=TaskSchema,
    auth=True,
    errors=GENERATION_ERRORS,
)
