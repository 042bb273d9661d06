"""Request and response schemas (marshmallow). Requests load into domain dataclasses; responses only
document the shapes for /openapi.json."""

from __future__ import annotations

from marshmallow import Schema, fields


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
