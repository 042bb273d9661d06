"""/openapi.json, generated from the marshmallow schemas so the description cannot drift from validation.

Each endpoint module declares its operations with ``operation(...)`` next to its views; the spec is built
once per app from that table with apispec's marshmallow plugin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, current_app, jsonify
from marshmallow import Schema

from app.api.schemas import ErrorSchema, HealthSchema, ModelListSchema, ModelSchema
from app.version import __version__

bp = Blueprint("openapi", __name__)

ERROR_STATUSES = {
    "400": "Invalid request",
    "401": "Missing or expired session",
    "402": "Not enough credits",
    "404": "Not found",
    "413": "Body or image too large",
    "415": "Unsupported content type",
    "429": "Jimeng rate limit",
    "502": "Jimeng failed",
    "504": "Deadline passed; history_id lets you fetch the result later",
}


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    summary: str
    response: type[Schema] | str | None = None
    request: type[Schema] | None = None
    multipart: type[Schema] | None = None
    auth: bool = False
    errors: tuple[str, ...] = ()
    accepted: type[Schema] | None = None  # the 202 body of "async": true
    parameters: tuple[dict[str, Any], ...] = ()


OPERATIONS: list[Operation] = []


def operation(**kwargs: Any) -> None:
    """Declare one documented operation (called at import time by the endpoint modules)."""
    op = Operation(**kwargs)
    if op not in OPERATIONS:
        OPERATIONS.append(op)


def _media(schema: type[Schema] | str | None) -> dict[str, Any]:
    if schema is None:
        return {}
    if isinstance(schema, str):
        return {"content": {schema: {"schema": {"type": "string"}}}}
    return {"content": {"application/json": {"schema": schema}}}


def _operation_dict(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": "OK", **_media(op.response)}}
    if op.accepted is not None:
        responses["202"] = {"description": "Accepted: the generation runs on (async)", **_media(op.accepted)}
    for status in op.errors:
        responses[status] = {"description": ERROR_STATUSES[status], **_media(ErrorSchema)}
    result: dict[str, Any] = {"summary": op.summary, "responses": responses}
    if op.parameters:
        result["parameters"] = list(op.parameters)
    content: dict[str, Any] = {}
    if op.request is not None:
        content["application/json"] = {"schema": op.request}
    if op.multipart is not None:
        content["multipart/form-data"] = {"schema": op.multipart}
    if content:
        result["requestBody"] = {"required": True, "content": content}
    if op.auth:
        result["security"] = [{"bearer": []}]
    return result


def build_spec() -> dict[str, Any]:
    spec = APISpec(
        title="jimeng-api",
        version=__version__,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": "OpenAI-compatible endpoints in front of Jimeng AI image and video generation."},
    )
    spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "Jimeng sessionid(s), comma-separated"}
    )
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation_dict(op)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi_json() -> Response:
    cached = current_app.extensions.get("openapi")
    if cached is None:
        cached = current_app.extensions["openapi"] = build_spec()
    return jsonify(cached)


operation(path="/ping", method="get", summary="Liveness probe", response="text/plain")
operation(path="/healthz", method="get", summary="Health and version", response=HealthSchema)
operation(path="/", method="get", summary="Welcome page", response="text/html")
operation(path="/openapi.json", method="get", summary="This description", response="application/json")
operation(path="/v1/models", method="get", summary="List the models", response=ModelListSchema)
operation(
    path="/v1/models/{model_id}",
    method="get",
    summary="One model",
    response=ModelSchema,
    errors=("404",),
    parameters=({"name": "model_id", "in": "path", "required": True, "schema": {"type": "string"}},),
)
