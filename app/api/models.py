"""/v1/models: the catalog requests are checked against, in OpenAI's list shape with what each model takes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from app.api.openapi import documented
from app.api.schemas import ModelListSchema, ModelSchema
from app.domain.catalog import ImageModel, Model
from app.domain.errors import NotFoundError

bp = Blueprint("models", __name__)
MODELS_CREATED = 1759104000  # 2025-09-29, the protocol baseline; OpenAI clients only display it


def model_entry(model: Model) -> dict[str, object]:
    return {
        "id": model.id,
        "object": "model",
        "created": MODELS_CREATED,
        "owned_by": "jimeng",
        "type": str(model.kind),
        "description": model.description,
        "capabilities": capabilities(model),
    }


def capabilities(model: Model) -> dict[str, Any]:
    """What a request may ask of the model: the planner's tables, so a client can choose before it asks."""
    if isinstance(model, ImageModel):
        return {
            "type": str(model.kind),
            "tiers": {tier: list(table) for tier, table in model.tiers.items()},
            "default_tier": model.default_tier,
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


@bp.get("/v1/models")
@documented(summary="List the models", response=ModelListSchema)
def list_models() -> Response:
    catalog = current_app.extensions["catalogs"].current()
    return jsonify(object="list", data=[model_entry(m) for m in (*catalog.images, *catalog.videos)])


@bp.get("/v1/models/<path:model_id>")
@documented(summary="One model", response=ModelSchema, errors=("404",))
def retrieve_model(model_id: str) -> Response:
    model = current_app.extensions["catalogs"].current().find(model_id)
    if model is None:
        raise NotFoundError(f"Model {model_id!r} does not exist; GET /v1/models lists the models", param="model")
    return jsonify(model_entry(model))
