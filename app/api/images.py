"""/v1/images/generations (and, with input images, compositions and edits)."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, jsonify, request

from app.api import callbacks, context, image_sse, starting
from app.api.body import read_json_body, read_json_or_form
from app.api.openapi import documented
from app.api.schemas import (
    ImageCompositionFormSchema,
    ImageCompositionSchema,
    ImageGenerationSchema,
    ImagesResponseSchema,
    ImageStreamEventSchema,
    TaskSchema,
)
from app.domain.deferred import QueuedTask
from app.domain.jobs import Job
from app.domain.ledger import Intent
from app.domain.models import GenerationRequest, ImageRequest
from app.domain.openai_shapes import images_response
from app.domain.sources import Upload
from app.errors import describe

bp = Blueprint("images", __name__)
GENERATION_ERRORS = ("400", "401", "402", "413", "415", "422", "429", "502", "503", "504")


@bp.post("/v1/images/generations")
@documented(
    summary="Text to image (stream: true for OpenAI's image streaming)", request=ImageGenerationSchema,
    response=ImagesResponseSchema, events=ImageStreamEventSchema, accepted=TaskSchema, auth=True,
    errors=GENERATION_ERRORS,
)  # fmt: skip
def create_image() -> tuple[Response, int]:
    body = read_json_body(request)
    image_request = ImageGenerationSchema().load(body)
    callback = callbacks.requested(
        body, stream=image_request.stream, run_async=context.wants_async(image_request.run_async)
    )
    return respond_images(image_request, context.intent(body), callback=callback)


@bp.post("/v1/images/compositions")
@bp.post("/v1/images/edits")
@documented(
    summary="Image to image from input images (JSON or multipart; stream: true for OpenAI's image streaming)",
    request=ImageCompositionSchema, multipart=ImageCompositionFormSchema, response=ImagesResponseSchema,
    events=ImageStreamEventSchema, accepted=TaskSchema, auth=True, errors=GENERATION_ERRORS,
)  # fmt: skip
def create_composition() -> tuple[Response, int]:
    """JSON ``images`` (URLs, data URIs, ``{url}``) or multipart file fields ``image`` / ``image[]``."""
    fields, files = read_json_or_form(request)
    if "mask" in files:  # a file field: refused by the schema like a JSON mask, before anything is fetched
        fields["mask"] = files["mask"].filename or "mask"
    uploads = [Upload(f.filename or "upload", f.read()) for key in ("image", "image[]") for f in files.getlist(key)]
    intent = context.intent({"fields": fields, "files": [hashlib.sha256(u.data).hexdigest() for u in uploads]})
    if uploads:
        fields["images"] = [*_as_list(fields.get("images")), *uploads]
    schema = ImageCompositionFormSchema() if request.mimetype == "multipart/form-data" else ImageCompositionSchema()
    image_request = schema.load(fields)
    callback = callbacks.requested(
        fields, stream=image_request.stream, run_async=context.wants_async(image_request.run_async)
    )
    return respond_images(image_request, intent, composition=True, callback=callback)


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def submit(
    generation: GenerationRequest, intent: Intent, *, run_async: bool = False, callback: str | None = None
) -> Job | QueuedTask:
    """Authenticate, check and load everything, then submit, unless the intent already has its job (an
    Idempotency-Key or an SDK retry of a request that submitted): the one way every generation starts."""
    return starting.start(intent, preparing(generation), run_async=run_async, callback=callback)


def preparing(generation: GenerationRequest) -> starting.Prepare:
    """What the request prepares once it holds its claim and has no job yet: checks and input images."""
    service, sessions = context.service(), context.sessions()
    return lambda: (service.prepare(generation, session_id=sessions[0]), sessions)


def respond_images(
    image_request: ImageRequest, intent: Intent, *, composition: bool = False, callback: str | None = None
) -> tuple[Response, int]:
    """The images as server-sent events while they arrive (``stream``), else as ``respond`` answers."""
    return answer(
        intent, preparing(image_request), stream=image_request.stream,
        run_async=context.wants_async(image_request.run_async), edit=composition, composition=composition,
        callback=callback,
    )  # fmt: skip


def answer(
    intent: Intent,
    prepare: starting.Prepare,
    *,
    stream: bool,
    run_async: bool,
    edit: bool,
    callback: str | None,
    composition: bool = False,
) -> tuple[Response, int]:
    """Start the image request's generation and answer it: as server-sent events (``stream``), which start once
    Jimeng accepted the job or when it has to wait for a free slot (every refusal before that is a plain HTTP
    error), else as ``respond`` answers. ``edit``: image events of an edit (``image_edit.*``); ``composition``:
    the answer names its input images (compositions and edits, not the post-edit tools)."""
    if stream:  # the body's stream wins over a Prefer: respond-async preference
        started = starting.start_streaming(intent, prepare)
        return image_sse.stream_images(context.service(), started, edit=edit), 200
    job = starting.start(intent, prepare, run_async=run_async, callback=callback)
    return respond(job, run_async, composition=composition, callback=callback)


def respond(
    started: Job | QueuedTask, run_async: bool, *, composition: bool = False, callback: str | None = None
) -> tuple[Response, int]:
    """202 with the task (right after the submit, or at once while it waits for a slot), or wait and answer
    with every image (or the video). A ``callback_url`` (async only) is in the outbox before the 202."""
    if run_async or isinstance(started, QueuedTask):
        return starting.accepted(started, callback)
    result = context.service().wait(started, request_id=context.request_id(), client_gone=context.client_gone())
    body = images_response(result, composition=composition, describe_failure=lambda err: describe(err)[1]["error"])
    return jsonify(body), 200
