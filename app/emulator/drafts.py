"""Validation of ``aigc_draft/generate`` bodies: JSON inside JSON, strictly checked (2026 notes 3.4, 3.5, 4.3;
the post-edit tools of 8 in ``post_edit``).

Every refusal is a ``DraftError`` whose message names the offending field. Its ``ret`` is None for invalid
parameters (answered "1000" in strict mode, the baseline's "4002" otherwise) or a specific code: "3018"
for a stale draft ``version``, "2061" for a retired model, "5001" for a wrong video benefit.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from app.emulator import image_models, intl_drafts, post_edit, tables, video_drafts
from app.emulator.draft_types import Committed, DraftError, DraftSpec, Parts, Rules, gen_option, obj, string

__all__ = ["DraftError", "DraftSpec", "Rules", "gen_option", "parse_generate"]

MAX_BASELINE_BLEND = 10


def _json_string(body: dict[str, Any], key: str) -> dict[str, Any]:
    """``draft_content`` and ``metrics_extra`` are JSON objects serialised into strings."""
    raw = string(body, key, "", empty=False)
    try:
        value = json.loads(raw)
    except ValueError as err:
        raise DraftError(f"{key} is not valid JSON: {err}") from err
    if not isinstance(value, dict):
        raise DraftError(f"{key} must hold a JSON object")
    return value


def _continuation(body: dict[str, Any]) -> tuple[int | None, str]:
    """``"action": 2`` with ``"history_id"`` asks to finish a record held at 42 (3.3)."""
    if "action" not in body:
        return None, ""
    if body["action"] != 2 or isinstance(body["action"], bool):
        raise DraftError(f"action must be the number 2, got {body['action']!r}")
    return 2, string(body, "history_id", "", empty=False)


def parse_generate(body: Any, committed: Committed, rules: Rules | None = None) -> DraftSpec:
    """Validate a generate body; ``committed`` tells whether an image URI went through ImageX here."""
    rules = rules or Rules()
    if not isinstance(body, dict):
        raise DraftError("body must be a JSON object")
    submit_id = string(body, "submit_id", "", empty=False)
    root_model = string(obj(body, "extend", ""), "root_model", "extend.", empty=False)
    _json_string(body, "metrics_extra")
    draft = _json_string(body, "draft_content")
    aid = obj(body, "http_common_info", "").get("aid")
    if type(aid) is not int or aid != rules.aid:
        raise DraftError(f"http_common_info.aid must be the number {rules.aid}")
    components = draft.get("component_list")
    if draft.get("type") != "draft" or not isinstance(components, list) or not components:
        raise DraftError("draft_content must be a draft with a non-empty component_list")
    if rules.strict and draft.get("version") not in rules.versions:
        raise DraftError(f"draft version {draft.get('version')!r} is not accepted", "3018", "draft_version")
    if rules.strict and root_model in rules.retired:
        raise DraftError(f"model {root_model} is retired", "2061", "model_retired")
    component = components[0]
    kind = component.get("generate_type") if isinstance(component, dict) else None
    parsers = {"generate": _parse_generate, "blend": _parse_blend, "gen_video": video_drafts.parse_video}
    parsers |= dict.fromkeys(post_edit.TOOLS, post_edit.parse_post_edit)  # 8.1
    if kind not in parsers:
        raise DraftError(f"component_list[0].generate_type must be one of {', '.join(parsers)}, got {kind!r}")
    abilities = obj(component, "abilities", "component_list[0].")
    action, history_id = _continuation(body)
    parts = Parts(body, draft, component, abilities, root_model, submit_id, committed, rules)
    spec = parsers[kind](parts)
    intl_drafts.check(parts, kind)
    return dataclasses.replace(spec, action=action, history_id=history_id, draft=draft)


def _check_image_model(parts: Parts, core: dict[str, Any], where: str) -> str:
    known = parts.root_model in image_models.IMAGE_MODELS
    if not known and not (not parts.rules.strict and parts.root_model in tables.IMAGE_MODELS):
        raise DraftError(f"unknown image model key in extend.root_model: {parts.root_model}")
    if core.get("model") != parts.root_model:
        raise DraftError(f"{where}model must equal extend.root_model")
    return parts.root_model


def _check_size(parts: Parts, core: dict[str, Any], where: str) -> tuple[int, int, str]:
    info = obj(core, "large_image_info", where)
    code = core.get("image_ratio")
    if code is None and core.get("intelligent_ratio") is not True:
        raise DraftError(f"{where}image_ratio is required unless intelligent_ratio is true")
    width, height, tier = info.get("width"), info.get("height"), info.get("resolution_type")
    model = image_models.IMAGE_MODELS.get(parts.root_model)
    iptag = parts.rules.iptag_4k or not parts.rules.strict
    problem = (
        image_models.size_problem(model, width, height, code, tier, iptag_4k=iptag)
        if model
        else ("1000", "not a 2026 image model")
    )
    if problem and not parts.rules.strict and tables.size_problem(width, height, code, tier) is None:
        problem = None  # lenient: the baseline tables (12.3) still pass
    if problem:
        raise DraftError(f"{where}{problem[1]}")
    return width, height, tier  # type: ignore[return-value]


def _parse_generate(parts: Parts) -> DraftSpec:
    where = "abilities.generate.core_param."
    core = obj(obj(parts.abilities, "generate", "abilities."), "core_param", "abilities.generate.")
    model = _check_image_model(parts, core, where)
    prompt = string(core, "prompt", where, empty=False)
    width, height, tier = _check_size(parts, core, where)
    count, placement = gen_option(parts.abilities, "generate")
    return DraftSpec("generate", model, prompt, parts.submit_id, width, height, resolution=tier,
                     gen_count=count, gen_count_placement=placement)  # fmt: skip


def _blend_uris(blend: dict[str, Any], limit: int) -> tuple[str, ...]:
    """Both forms run (3.5): one ``byte_edit`` ability listing every image, or one ability per image."""
    entries = blend.get("ability_list")
    if not isinstance(entries, list) or not entries:
        raise DraftError("abilities.blend.ability_list must be a non-empty list")
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
    if len(uris) > limit:
        raise DraftError(f"abilities.blend holds {len(uris)} images, the model takes at most {limit}")
    return tuple(uris)


def _parse_blend(parts: Parts) -> DraftSpec:
    blend = obj(parts.abilities, "blend", "abilities.")
    where = "abilities.blend.core_param."
    core = obj(blend, "core_param", "abilities.blend.")
    model = _check_image_model(parts, core, where)
    prompt = string(core, "prompt", where)
    width, height, tier = _check_size(parts, core, where)
    entry = image_models.IMAGE_MODELS.get(model)
    if parts.rules.strict and entry is not None and "byte_edit" not in entry.feats:
        raise DraftError(f"model {model} does not blend (no byte_edit feat)")
    uris = _blend_uris(blend, entry.input_limit if entry and parts.rules.strict else MAX_BASELINE_BLEND)
    unknown = [uri for uri in uris if not parts.committed(uri)]
    if unknown:
        raise DraftError(f"image_uri was never uploaded through ImageX: {unknown[0]}")
    hashes = len(prompt) - len(prompt.lstrip("#"))
    count, placement = gen_option(parts.abilities, "blend")
    return DraftSpec("blend", model, prompt, parts.submit_id, width, height, uris, hashes, resolution=tier,
                     gen_count=count, gen_count_placement=placement)  # fmt: skip
