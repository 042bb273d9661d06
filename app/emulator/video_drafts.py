"""Video drafts (2026 notes 4.2-4.6, checklist 14 and 15): model, resolution, duration, ratio, frames, commerce.

Strict mode wants the 2026 shape (``process_type: 1``, a resolution, a benefit the upstream knows). The lenient
parser also takes the baseline's video keys with the baseline rules (5 or 10 s, 720p or 1080p).
"""

from __future__ import annotations

from typing import Any

from app.emulator import tables, video_models
from app.emulator.draft_types import DraftError, DraftSpec, Parts, obj, string

DRAFT_MODE_MIN_VERSION = "3.3.28"
WHERE = "video_gen_inputs[0]."


def _inputs(params: dict[str, Any]) -> dict[str, Any]:
    inputs_list = params.get("video_gen_inputs")
    if not isinstance(inputs_list, list) or len(inputs_list) != 1 or not isinstance(inputs_list[0], dict):
        raise DraftError("text_to_video_params.video_gen_inputs must hold exactly one object")
    return inputs_list[0]


def _frame_uris(parts: Parts, inputs: dict[str, Any], offered: tuple[str, ...] | None) -> tuple[str, ...]:
    """First/last frame images: committed URIs, and only the kinds the model lists (``None``: any)."""
    uris: list[str] = []
    for key, media_type in (("first_frame_image", "first_frame"), ("end_frame_image", "end_frame")):
        if key not in inputs:
            continue
        if offered is not None and media_type not in offered:
            raise DraftError(f"{WHERE}{key}: this model takes no {media_type} (input_media_type)")
        frame = obj(inputs, key, WHERE)
        uri = string(frame, "image_uri", f"{WHERE}{key}.", empty=False)
        if not parts.committed(uri):
            raise DraftError(f"{key}.image_uri was never uploaded through ImageX: {uri}")
        uris.append(uri)
    return tuple(uris)


def _reference(parts: Parts, inputs: dict[str, Any], model: video_models.VideoModel) -> tuple[tuple[str, ...], bool]:
    """``unified_edit_input`` (4.7), loosely: image materials must be committed; a video material is noted."""
    if inputs.get("unified_edit_input") is None:
        return (), False
    if "unified_edit" not in model.inputs:
        raise DraftError(f"{WHERE}unified_edit_input: {model.key} takes no reference input")
    materials = obj(inputs, "unified_edit_input", WHERE).get("material_list")
    if not isinstance(materials, list) or not all(isinstance(m, dict) for m in materials):
        raise DraftError(f"{WHERE}unified_edit_input.material_list must be a list of objects")
    uris = tuple(
        str(m.get("image_info", {}).get("image_uri", "")) for m in materials if m.get("material_type") == "image"
    )
    unknown = [uri for uri in uris if not parts.committed(uri)]
    if unknown:
        raise DraftError(f"unified_edit_input image was never uploaded through ImageX: {unknown[0]!r}")
    return uris, any(m.get("material_type") == "video" for m in materials)


def _meta_text(inputs: dict[str, Any]) -> str:
    """In reference mode the prompt is ``""`` and the text sits in ``unified_edit_input.meta_list`` (4.7)."""
    edit = inputs.get("unified_edit_input")
    metas = edit.get("meta_list") if isinstance(edit, dict) else None
    if not isinstance(metas, list):
        return ""
    return " ".join(str(m.get("text", "")) for m in metas if isinstance(m, dict) and m.get("meta_type") == "text")


def _commerce(parts: Parts, model: video_models.VideoModel, resolution: str, input_video: bool) -> str:
    """``m_video_commerce_info``: a known ``benefit_type`` and an optional numeric ``amount`` (4.2)."""
    info = parts.body["extend"].get("m_video_commerce_info")
    if not isinstance(info, dict):
        raise DraftError("extend.m_video_commerce_info is missing", "5001", "benefit_invalid")
    amount = info.get("amount")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int | float)):
        raise DraftError(f"m_video_commerce_info.amount must be a number, got {amount!r}", "5001", "benefit_invalid")
    benefit = info.get("benefit_type")
    if benefit not in model.benefit_types(resolution, input_video):
        message = f"benefit_type {benefit!r} is not a benefit of {model.key} at {resolution}"
        raise DraftError(message, "5001", "benefit_invalid")
    return str(benefit)


def _resolution(inputs: dict[str, Any], model: video_models.VideoModel, strict: bool) -> str:
    resolution = inputs.get("resolution", None if strict else model.resolutions[0])
    if not isinstance(resolution, str) or resolution.lower() not in model.resolutions:
        raise DraftError(f"{WHERE}resolution must be one of {', '.join(model.resolutions)}, got {resolution!r}")
    return resolution.lower()


def _duration(inputs: dict[str, Any], seconds: tuple[int, ...]) -> int:
    duration = inputs.get("duration_ms")
    if type(duration) is not int or duration % 1000 or duration // 1000 not in seconds:
        raise DraftError(f"{WHERE}duration_ms must be {seconds[0]}-{seconds[-1]} whole seconds, got {duration!r}")
    return duration


def parse_video(parts: Parts) -> DraftSpec:
    params = obj(obj(parts.abilities, "gen_video", "abilities."), "text_to_video_params", "abilities.gen_video.")
    model = video_models.VIDEO_MODELS.get(parts.root_model)
    if parts.rules.strict or parts.root_model not in tables.VIDEO_MODELS:
        if model is None:
            raise DraftError(f"unknown video model key in extend.root_model: {parts.root_model}")
        return _parse_2026(parts, params, model)
    try:  # lenient, a baseline key: the 2026 rules if the draft meets them, else the baseline's
        return _parse_2026(parts, params, model) if model else _parse_baseline(parts, params)
    except DraftError:
        return _parse_baseline(parts, params)


def _parse_2026(parts: Parts, params: dict[str, Any], model: video_models.VideoModel) -> DraftSpec:
    if params.get("model_req_key") != parts.root_model:
        raise DraftError("text_to_video_params.model_req_key must equal extend.root_model")
    strict = parts.rules.strict
    if strict and parts.component.get("process_type") != 1:
        raise DraftError("component_list[0].process_type must be 1")
    if strict and model.draft_mode and parts.draft.get("min_version") != DRAFT_MODE_MIN_VERSION:
        raise DraftError(f"draft mode needs draft min_version {DRAFT_MODE_MIN_VERSION}", "1000", "draft_mode")
    ratio = params.get("video_aspect_ratio")
    if ratio not in model.ratios:
        raise DraftError(f"video_aspect_ratio must be one of {' '.join(model.ratios)}, got {ratio!r}")
    inputs = _inputs(params)
    duration = _duration(inputs, model.seconds)
    resolution = _resolution(inputs, model, strict)
    prompt = string(inputs, "prompt", WHERE) or _meta_text(inputs)
    uris = _frame_uris(parts, inputs, model.inputs)
    references, input_video = _reference(parts, inputs, model)
    benefit = _commerce(parts, model, resolution, input_video) if strict else ""
    width, height = video_models.video_size(str(ratio), resolution)
    return DraftSpec("gen_video", model.key, prompt, parts.submit_id, width, height, uris + references,
                     duration_ms=duration, resolution=resolution, benefit_type=benefit, input_video=input_video)  # fmt: skip


def _parse_baseline(parts: Parts, params: dict[str, Any]) -> DraftSpec:
    """The baseline's video rules (10.3, 12.2), for the lenient parser only."""
    if params.get("model_req_key") != parts.root_model:
        raise DraftError("text_to_video_params.model_req_key must equal extend.root_model")
    ratio = params.get("video_aspect_ratio")
    if ratio not in tables.VIDEO_RATIOS:
        raise DraftError(f"video_aspect_ratio must be one of {' '.join(tables.VIDEO_RATIOS)}, got {ratio!r}")
    inputs = _inputs(params)
    duration = inputs.get("duration_ms")
    if type(duration) is not int or duration not in tables.VIDEO_DURATIONS_MS:
        raise DraftError(f"{WHERE}duration_ms must be 5000 or 10000, got {duration!r}")
    resolution = inputs.get("resolution", "720p")
    if resolution not in tables.VIDEO_RESOLUTIONS:
        raise DraftError(f"{WHERE}resolution must be 720p or 1080p, got {resolution!r}")
    prompt = string(inputs, "prompt", WHERE)
    uris = _frame_uris(parts, inputs, None)
    width, height = video_models.video_size(str(ratio), resolution)
    return DraftSpec("gen_video", parts.root_model, prompt, parts.submit_id, width, height, uris,
                     duration_ms=duration, resolution=resolution)  # fmt: skip
