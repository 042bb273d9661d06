"""Validation of ``aigc_draft/generate`` bodies (sections 7, 8, 10): JSON inside JSON, strictly checked.

Every refusal is a ``DraftError`` whose message names the offending field, answered as ret "4002".
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from app.emulator import tables

AID = 513695
GENERATE_TYPES = ("generate", "blend", "gen_video")
MAX_BLEND_IMAGES = 10


class DraftError(ValueError):
    """A generate body the upstream would refuse as invalid parameters."""


@dataclasses.dataclass(frozen=True)
class DraftSpec:
    """What a valid draft asks for, reduced to what the emulator needs."""

    kind: str  # "generate", "blend" or "gen_video"
    model: str
    prompt: str
    submit_id: str
    width: int
    height: int
    image_uris: tuple[str, ...] = ()
    hash_prefix: int = 0
    duration_ms: int = 0


def _obj(parent: Any, key: str, where: str) -> dict[str, Any]:
    value = parent.get(key) if isinstance(parent, dict) else None
    if not isinstance(value, dict):
        raise DraftError(f"{where}{key} must be an object")
    return value


def _str(parent: dict[str, Any], key: str, where: str, *, empty: bool = True) -> str:
    value = parent.get(key)
    if not isinstance(value, str) or (not empty and not value):
        raise DraftError(f"{where}{key} must be a {'' if empty else 'non-empty '}string")
    return value


def _json_string(body: dict[str, Any], key: str) -> dict[str, Any]:
    """``draft_content`` and ``metrics_extra`` are JSON objects serialised into strings."""
    raw = _str(body, key, "", empty=False)
    try:
        value = json.loads(raw)
    except ValueError as err:
        raise DraftError(f"{key} is not valid JSON: {err}") from err
    if not isinstance(value, dict):
        raise DraftError(f"{key} must hold a JSON object")
    return value


def parse_generate(body: Any, committed: Callable[[str], bool]) -> DraftSpec:
    """Validate a generate body; ``committed`` tells whether an image URI went through ImageX here."""
    if not isinstance(body, dict):
        raise DraftError("body must be a JSON object")
    submit_id = _str(body, "submit_id", "", empty=False)
    root_model = _str(_obj(body, "extend", ""), "root_model", "extend.", empty=False)
    _json_string(body, "metrics_extra")
    draft = _json_string(body, "draft_content")
    aid = _obj(body, "http_common_info", "").get("aid")
    if type(aid) is not int or aid != AID:
        raise DraftError(f"http_common_info.aid must be the number {AID}")
    components = draft.get("component_list")
    if draft.get("type") != "draft" or not isinstance(components, list) or not components:
        raise DraftError("draft_content must be a draft with a non-empty component_list")
    component = components[0]
    if not isinstance(component, dict) or component.get("generate_type") not in GENERATE_TYPES:
        raise DraftError(f"component_list[0].generate_type must be one of {', '.join(GENERATE_TYPES)}")
    abilities = _obj(component, "abilities", "component_list[0].")
    parse = {"generate": _parse_generate, "blend": _parse_blend, "gen_video": _parse_video}
    return parse[component["generate_type"]](abilities, root_model, submit_id, committed)


def _check_image_model(core: dict[str, Any], root_model: str, where: str) -> str:
    if root_model not in tables.IMAGE_MODELS:
        raise DraftError(f"unknown image model key in extend.root_model: {root_model}")
    if core.get("model") != root_model:
        raise DraftError(f"{where}model must equal extend.root_model")
    return root_model


def _check_size(core: dict[str, Any], where: str) -> tuple[int, int]:
    info = _obj(core, "large_image_info", where)
    code = core.get("image_ratio")
    if code is None and core.get("intelligent_ratio") is not True:
        raise DraftError(f"{where}image_ratio is required unless intelligent_ratio is true")
    problem = tables.size_problem(info.get("width"), info.get("height"), code, info.get("resolution_type"))
    if problem:
        raise DraftError(f"{where}{problem}")
    return info["width"], info["height"]


def _parse_generate(abilities: dict[str, Any], root_model: str, submit_id: str, _: Any) -> DraftSpec:
    where = "abilities.generate.core_param."
    core = _obj(_obj(abilities, "generate", "abilities."), "core_param", "abilities.generate.")
    model = _check_image_model(core, root_model, where)
    prompt = _str(core, "prompt", where, empty=False)
    width, height = _check_size(core, where)
    return DraftSpec("generate", model, prompt, submit_id, width, height)


def _blend_uris(blend: dict[str, Any]) -> tuple[str, ...]:
    entries = blend.get("ability_list")
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_BLEND_IMAGES:
        raise DraftError(f"abilities.blend.ability_list must hold 1 to {MAX_BLEND_IMAGES} entries")
    uris: list[str] = []
    for index, entry in enumerate(entries):
        images = entry.get("image_list") if isinstance(entry, dict) else None
        if not isinstance(images, list) or not images or not all(isinstance(i, dict) for i in images):
            raise DraftError(f"abilities.blend.ability_list[{index}].image_list must be a non-empty list")
        listed = entry.get("image_uri_list", [])
        found = [image.get("image_uri") for image in images] + (listed if isinstance(listed, list) else [None])
        if not all(isinstance(uri, str) and uri for uri in found):
            raise DraftError(f"abilities.blend.ability_list[{index}] has a missing or bad image_uri")
        uris.extend(uri for uri in found if uri not in uris)
    return tuple(uris)


def _parse_blend(
    abilities: dict[str, Any], root_model: str, submit_id: str, committed: Callable[[str], bool]
) -> DraftSpec:
    blend = _obj(abilities, "blend", "abilities.")
    where = "abilities.blend.core_param."
    core = _obj(blend, "core_param", "abilities.blend.")
    model = _check_image_model(core, root_model, where)
    prompt = _str(core, "prompt", where)
    width, height = _check_size(core, where)
    uris = _blend_uris(blend)
    unknown = [uri for uri in uris if not committed(uri)]
    if unknown:
        raise DraftError(f"image_uri was never uploaded through ImageX: {unknown[0]}")
    hashes = len(prompt) - len(prompt.lstrip("#"))
    return DraftSpec("blend", model, prompt, submit_id, width, height, uris, hashes)


def _frame_uris(inputs: dict[str, Any], committed: Callable[[str], bool]) -> tuple[str, ...]:
    uris: list[str] = []
    for key in ("first_frame_image", "end_frame_image"):
        if key not in inputs:
            continue
        frame = _obj(inputs, key, "video_gen_inputs[0].")
        uri = _str(frame, "image_uri", f"video_gen_inputs[0].{key}.", empty=False)
        if not committed(uri):
            raise DraftError(f"{key}.image_uri was never uploaded through ImageX: {uri}")
        uris.append(uri)
    return tuple(uris)


def _parse_video(
    abilities: dict[str, Any], root_model: str, submit_id: str, committed: Callable[[str], bool]
) -> DraftSpec:
    params = _obj(_obj(abilities, "gen_video", "abilities."), "text_to_video_params", "abilities.gen_video.")
    if root_model not in tables.VIDEO_MODELS:
        raise DraftError(f"unknown video model key in extend.root_model: {root_model}")
    if params.get("model_req_key") != root_model:
        raise DraftError("text_to_video_params.model_req_key must equal extend.root_model")
    ratio = params.get("video_aspect_ratio")
    if ratio not in tables.VIDEO_RATIOS:
        raise DraftError(f"video_aspect_ratio must be one of {' '.join(tables.VIDEO_RATIOS)}, got {ratio!r}")
    inputs_list = params.get("video_gen_inputs")
    if not isinstance(inputs_list, list) or len(inputs_list) != 1 or not isinstance(inputs_list[0], dict):
        raise DraftError("text_to_video_params.video_gen_inputs must hold exactly one object")
    inputs = inputs_list[0]
    duration = inputs.get("duration_ms")
    if type(duration) is not int or duration not in tables.VIDEO_DURATIONS_MS:
        raise DraftError(f"video_gen_inputs[0].duration_ms must be 5000 or 10000, got {duration!r}")
    resolution = inputs.get("resolution", "720p")
    if resolution not in tables.VIDEO_RESOLUTIONS:
        raise DraftError(f"video_gen_inputs[0].resolution must be 720p or 1080p, got {resolution!r}")
    prompt = _str(inputs, "prompt", "video_gen_inputs[0].")
    uris = _frame_uris(inputs, committed)
    width, height = tables.video_size(ratio, resolution)
    return DraftSpec("gen_video", root_model, prompt, submit_id, width, height, uris, duration_ms=duration)
