"""/v1/models: the model table of config/upstream.yml in OpenAI's list shape."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from app.api.openapi import documented
from app.api.schemas import ModelListSchema, ModelSchema
from app.domain.errors import NotFoundError
from config.upstream import ModelInfo

bp = Blueprint("models", __name__)
MODELS_CREATED = 1759104000  # 2025-09-29, the protocol baseline; OpenAI clients only display it


def model_entry(model: ModelInfo) -> dict[str, object]:
    return {
        "id": model.id,
        "object": "model",
        "created": MODELS_CREATED,
        "owned_by": "jimeng",
        "type": model.type,
        "description": model.description,
    }


@bp.get("/v1/models")
@documented(summary="List the models", response=ModelListSchema)
def list_models() -> Response:
    upstream = current_app.extensions["upstream"]
    return jsonify(object="list", data=[model_entry(m) for m in upstream.models])


@bp.get("/v1/models/<path:model_id>")
@documented(summary="One model", response=ModelSchema, errors=("404",))
def retrieve_model(model_id: str) -> Response:
    model = current_app.extensions["upstream"].model(model_id)
    if model is None:
        raise NotFoundError(f"Model {model_id!r} does not exist; GET /v1/models lists the models", param="model")
    return jsonify(model_entry(model))
