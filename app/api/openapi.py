"""/openapi.json, generated from the app's own routes and marshmallow schemas, so docs cannot drift.

A view carries its documentation with ``@documented(...)`` under its route decorator; the spec walks the
app's URL map, so the paths, methods and path parameters are the routes themselves. The enums of ``model``,
``ratio``, ``resolution`` and ``duration`` are read from the same tables the planner checks requests against.
The document is built on the first request for it; apispec is imported then, not when a worker boots.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, current_app, jsonify
from marshmallow import Schema

from app.api.schemas import ErrorSchema, ImageCompositionSchema, ImageGenerationSchema, VideoGenerationSchema
from app.domain.catalog import Catalog
from app.version import __version__

bp = Blueprint("openapi", __name__)
View = TypeVar("View", bound=Callable[..., Any])
OPERATION_ATTRIBUTE = "openapi_operation"
_RULE_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")

ERROR_STATUSES = {
    "400": "Invalid request",
    "401": "Missing or expired session",
    "402": "Not enough credits",
    "404": "Not found",
    "405": "Method not allowed",
    "413": "Body or image too large",
    "415": "Unsupported content type",
    "422": "Idempotency-Key already used with another body (idempotency_key_reused)",
    "429": "Jimeng rate limit",
    "502": "Jimeng failed",
    "503": "Restarting (service_restarting: with a history_id, fetch it later) or shared store down",
    "504": "Deadline passed; history_id lets you fetch the result later",
}


@dataclass(frozen=True, kw_only=True)
class Operation:
    summary: str
    response: type[Schema] | str | None = None
    request: type[Schema] | None = None
    multipart: type[Schema] | None = None
    auth: bool = False
    errors: tuple[str, ...] = ()
    accepted: type[Schema] | None = None  # the 202 body of "async": true
    events: type[Schema] | None = None  # each event's data of the 200 text/event-stream answer of "stream": true


def documented(**kwargs: Any) -> Callable[[View], View]:
    """Attach an OpenAPI operation to a view (put it under the route decorator)."""
    operation = Operation(**kwargs)

    def attach(view: View) -> View:
        setattr(view, OPERATION_ATTRIBUTE, operation)
        return view

    return attach


def requires_auth(view: Callable[..., Any]) -> bool:
    """Whether a view is documented with ``auth=True``: its caller's credentials are checked before it runs."""
    operation = getattr(view, OPERATION_ATTRIBUTE, None)
    return operation is not None and operation.auth


def undocumented_endpoints(app: Flask) -> list[str]:
    """Routes without ``@documented``: a test keeps this empty."""
    return sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not hasattr(app.view_functions[rule.endpoint], OPERATION_ATTRIBUTE)
    )


def build_spec(app: Flask) -> dict[str, Any]:
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

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
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        operation = getattr(app.view_functions[rule.endpoint], OPERATION_ATTRIBUTE, None)
        if operation is None:
            continue
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in sorted(rule.arguments)
        ]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(_RULE_ARGUMENT.sub(r"{\1}", rule.rule), {})[method.lower()] = _operation_dict(
                operation, parameters
            )
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    _add_table_enums(document, app.extensions["catalog"].current())
    return document


def _media(schema: type[Schema] | str | None) -> dict[str, Any]:
    if schema is None:
        return {}
    if isinstance(schema, str):
        return {"content": {schema: {"schema": {"type": "string"}}}}
    return {"content": {"application/json": {"schema": schema}}}


def _operation_dict(op: Operation, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": "OK", **_media(op.response)}}
    if op.events is not None:
        responses["200"]["description"] = "OK (stream: true: text/event-stream, each event's data as described)"
        responses["200"].setdefault("content", {})["text/event-stream"] = {"schema": op.events}
    if op.accepted is not None:
        responses["202"] = {"description": "Accepted: the generation runs on (async)", **_media(op.accepted)}
    for status in op.errors:
        responses[status] = {"description": ERROR_STATUSES[status], **_media(ErrorSchema)}
    result: dict[str, Any] = {"summary": op.summary, "responses": responses}
    if parameters:
        result["parameters"] = parameters
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


def table_enums(catalog: Catalog) -> dict[type[Schema], dict[str, list[Any]]]:
    """The allowed values of each request schema's table fields: what ``Planner`` accepts, from the same catalog
    (each model accepts its own subset, named in the planner's refusals and in ``/v1/models``)."""
    images, videos = catalog.images, catalog.videos
    image: dict[str, list[Any]] = {
        "model": [name for model in images for name in (model.id, *model.aliases)],
        "ratio": _union(ratio for model in images for table in model.tiers.values() for ratio in table),
        "resolution": sorted(_union(tier for model in images for tier in model.tiers), key=_tier_order),
    }
    video: dict[str, list[Any]] = {
        "model": [name for model in videos for name in (model.id, *model.aliases)],
        "ratio": _union(ratio for model in videos for ratio in model.ratios),
        "resolution": _union(resolution for model in videos for resolution in model.resolutions),
        "duration": sorted(_union(duration for model in videos for duration in model.durations)),
    }
    return {ImageGenerationSchema: image, ImageCompositionSchema: image, VideoGenerationSchema: video}


def _tier_order(tier: str) -> float:
    """ "1k" < "1.5k" < "2k" < "4k"; a tier named otherwise goes last."""
    try:
        return float(tier.removesuffix("k"))
    except ValueError:
        return float("inf")


def _union(values: Iterable[Any]) -> list[Any]:
    """Distinct values in first-seen order."""
    return list(dict.fromkeys(values))


def _add_table_enums(document: dict[str, Any], catalog: Catalog) -> None:
    from apispec.ext.marshmallow import resolver

    components = document.get("components", {}).get("schemas", {})
    for schema, enums in table_enums(catalog).items():
        properties = components.get(resolver(schema), {}).get("properties", {})
        for name, values in enums.items():
            if name in properties:
                properties[name]["enum"] = values


@bp.get("/openapi.json")
@documented(summary="This description", response="application/json")
def openapi_json() -> Response:
    cached = current_app.extensions.get("openapi")
    if cached is None:
        cached = current_app.extensions["openapi"] = build_spec(current_app)
    return jsonify(cached)
