"""/v1/images/upscale and /v1/images/outpaint: Jimeng's post-edit tools on one image (JSON or multipart).

They behave as the other image endpoints: the same errors, ``async`` (202 and ``/v1/tasks/{id}``),
Idempotency-Key and SDK-retry de-duplication (the ledger), ``stream`` (``image_edit.completed`` events) and
``response_format``. Preparing differs (``app/domain/post_edit.py``): an earlier result is looked up instead of
uploaded, and then submitted on the session that owns it.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, request

from app.api import callbacks, context
from app.api.body import read_json_or_form
from app.api.images import GENERATION_ERRORS, answer
from app.api.openapi import documented
from app.api.post_edit_schemas import OutpaintFormSchema, OutpaintSchema, UpscaleFormSchema, UpscaleSchema
from app.api.schemas import ImagesResponseSchema, ImageStreamEventSchema, TaskSchema
from app.domain.errors import InvalidRequestError
from app.domain.jobs import Prepared
from app.domain.models import PostEditRequest
from app.domain.post_edit import PostEdits
from app.domain.sources import Upload

bp = Blueprint("post_edit", __name__)
FILE_FIELDS = ("image", "image[]")


@bp.post("/v1/images/upscale")
@documented(
    summary="Upscale one image (mode: normal_hd 超清, pro_hd 智能超清, super_resolution 细节修复); JSON or multipart",
    request=UpscaleSchema, multipart=UpscaleFormSchema, response=ImagesResponseSchema,
    events=ImageStreamEventSchema, accepted=TaskSchema, auth=True, errors=GENERATION_ERRORS,
)  # fmt: skip
def create_upscale() -> tuple[Response, int]:
    return _post_edit(UpscaleSchema, UpscaleFormSchema)


@bp.post("/v1/images/outpaint")
@documented(
    summary="Extend one image (扩图) to a ratio or by a padding; JSON or multipart",
    request=OutpaintSchema, multipart=OutpaintFormSchema, response=ImagesResponseSchema,
    events=ImageStreamEventSchema, accepted=TaskSchema, auth=True, errors=GENERATION_ERRORS,
)  # fmt: skip
def create_outpaint() -> tuple[Response, int]:
    return _post_edit(OutpaintSchema, OutpaintFormSchema)


def _post_edit(
    json_schema: type[UpscaleSchema | OutpaintSchema], form_schema: type[UpscaleSchema | OutpaintSchema]
) -> tuple[Response, int]:
    fields, files = read_json_or_form(request)
    uploads = [Upload(f.filename or "upload", f.read()) for key in FILE_FIELDS for f in files.getlist(key)]
    intent = context.intent({"fields": fields, "files": [hashlib.sha256(u.data).hexdigest() for u in uploads]})
    if len(uploads) > 1 or (uploads and fields.get("image")):
        raise InvalidRequestError("send one image", code="too_many_images", param="image")
    if uploads:
        fields["image"] = uploads[0]
    schema = form_schema() if request.mimetype == "multipart/form-data" else json_schema()
    edit: PostEditRequest = schema.load(fields)
    run_async = context.wants_async(edit.run_async)
    callback = callbacks.requested(fields, stream=edit.stream, run_async=run_async)
    edits = PostEdits(context.service(), max_lookups=context.settings().sessions_asked_per_request)
    sessions = context.sessions()

    def prepare() -> tuple[Prepared, list[str]]:  # as images.submit: after the claim, when it has no job yet
        return edits.prepare(edit, sessions)

    return answer(intent, prepare, stream=edit.stream, run_async=run_async, edit=True, callback=callback)
