"""Request and response schemas (marshmallow). Requests load into domain dataclasses; responses only
document the shapes for /openapi.json."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_load, validate

from app.domain.errors import InvalidRequestError
from app.domain.models import ImageRequest, ResponseFormat, VideoRequest
from app.domain.sources import SOURCE_FORMS, ImageSource, Upload, parse_image_source


class ErrorObjectSchema(Schema):
    message = fields.String(required=True)
    type = fields.String(required=True)
    param = fields.String(allow_none=True)
    code = fields.String(required=True)
    history_id = fields.String(allow_none=True)


class ErrorSchema(Schema):
    error = fields.Nested(ErrorObjectSchema, required=True)


class ModelSchema(Schema):
    id = fields.String(required=True)
    object = fields.String(required=True, metadata={"example": "model"})
    created = fields.Integer(required=True)
    owned_by = fields.String(required=True)
    type = fields.String(required=True, metadata={"enum": ["image", "video"]})
    root = fields.String(metadata={"description": "GET /v1/models/{id} only: the model's own id (id echoes the "
                                   "one asked for: an alias or a chat model with a suffix)"})  # fmt: skip
    description = fields.String()
    live = fields.Boolean(metadata={"description": "the tables came from Jimeng's answer for this account"})
    capabilities = fields.Dict(
        metadata={
            "description": "images: tiers (tier -> ratio -> WxH), default_tier, ratios, count_options, default_count,"
            " blend, max_input_images; videos: resolutions, default_resolution, ratios, default_ratio, durations,"
            " default_duration, frames, draft_mode"
        }
    )


class ModelListSchema(Schema):
    object = fields.String(required=True, metadata={"example": "list"})
    data = fields.List(fields.Nested(ModelSchema), required=True)


class HealthSchema(Schema):
    status = fields.String(required=True)
    version = fields.String(required=True)


# -- requests ---------------------------------------------------------------------------------------------


_Messages = dict[str, str | list[Any] | dict[Any, Any]]  # a field's error messages, as marshmallow types them


class StrictInteger(fields.Integer):
    """A JSON integer: not 2.5, not 2.0, not "2", not true (OpenAI's API refuses them too)."""

    default_error_messages: _Messages = {"invalid": "must be an integer (a JSON number without a fraction)"}  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)


class StrictFloat(fields.Float):
    """A finite JSON number, never a string or a boolean."""

    default_error_messages: _Messages = {"invalid": "must be a number"}  # noqa: RUF012

    def _validated(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid", input=value)
        if isinstance(value, int) and value.bit_length() > 1024:  # float() of it overflows
            raise self.make_error("too_large", input=value)
        return super()._validated(value)


class StrictBoolean(fields.Boolean):
    """A JSON true or false, never "yes", 1 or "true"."""

    default_error_messages: _Messages = {"invalid": "must be true or false"}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


# multipart/form-data sends every field as text (the OpenAI SDK's images.edit: n="2", stream="false"), so the
# form schema reads numbers and booleans from their text; a JSON body never gets this leniency.
_FORM_INTEGER = re.compile(r"\s*[+-]?[0-9]{1,12}\s*")
_FORM_NUMBER = re.compile(r"\s*[+-]?[0-9]{0,12}(\.[0-9]{0,12})?\s*")
_FORM_TRUE, _FORM_FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


class FormInteger(StrictInteger):
    default_error_messages: _Messages = {"invalid": "must be an integer"}  # noqa: RUF012

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str) and _FORM_INTEGER.fullmatch(value):
            value = int(value)
        return super()._deserialize(value, attr, data, **kwargs)


class FormFloat(StrictFloat):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, str) and _FORM_NUMBER.fullmatch(value) and any(c.isdigit() for c in value):
            value = float(value)
        return super()._deserialize(value, attr, data, **kwargs)


class FormBoolean(StrictBoolean):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        text = value.strip().lower() if isinstance(value, str) else None
        if text in _FORM_TRUE or text in _FORM_FALSE:
            value = text in _FORM_TRUE
        return super()._deserialize(value, attr, data, **kwargs)


class PromptSchema(Schema):
    """Shared by every generation request: ignored unknown fields, ``prompt``, ``model``, ``async``.

    Schemas only read shapes (types, required fields); every limit and table is the planner's
    (``app/domain/planning.py``), so all entry points, chat included, are held to the same rules.
    """

    class Meta:
        unknown = EXCLUDE

    prompt = fields.String(required=True, metadata={"description": "What to generate"})
    model = fields.String()
    response_format = fields.Enum(ResponseFormat, by_value=True, load_default=ResponseFormat.URL)
    run_async = StrictBoolean(data_key="async", load_default=False, metadata={"description": "Answer 202 at once"})


class ImageGenerationSchema(PromptSchema):
    ratio = fields.String(metadata={"example": "16:9"})
    resolution = fields.String()
    size = fields.String(
        metadata={"example": "1792x1024", "description": "WxH, mapped to the nearest ratio and tier; auto: no size"}
    )
    n = StrictInteger()
    negative_prompt = fields.String(load_default="")
    sample_strength = StrictFloat(load_default=0.5)
    seed = StrictInteger()
    stream = StrictBoolean(
        load_default=False,
        metadata={
            "description": "Server-sent events: each image as soon as it is ready, base64 in an "
            "image_generation.completed event (image_edit.completed on compositions and edits)"
        },
    )
    partial_images = StrictInteger(
        metadata={"description": "0-3, accepted; Jimeng makes no previews, so a stream sends no partial events"}
    )
    output_format = fields.String(
        metadata={
            "enum": ["png", "jpeg", "webp"],
            "description": "b64_json: the images re-encoded in this format; url: ignored (the answer's output_format "
            "tells the files' real format)",
        }
    )
    output_compression = StrictInteger(
        metadata={
            "minimum": 0,
            "maximum": 100,
            "description": "jpeg and webp quality with output_format; png ignores it",
        }
    )

    @pre_load
    def _refuse_width_and_height(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            for name in ("width", "height"):
                if name in data:
                    raise InvalidRequestError(
                        f"{name} is not supported; use ratio (e.g. 16:9) with resolution (1k, 2k, 4k) "
                        "or an OpenAI size (e.g. 1792x1024)",
                        code="unsupported_parameter",
                        param=name,
                    )
        return data

    @post_load
    def _make_request(self, data: dict[str, Any], **_: Any) -> ImageRequest:
        return ImageRequest(**data)


class ImageSourceField(fields.Field):
    """One input image: an http(s) URL or data URI string, or ``{"url": ...}``; multipart files arrive as
    ``Upload`` already."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> ImageSource:
        if isinstance(value, Upload):
            return value
        try:
            return parse_image_source(value, param=attr or "images")
        except InvalidRequestError as err:
            raise ValidationError(f"must be {SOURCE_FORMS}") from err

    def _jsonschema_type_mapping(self) -> dict[str, Any]:
        return {"oneOf": [{"type": "string"}, {"type": "object", "properties": {"url": {"type": "string"}}}]}


class ImageCompositionSchema(ImageGenerationSchema):
    images = fields.List(
        ImageSourceField(),
        required=True,
        validate=validate.Length(min=1, error="needs at least one image"),
        metadata={"description": "Input images: URLs, data URIs or {url}; multipart: file fields image / image[]"},
    )

    mask = fields.Raw(
        load_only=True,
        metadata={"description": "Refused with 400 unsupported_parameter: Jimeng offers no masked edits (inpainting)"},
    )

    @pre_load
    def _refuse_mask(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and data.get("mask") not in (None, ""):
            raise InvalidRequestError(
                "mask is not supported: Jimeng offers no masked edits (inpainting); send the image and describe the "
                "change in the prompt",
                code="unsupported_parameter",
                param="mask",
            )
        return data

    @post_load
    def _make_request(self, data: dict[str, Any], **_: Any) -> ImageRequest:
        data.pop("mask", None)
        return ImageRequest(**{**data, "images": tuple(data["images"])})


class ImageCompositionFormSchema(ImageCompositionSchema):
    """A composition sent as multipart/form-data: the same fields, numbers and booleans read from their text."""

    n = FormInteger()
    sample_strength = FormFloat(load_default=0.5)
    seed = FormInteger()
    output_compression = FormInteger(
        metadata={
            "minimum": 0,
            "maximum": 100,
            "description": "jpeg and webp quality with output_format; png ignores it",
        }
    )
    run_async = FormBoolean(data_key="async", load_default=False, metadata={"description": "Answer 202 at once"})
    stream = FormBoolean(
        load_default=False,
        metadata={"description": "Server-sent events (the text true/false): image_edit.completed events"},
    )
    partial_images = FormInteger(
        metadata={"description": "0-3, accepted; Jimeng makes no previews, so a stream sends no partial events"}
    )


class VideoGenerationSchema(PromptSchema):
    ratio = fields.String(metadata={"example": "16:9"})
    width = StrictInteger(validate=validate.Range(min=1, max=16384), metadata={"description": "mapped to a ratio"})
    height = StrictInteger(validate=validate.Range(min=1, max=16384), metadata={"description": "mapped to a ratio"})
    resolution = fields.String()
    duration = StrictInteger()
    images = fields.List(
        ImageSourceField(),
        metadata={"description": "First frame, then last frame; also accepted as file_paths / filePaths"},
    )

    @pre_load
    def _frame_aliases(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            for alias in ("file_paths", "filePaths"):
                if alias in data and "images" not in data:
                    data = {**data, "images": data[alias]}
        return data

    @post_load
    def _make_request(self, data: dict[str, Any], **_: Any) -> VideoRequest:
        width, height = data.pop("width", None), data.pop("height", None)
        if (width is None) != (height is None):
            raise InvalidRequestError("width and height go together (or send ratio)", param="width")
        frames = tuple(data.pop("images", ()))
        return VideoRequest(**data, frames=frames, size=(width, height) if width and height else None)


class ChatMessageSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    role = fields.String(required=True)
    content = fields.Raw(allow_none=True, metadata={"description": "a string or a list of text/image_url parts"})


class StreamOptionsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    include_usage = StrictBoolean(
        load_default=False,
        metadata={
            "description": "a last chunk with no choices and the usage (approximate tokens of the messages and "
            "of the text streamed: Jimeng bills credits, not tokens) before data: [DONE]"
        },
    )


class ChatCompletionSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    model = fields.String(load_default=None, metadata={"example": "jimeng-4.0:16:9"})
    messages = fields.List(fields.Nested(ChatMessageSchema), required=True, validate=validate.Length(min=1))
    stream = StrictBoolean(load_default=False)
    stream_options = fields.Nested(StreamOptionsSchema, load_default=None, allow_none=True)


# -- responses (documentation only) -----------------------------------------------------------------------


class ImageItemSchema(Schema):
    url = fields.String()
    b64_json = fields.String()
    revised_prompt = fields.String()


class ImagesResponseSchema(Schema):
    created = fields.Integer(required=True)
    history_id = fields.String(required=True)
    data = fields.List(fields.Nested(ImageItemSchema), required=True)
    output_format = fields.String(
        metadata={"enum": ["png", "jpeg", "webp", "gif"], "description": "the images' real format, when known"}
    )
    size = fields.String(metadata={"example": "2048x2048", "description": "the pixel size Jimeng was asked for"})
    background = fields.String(metadata={"enum": ["opaque"]})


class StreamUsageSchema(Schema):
    input_tokens = fields.Integer(required=True)
    input_tokens_details = fields.Dict(required=True, metadata={"example": {"image_tokens": 0, "text_tokens": 0}})
    output_tokens = fields.Integer(required=True)
    total_tokens = fields.Integer(required=True)


class ImageStreamEventSchema(Schema):
    """One ``data:`` of an image stream (``stream: true``): a finished image, or the error that ends the stream.
    Progress and keep-alives are SSE comments."""

    type = fields.String(
        required=True,
        metadata={"enum": ["image_generation.completed", "image_edit.completed", "error"]},
    )
    b64_json = fields.String(metadata={"description": "the image, base64"})
    url = fields.String(metadata={"description": "the same image at Jimeng"})
    index = fields.Integer(metadata={"description": "0-based place among the request's images"})
    history_id = fields.String(metadata={"description": "the generation this image (or error) belongs to"})
    created_at = fields.Integer()
    size = fields.String(metadata={"example": "2048x2048", "description": "read from the image"})
    quality = fields.String(metadata={"example": "auto"})
    background = fields.String(metadata={"example": "opaque"})
    output_format = fields.String(metadata={"example": "png", "description": "read from the image"})
    usage = fields.Nested(StreamUsageSchema, metadata={"description": "zeros: Jimeng bills credits, not tokens"})
    error = fields.Nested(ErrorObjectSchema, metadata={"description": "only in the error event"})


class ProgressSchema(Schema):
    finished = fields.Integer()
    total = fields.Integer()


class TaskSchema(Schema):
    id = fields.String(required=True)
    object = fields.String(required=True, metadata={"example": "generation.task"})
    status = fields.String(required=True, metadata={"enum": ["queued", "running", "succeeded", "failed"]})
    history_id = fields.String(allow_none=True, metadata={"description": "null while a task_… waits for a slot"})
    history_ids = fields.List(fields.String(), metadata={"description": "when the request took several generations"})
    created = fields.Integer()
    model = fields.String()
    progress = fields.Nested(ProgressSchema)
    queue_position = fields.Integer(allow_none=True)
    queue_length = fields.Integer(allow_none=True)
    eta_seconds = fields.Integer(allow_none=True)
    waiting_for_slot = fields.Boolean(metadata={"description": "a task_… waiting for a free slot of the caps"})
    data = fields.List(fields.Nested(ImageItemSchema))
    error = fields.Nested(ErrorObjectSchema)
