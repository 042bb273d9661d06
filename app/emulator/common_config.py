"""The two model tables the server publishes (2026 notes 7.1, 7.2), built from the emulator's catalogs.

Retired keys (config ``retired_models``) are left out. ``image_config_failure`` / ``video_config_failure``
make an answer fail ("http_500", "empty" for an empty ``model_list``, or a ret code) so that a client's
fallback to its static tables can be tested.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from app.emulator import image_models, rets, sites, video_models
from app.emulator.context import Ctx, Refused, json_response
from app.emulator.state import Account

VIDEO_SCENES = ("video_generate", "generate_video")
DURATION_RANGE = {"min_duration_ms": 4000, "max_duration_ms": 15000}


def _image_entry(model: image_models.ImageModel) -> dict[str, Any]:
    resolution_map = {
        tier: {"resolution_name": image_models.TIER_NAMES[tier],
               "image_ratio_sizes": [{"ratio_type": code, "width": w, "height": h}
                                     for code in model.codes for w, h in [image_models.SIZES[tier][code]]]}
        for tier in model.tiers
    }  # fmt: skip
    return {
        "model_req_key": model.key,
        "model_name": model.name,
        "model_tip": model.tip,
        "is_new_model": model.is_new,
        "feats": list(model.feats),
        "generate_count_options": list(model.counts),
        "default_generate_count": model.default_count,
        "resolution_map": resolution_map,
        "default_resolution_type": model.default_tier,
        "input_image_limit": [{"max_image_num": model.input_limit, "ability_name": "byte_edit"}],
        "sample_steps": {"steps": 16, "min_steps": 10, "max_steps": 41},
        "commercial_config": {"image_model_commerce_config": {"base": {"default": {"benefit_type": model.benefit}}}},
        "extra": {},
        "duration_option": None,
        "video_aspect_ratio_option": None,
        "fps": 0,
    }


def _failure(ctx: Ctx, failure: str) -> Response | None:
    if failure == "http_500":
        return json_response({"error": "emulated config failure"}, 500)
    if failure and failure != "empty":
        raise Refused(failure, rets.message(failure), "config_failure")
    return None


def image_config(ctx: Ctx, account: Account, body: dict[str, Any]) -> Response:
    """``POST /mweb/v1/get_common_config``: any object body (a ``model`` argument is ignored)."""
    failed = _failure(ctx, ctx.config.image_config_failure)
    if failed is not None:
        return failed
    retired = set(ctx.config.retired_models)
    models = [] if ctx.config.image_config_failure == "empty" else [
        _image_entry(model) for key, model in image_models.IMAGE_MODELS.items()
        if key not in retired and sites.lists_image(ctx.cluster, key)
    ]  # fmt: skip
    return ctx.ok({"default_model_index": 0, "default_model_idx": 0, "model_list": models})


def video_config(ctx: Ctx, account: Account, body: dict[str, Any]) -> Response:
    """``POST /mweb/v1/video_generate/get_common_config``: ``{"scene": "video_generate"|"generate_video",
    "params": {...}}`` or ``{}`` answer the list; other scenes (lip sync) an empty one."""
    failed = _failure(ctx, ctx.config.video_config_failure)
    if failed is not None:
        return failed
    if "params" in body and not isinstance(body["params"], dict):
        raise Refused(None, "invalid parameters: params must be an object", "body_invalid")
    retired = set(ctx.config.retired_models)
    listed = body.get("scene", "video_generate") in VIDEO_SCENES and ctx.config.video_config_failure != "empty"
    models = [
        video_models.config_entry(m) for key, m in video_models.VIDEO_MODELS.items()
        if key not in retired and sites.lists_video(ctx.cluster, key)
    ]  # fmt: skip
    resolutions = sorted({res for m in video_models.VIDEO_MODELS.values() for res in m.resolutions},
                         key=lambda res: video_models.SHORT_SIDES[res])  # fmt: skip
    return ctx.ok({
        "default_model_idx": 0,
        "max_batch_gen_count": 4,
        "video_duration_display_range": dict(DURATION_RANGE),
        "video_resolution_display_list": [{"value": res, "text": res.upper()} for res in resolutions],
        "model_list": models if listed else [],
    })  # fmt: skip
