"""/v1/models: the caller's model catalog in OpenAI's list shape, with what each model supports.

A caller with a usable ``Authorization`` sees its account's live tables (Jimeng's ``get_common_config``
merged with ``config/upstream.yml``); anyone else sees a catalog already cached for some account, or the
static one, and never causes an upstream call. The catalog source never raises and bounds its waits, so
these endpoints stay fast and answer even while Jimeng does not.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from app.api.context import catalog_source, service, sessions
from app.api.openapi import documented
from app.api.schemas import ModelListSchema, ModelSchema
from app.domain.catalog import Catalog, ImageModel, Model
from app.domain.errors import AuthenticationError, NotFoundError
from app.domain.models import GenerationKind
from app.domain.text import shown

bp = Blueprint("models", __name__)
MODELS_CREATED = 1759104000  # 2025-09-29, the protocol baseline; OpenAI clients only display it


def caller_catalog() -> Catalog:
    """The catalog of the caller's first session; without a usable Authorization, the cached or static one."""
    session_id = None
    if request.headers.get("Authorization"):
        try:
            session_id = sessions()[0]
        except AuthenticationError:
            session_id = None  # the list needs no Authorization: a bad one is simply anonymous
    return catalog_source().current(session_id)


def capabilities(model: Model) -> dict[str, object]:
    """What a request to this model may ask for: the planner's own tables for it."""
    if isinstance(model, ImageModel):
        return {
            "type": str(model.kind),
            "tiers": {
                tier: {ratio: f"{size.width}x{size.height}" for ratio, size in sizes.items()}
                for tier, sizes in model.tiers.items()
            },
            "default_tier": model.default_tier,
            "ratios": list(model.ratios),
            "count_options": list(model.count_options),
            "default_count": model.default_count,
            "blend": model.blend,
            "max_input_images": model.max_input_images,
            "aliases": list(model.aliases),
        }
    return {
        "type": str(model.kind),
        "resolutions": list(model.resolutions),
        "default_resolution": model.default_resolution,
        "ratios": list(model.ratios),
        "default_ratio": model.default_ratio,
        "durations": list(model.durations),
        "default_duration": model.default_duration,
        "frames": list(model.frames),
        "draft_mode": model.draft_mode,
        "aliases": list(model.aliases),
    }


def model_entry(model: Model) -> dict[str, object]:
    return {
        "id": model.id,
        "object": "model",
        "created": MODELS_CREATED,
        "owned_by": "jimeng",
        "type": str(model.kind),
        "description": model.description,
        "live": model.live,
        "capabilities": capabilities(model),
    }


def listed(catalog: Catalog) -> list[Model]:
    """Images then videos, each kind's default first, the rest in catalog order."""
    models: list[Model] = []
    for kind in GenerationKind:
        of_kind = catalog.models_of(kind)
        try:
            default: Model | None = catalog.default(kind)
        except LookupError:
            default = None
        models += [m for m in of_kind if m is default] + [m for m in of_kind if m is not default]
    return models


@bp.get("/v1/models")
@documented(summary="List the models", response=ModelListSchema)
def list_models() -> Response:
    return jsonify(object="list", data=[model_entry(m) for m in listed(caller_catalog())])


@bp.get("/v1/models/<path:model_id>")
@documented(
    summary="One model: any id the API accepts (an alias, a chat model with a suffix such as jimeng-4.0:16:9)",
    response=ModelSchema, errors=("404",),
)  # fmt: skip
def retrieve_model(model_id: str) -> Response:
    """The model's entry, its ``id`` the one asked for (clients compare it with what they asked), ``root`` the
    model's own id."""
    catalog = caller_catalog()
    model = service().chat_model(model_id, catalog)
    if model is None:
        retired = catalog.retired_model(model_id.partition(":")[0].strip())
        what = f"was retired by Jimeng (use {retired.replacement})" if retired else "does not exist"
        raise NotFoundError(f"Model {shown(model_id)} {what}; GET /v1/models lists the models", param="model")
    return jsonify({**model_entry(model), "id": model_id, "root": model.id})
