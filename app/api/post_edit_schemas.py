"""Request schemas of the post-edit endpoints (/v1/images/upscale, /v1/images/outpaint): shapes only; every
rule is the planner's (``app/domain/post_edit_rules.py``)."""

from __future__ import annotations

import contextlib
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_load

from app.api.schemas import FormBoolean, FormInteger, StrictBoolean, StrictInteger
from app.domain.errors import InvalidRequestError
from app.domain.models import Padding, PostEditRequest, PostEditTool, ResponseFormat
from app.domain.post_edit_rules import SIDES, UPSCALE_TOOLS
from app.domain.sources import SOURCE_FORMS, ImageSource, ResultRef, Upload, parse_image_source

REFERENCE_FORM = 'or {"history_id": "...", "index": 0} of an earlier result'


def _reference(value: dict[str, Any]) -> ResultRef:
    history_id, index = value.get("history_id"), value.get("index", 0)
    if isinstance(history_id, int) and not isinstance(history_id, bool):
        history_id = str(history_id)
    if isinstance(index, str) and index.strip().isdigit() and len(index.strip()) <= 6:
        index = int(index)  # a multipart form sends it as text
    if not isinstance(history_id, str) or not history_id.strip():
        raise ValidationError("history_id must be a string of digits")
    if not isinstance(index, int) or isinstance(index, bool):
        raise ValidationError("index must be an integer")
    return ResultRef(history_id.strip(), index)


class PostEditSourceField(fields.Field):
    """The one input image: a URL or data URI string, ``{"url"}``, ``{"history_id", "index"}`` (an earlier
    result), or a multipart file (an ``Upload`` already)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> ImageSource | ResultRef:
        if isinstance(value, Upload):
            return value
        if isinstance(value, dict) and "history_id" in value:
            return _reference(value)
        try:
            return parse_image_source(value, param=attr or "image")
        except InvalidRequestError as err:
            raise ValidationError(f"must be {SOURCE_FORMS}, {REFERENCE_FORM}") from err

    def _jsonschema_type_mapping(self) -> dict[str, Any]:
        reference = {"history_id": {"type": "string"}, "index": {"type": "integer", "minimum": 0}}
        return {
            "oneOf": [
                {"type": "string"},
                {"type": "object", "properties": {"url": {"type": "string"}}},
                {"type": "object", "properties": reference, "required": ["history_id"]},
            ]
        }


class PaddingField(fields.Field):
    """How far an outpaint grows each side, as a share of the source: one number for every side, or
    ``{"top", "bottom", "left", "right"}`` (a missing side: 0)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Padding:
        if isinstance(value, str):  # a multipart form field
            with contextlib.suppress(ValueError):
                value = float(value.strip()) if len(value) <= 32 else value
        if isinstance(value, int | float) and not isinstance(value, bool):
            share = float(value)
            return Padding(top=share, bottom=share, left=share, right=share)
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(SIDES))
            if unknown:
                raise ValidationError(f"unknown side {unknown[0]!r}; sides: {', '.join(SIDES)}")
            sides = {side: value.get(side, 0) for side in SIDES}
            if all(isinstance(v, int | float) and not isinstance(v, bool) for v in sides.values()):
                return Padding(**{side: float(v) for side, v in sides.items()})
        raise ValidationError("must be a number or an object of numbers top, bottom, left, right")

    def _jsonschema_type_mapping(self) -> dict[str, Any]:
        side = {"type": "number", "minimum": 0}
        return {"oneOf": [side, {"type": "object", "properties": dict.fromkeys(SIDES, side)}]}


class PostEditSchema(Schema):
    """What both endpoints take. ``history_id`` and ``index`` at the top level are the same as an ``image``
    object holding them."""

    class Meta:
        unknown = EXCLUDE

    image = PostEditSourceField(
        load_default=None,
        metadata={"description": f"The image: an http(s) URL, a data URI, {{url}}, {REFERENCE_FORM}; multipart: "
                  "the file field image"},
    )  # fmt: skip
    model = fields.String(metadata={"description": "The image model named in the draft (default: the default model)"})
    response_format = fields.Enum(ResponseFormat, by_value=True, load_default=ResponseFormat.URL)
    output_format = fields.String(metadata={"enum": ["png", "jpeg", "webp"], "description": "b64_json: re-encoded"})
    output_compression = StrictInteger(metadata={"minimum": 0, "maximum": 100})
    run_async = StrictBoolean(data_key="async", load_default=False, metadata={"description": "Answer 202 at once"})
    stream = StrictBoolean(load_default=False, metadata={"description": "Server-sent image_edit.completed events"})
    n = StrictInteger(metadata={"minimum": 1, "maximum": 4, "description": "outpaint: images to make (1-4, default "
                                "1); an upscale makes one"})  # fmt: skip

    @pre_load
    def _top_level_reference(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and "history_id" in data and data.get("image") in (None, ""):
            data = {**data, "image": {"history_id": data["history_id"], "index": data.get("index", 0)}}
        return data

    def _request(self, data: dict[str, Any], **fields_: Any) -> PostEditRequest:
        return PostEditRequest(**data, **fields_)


class UpscaleSchema(PostEditSchema):
    mode = fields.String(
        metadata={
            "enum": [tool.value for tool in UPSCALE_TOOLS],
            "description": "normal_hd (超清, default), pro_hd (智能超清), super_resolution (细节修复: an earlier "
            "result only)",
        }
    )
    resolution = fields.String(metadata={"enum": ["1k", "2k", "4k"], "description": "pro_hd only (default 2k)"})

    @post_load
    def _make_request(self, data: dict[str, Any], **_: Any) -> PostEditRequest:
        return self._request(data, tool=data.pop("mode", None))


class OutpaintSchema(PostEditSchema):
    ratio = fields.String(metadata={"example": "16:9", "description": "The result's aspect ratio (or padding)"})
    padding = PaddingField(metadata={"description": "How far each side grows, as a share of the source (or ratio)"})

    @post_load
    def _make_request(self, data: dict[str, Any], **_: Any) -> PostEditRequest:
        return self._request(data, tool=PostEditTool.PAINTING.value)


class UpscaleFormSchema(UpscaleSchema):
    """An upscale sent as multipart/form-data: numbers and booleans read from their text."""

    n = FormInteger(metadata={"minimum": 1, "maximum": 1})
    output_compression = FormInteger(metadata={"minimum": 0, "maximum": 100})
    run_async = FormBoolean(data_key="async", load_default=False, metadata={"description": "Answer 202 at once"})
    stream = FormBoolean(load_default=False, metadata={"description": "Server-sent image_edit.completed events"})


class OutpaintFormSchema(OutpaintSchema):
    """An outpaint sent as multipart/form-data: numbers and booleans read from their text."""

    output_compression = FormInteger(metadata={"minimum": 0, "maximum": 100})
    run_async = FormBoolean(data_key="async", load_default=False, metadata={"description": "Answer 202 at once"})
    stream = FormBoolean(load_default=False, metadata={"description": "Server-sent image_edit.completed events"})
    n = FormInteger(metadata={"minimum": 1, "maximum": 4})
