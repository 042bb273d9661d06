"""Request and response schemas (marshmallow). Requests load into domain dataclasses; responses only
document the shapes for /openapi.json."""

from __future__ import annotations

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
    description = fields.String()
    capabilities = fields.Dict(
        metadata={"description": "image: tiers (ratios per tier), count_options; video: resolutions, durations, frames"}
    )


class ModelListSchema(Schema):
    object = fields.String(required=True, metadata={"example": "list"})
    data = fields.List(fields.Nested(ModelSchema), required=True)


class HealthSchema(Schema):
    status = fields.String(required=True)
    version = fields.String(required=True)


# -- requests ---------------------------------------------------------------------------------------------


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
    run_async = fields.Boolean(data_key="async", load_default=False, metadata={"description": "Answer 202 at once"})


class ImageGenerationSchema(PromptSchema):
    ratio = fields.String(metadata={"example": "16:9"})
    resolution = fields.String()
    size = fields.String(metadata={"example": "1792x1024"})
    n = fields.Integer()
    negative_prompt = fields.String(load_default="")
    sample_strength = fields.Float(load_default=0.5)
    seed = fields.Integer()

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

    @post_load
    def _make_request(self, data: dict[str, Any], **_: Any) -> ImageRequest:
        return ImageRequest(**{**data, "images": tuple(data["images"])})


class VideoGenerationSchema(PromptSchema):
    ratio = fields.String(metadata={"example": "16:9"})
    width = fields.Integer(validate=validate.Range(min=1, max=16384), metadata={"description": "mapped to a ratio"})
    height = fields.Integer(validate=validate.Range(min=1, max=16384), metadata={"description": "mapped to a ratio"})
    resolution = fields.String()
    duration = fields.Integer()
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


class ChatCompletionSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    model = fields.String(load_default=None, metadata={"example": "jimeng-4.0:16:9"})
    messages = fields.List(fields.Nested(ChatMessageSchema), required=True, validate=validate.Length(min=1))
    stream = fields.Boolean(load_default=False)


# -- responses (documentation only) -----------------------------------------------------------------------


class ImageItemSchema(Schema):
    url = fields.String()
    b64_json = fields.String()
    revised_prompt = fields.String()


class ImagesResponseSchema(Schema):
    created = fields.Integer(required=True)
    history_id = fields.String(required=True)
    data = fields.List(fields.Nested(ImageItemSchema), required=True)


class ProgressSchema(Schema):
    finished = fields.Integer()
    total = fields.Integer()


class TaskSchema(Schema):
    id = fields.String(required=True)
    object = fields.String(required=True, metadata={"example": "generation.task"})
    status = fields.String(required=True, metadata={"enum": ["queued", "running", "succeeded", "failed"]})
    history_id = fields.String()
    created = fields.Integer()
    model = fields.String()
    progress = fields.Nested(ProgressSchema)
    data = fields.List(fields.Nested(ImageItemSchema))
    error = fields.Nested(ErrorObjectSchema)
