"""Request and response schemas (marshmallow). Requests load into domain dataclasses; responses only
document the shapes for /openapi.json."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_load, validate, validates

from app.domain.errors import InvalidRequestError
from app.domain.models import ImageRequest


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


class ModelListSchema(Schema):
    object = fields.String(required=True, metadata={"example": "list"})
    data = fields.List(fields.Nested(ModelSchema), required=True)


class HealthSchema(Schema):
    status = fields.String(required=True)
    version = fields.String(required=True)


# -- requests ---------------------------------------------------------------------------------------------


class PromptSchema(Schema):
    """Shared by every generation request: the prompt rule, ignored unknown fields, ``async``."""

    class Meta:
        unknown = EXCLUDE

    prompt = fields.String(required=True, metadata={"description": "What to generate"})
    model = fields.String()
    response_format = fields.String(load_default="url", validate=validate.OneOf(["url", "b64_json"]))
    run_async = fields.Boolean(data_key="async", load_default=False, metadata={"description": "Answer 202 at once"})

    def __init__(self, *, max_prompt_chars: int = 2000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_prompt_chars = max_prompt_chars

    @validates("prompt")
    def _check_prompt(self, value: str, **_: Any) -> None:
        text = value.strip()
        if not text:
            raise ValidationError("must not be empty")
        if len(text) > self.max_prompt_chars:
            raise ValidationError(f"is {len(text)} characters long; the limit is {self.max_prompt_chars}")


class ImageGenerationSchema(PromptSchema):
    ratio = fields.String(metadata={"example": "16:9"})
    resolution = fields.String(metadata={"enum": ["1k", "2k", "4k"]})
    size = fields.String(metadata={"example": "1792x1024"})
    n = fields.Integer(validate=validate.Range(min=1, max=4))
    negative_prompt = fields.String(load_default="")
    sample_strength = fields.Float(load_default=0.5, validate=validate.Range(min=0, max=1))
    seed = fields.Integer(validate=validate.Range(min=0, max=2**32 - 1))

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
        data["prompt"] = data["prompt"].strip()
        return ImageRequest(**data)


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
