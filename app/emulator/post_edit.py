"""The post-edit tools (2026 notes 8, checklist 16): 超清 ``normal_hd``, 智能超清 ``pro_hd``, 细节修复
``super_resolution`` and 扩图 ``painting``, image drafts on ``aigc_draft/generate``.

The draft's one ``image_base_component`` names the tool in ``generate_type`` (and its ``gen_type``: 13, 35
(may be absent), 8; absent for 细节修复); ``abilities.<tool>.postedit_param.generate_type`` is 13, 35, 8 or 2.
The input is an image uploaded through ImageX here (``origin_image``, 8.2) or an item of one of the account's
finished generations (``item_id`` and ``origin_history_id``, integers, with a ``core_param``, 8.3). 智能超清
needs ``hd_scene_type``, ``original_image_strength``, ``detail_strength`` and ``resolution_type``; 扩图 an
``up_scale`` with four non-negative side shares, ``max_size`` and ``image_ratio``.

Results: the upscaling tools make an image twice the source's width and height (2048² -> 4096², 8.1); an
outpaint makes the source grown by each side's share of it. One image, or ``gen_count`` (1-4) when
``abilities.gen_option`` has it; an outpaint without it makes 4.
"""

from __future__ import annotations

from typing import Any

from app.emulator import image_models
from app.emulator.draft_types import DraftError, DraftSpec, Parts, gen_option, obj

# tool -> (component gen_type: None = must be absent, "optional" = may be absent; postedit_param.generate_type)
TOOLS: dict[str, tuple[int | None, bool, int]] = {
    "normal_hd": (13, False, 13),
    "pro_hd": (35, True, 35),
    "painting": (8, False, 8),
    "super_resolution": (None, True, 2),
}
UPSCALE = 2  # the upscaling tools double each side (8.1: 2048² -> 4096²)
PRO_HD_MEMBERS = ("hd_scene_type", "original_image_strength", "detail_strength", "resolution_type")
PRO_HD_TIERS = ("1k", "2k", "4k")
SIDES = ("top", "bottom", "left", "right")
MAX_COUNT = 4
PAINTING_DEFAULT_COUNT = 4


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_gen_type(parts: Parts, tool: str) -> None:
    gen_type, optional, _ = TOOLS[tool]
    present = "gen_type" in parts.component
    if gen_type is None and present:
        raise DraftError(f"component_list[0].gen_type must be absent for {tool}")
    if gen_type is not None and not (present or optional):
        raise DraftError(f"component_list[0].gen_type is required for {tool} ({gen_type})")
    if gen_type is not None and present and parts.component["gen_type"] != gen_type:
        raise DraftError(f"component_list[0].gen_type must be {gen_type} for {tool}")


def _source(parts: Parts, ability: dict[str, Any], postedit: dict[str, Any], where: str) -> dict[str, Any]:
    """The input: ``{"uri"}`` of an uploaded image, or ``{"item_id", "history_id"}`` of an earlier result."""
    origin = postedit.get("origin_image")
    if origin is not None:
        if not isinstance(origin, dict) or origin.get("type") != "image" or origin.get("source_from") != "upload":
            raise DraftError(f"{where}postedit_param.origin_image must be an uploaded image object")
        uri = origin.get("image_uri")
        if not isinstance(uri, str) or not uri or origin.get("uri") != uri:
            raise DraftError(f"{where}postedit_param.origin_image needs image_uri (and the same uri)")
        if not parts.committed(uri):
            raise DraftError(f"image_uri was never uploaded through ImageX: {uri}")
        return {"uri": uri}
    item_id, history_id = postedit.get("item_id"), postedit.get("origin_history_id")
    if item_id is None and history_id is None:
        raise DraftError(f"{where}postedit_param needs origin_image, or item_id with origin_history_id")
    if type(item_id) is not int or type(history_id) is not int:
        raise DraftError(f"{where}postedit_param.item_id and origin_history_id must be integers")
    core = obj(ability, "core_param", where)
    if core.get("generate_type") != 0:
        raise DraftError(f"{where}core_param.generate_type must be 0")
    return {"item_id": str(item_id), "history_id": str(history_id)}


def _pro_hd(ability: dict[str, Any], where: str) -> str:
    missing = [name for name in PRO_HD_MEMBERS if name not in ability]
    if missing:
        raise DraftError(f"{where}{missing[0]} is required")
    for name in ("original_image_strength", "detail_strength"):
        if not _number(ability[name]) or not 0 <= ability[name] <= 1:
            raise DraftError(f"{where}{name} must be a number from 0 to 1")
    if ability["resolution_type"] not in PRO_HD_TIERS:
        raise DraftError(f"{where}resolution_type must be one of {', '.join(PRO_HD_TIERS)}")
    return str(ability["resolution_type"])


def _up_scale(ability: dict[str, Any], where: str) -> tuple[float, float, float, float]:
    up_scale = obj(ability, "up_scale", where)
    sides = tuple(up_scale.get(side) for side in SIDES)
    if not all(_number(v) and v >= 0 for v in sides):  # type: ignore[operator]
        raise DraftError(f"{where}up_scale.top/bottom/left/right must be numbers >= 0")
    if type(up_scale.get("max_size")) is not int or up_scale["max_size"] <= 0:
        raise DraftError(f"{where}up_scale.max_size must be a positive integer")
    if type(up_scale.get("image_ratio")) is not int:
        raise DraftError(f"{where}up_scale.image_ratio must be an integer")
    return tuple(float(v) for v in sides)  # type: ignore[arg-type, return-value]


def parse_post_edit(parts: Parts) -> DraftSpec:
    tool = parts.component["generate_type"]
    if parts.rules.strict and parts.root_model not in image_models.IMAGE_MODELS:
        raise DraftError(f"unknown image model key in extend.root_model: {parts.root_model}")
    _check_gen_type(parts, tool)
    where = f"abilities.{tool}."
    ability = obj(parts.abilities, tool, "abilities.")
    postedit = obj(ability, "postedit_param", where)
    if postedit.get("generate_type") != TOOLS[tool][2]:
        raise DraftError(f"{where}postedit_param.generate_type must be {TOOLS[tool][2]} for {tool}")
    info: dict[str, Any] = {"tool": tool, **_source(parts, ability, postedit, where)}
    tier = _pro_hd(ability, where) if tool == "pro_hd" else ""
    if tool == "painting":
        info["padding"] = _up_scale(ability, where)
    count, placement = gen_option(parts.abilities, tool)
    uris = (info["uri"],) if "uri" in info else ()
    return DraftSpec(tool, parts.root_model, "", parts.submit_id, 0, 0, uris, resolution=tier, gen_count=count,
                     gen_count_placement=placement, post_edit=info)  # fmt: skip


def count(spec: DraftSpec) -> int:
    """Images a post edit makes: ``gen_count`` (1-4) when placed right, else 1 (4 for an outpaint)."""
    wanted = spec.gen_count if spec.gen_count_placement == "abilities" else None
    if type(wanted) is int and 1 <= wanted <= MAX_COUNT:
        return wanted
    return PAINTING_DEFAULT_COUNT if spec.kind == "painting" else 1


def result_size(tool: str, width: int, height: int, padding: tuple[float, ...] | None) -> tuple[int, int]:
    """The result's pixels from the source's."""
    if tool == "painting" and padding is not None:
        top, bottom, left, right = padding
        return round(width * (1 + left + right)), round(height * (1 + top + bottom))
    return width * UPSCALE, height * UPSCALE


def source_size(state: Any, session_id: str, info: dict[str, Any], now: float) -> tuple[int, int] | str:
    """The input's pixels: the upload's (as ImageX read them) or the earlier result's; else why not."""
    if "uri" in info:
        slot = state.slots.get(info["uri"])
        uploaded = slot.uploaded if slot is not None else None
        if not uploaded or not uploaded.get("width") or not uploaded.get("height"):
            return f"the uploaded image {info['uri']} has no known size"
        return int(uploaded["width"]), int(uploaded["height"])
    history_id, item_id = info["history_id"], info["item_id"]
    origin = state.find(session_id, history_id=history_id)
    if origin is None or origin.kind == "video":
        return f"origin_history_id {history_id} is not an image record of this account"
    index = item_id[len(history_id) :] if item_id.startswith(history_id) else ""
    if len(index) != 2 or not index.isdigit() or int(index) >= origin.snapshot(now).visible_items:
        return f"item_id {item_id} is not a finished item of record {history_id}"
    return origin.width, origin.height
