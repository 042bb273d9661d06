"""Jimeng's own model tables (``get_common_config``) read into the domain's model types.

Section numbers (§7.1 ...) are those of the 2026 edition of the protocol notes (see docs/upstream.md).

The answers are upstream data of unknown quality, so every reader here is total: a malformed entry is
skipped and logged once per process (the tables are read again every TTL), never raised, and one odd model
cannot take the list down with it. What an answer leaves out stays empty for the merge to fill from
``upstream.yml`` (``app/domain/catalog_merge.py``). Where the protocol document is unsure, ``TableReading``
holds the choice, defaulting to the document's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from app.domain.catalog import ImageModel, ImageSize, VideoModel
from app.domain.catalog_merge import LiveModels, new_model_id
from app.domain.errors import JimengError, RateLimitedError, SessionExpiredError
from app.jimeng.lenient import items, member, number, once, short, text, unique

M = TypeVar("M", ImageModel, VideoModel)
DEFAULT_INDEX_KEYS = ("default_model_index", "default_model_idx")  # images name it one way, videos the other

# §3.2: ``ratio_type`` (= the draft's ``image_ratio``) -> ratio
RATIO_BY_CODE: Mapping[int, str] = MappingProxyType(
    {1: "1:1", 2: "3:4", 3: "16:9", 4: "4:3", 5: "9:16", 6: "2:3", 7: "3:2", 8: "21:9"}
)
# §7.2: the body forms reported for the video list, in the document's order (the most recent run first)
VIDEO_BODIES: tuple[Mapping[str, Any], ...] = (
    {"scene": "video_generate", "params": {}},
    {"scene": "video_generate"},
    {"scene": "generate_video", "params": {"needCache": True}},
    {},
)
DEFAULT_TIER = "2k"  # §3.1: default_resolution_type is null for 5.0 Lite and 4.x
FPS = 24  # §7.2: frames are counted at 24 fps unless the model's fps option says otherwise
INPUT_FRAMES = ("first_frame", "end_frame")
FIXED_BATCH = 4  # §3.1: a model without count options makes the upstream's fixed batch


class DurationReading(StrEnum):
    """§7.2 UNVERIFIED: is a ``frames``/``duration_ms`` list every offered value, or a slider's range?"""

    LIST = "list"  # each value is a duration
    RANGE = "range"  # every whole second from the smallest to the largest value


@dataclass(frozen=True, kw_only=True)
class TableReading:
    """How to read the answers where the document is unsure; each default follows the document."""

    video_bodies: tuple[Mapping[str, Any], ...] = VIDEO_BODIES
    durations: DurationReading = DurationReading.LIST
    require_t2i: bool = True  # §7.3 step 2: an image model is offered when "t2i" is in its feats


# -- the calls --------------------------------------------------------------------------------------------


def first_video_answer(read: Callable[[Any], Any], reading: TableReading) -> Any:
    """``data`` of the first body form whose answer lists models (else the last answer's).

    A refusal of one form (an envelope ``ret``) tries the next; an expired session, throttling or a lost
    answer is raised at once, since another body cannot help.
    """
    data: Any = None
    refusal: JimengError | None = None
    for body in reading.video_bodies:
        try:
            data = read(copy.deepcopy(dict(body)))
        except (SessionExpiredError, RateLimitedError):
            raise
        except JimengError as err:
            if err.ret is None:
                raise
            refusal = err
            continue
        if items(member(data, "model_list")):
            return data
    if data is None and refusal is not None:
        raise refusal
    return data


# -- images (§7.1, §7.3 step 2) ---------------------------------------------------------------------------


def read_image_models(data: Any, reading: TableReading | None = None) -> LiveModels[ImageModel]:
    """The image models of a ``get_common_config`` answer's ``data``, in its order; never raises."""
    return _read_models(data, "image", _image_model, reading or TableReading(), DEFAULT_INDEX_KEYS)


def _image_model(entry: Any, reading: TableReading) -> ImageModel | None:
    key = text(member(entry, "model_req_key"))
    if not key:
        once("an image model without model_req_key was skipped")
        return None
    raw_feats = member(entry, "feats")
    feats = tuple(f for f in raw_feats if isinstance(f, str)) if isinstance(raw_feats, list) else None
    if reading.require_t2i and feats is not None and "t2i" not in feats:
        return None  # not a text-to-image model (an editing tool): not ours to offer
    tiers = _tiers(key, member(entry, "resolution_map"))
    if not tiers:
        once(f"image model {key} has no usable tier in resolution_map and was skipped")
        return None
    counts = unique(n for n in map(number, items(member(entry, "generate_count_options"))) if n is not None and n > 0)
    default_count = number(member(entry, "default_generate_count"))
    if default_count is None or default_count <= 0 or (counts and default_count not in counts):
        default_count = FIXED_BATCH if not counts or FIXED_BATCH in counts else counts[0]
    wanted = text(member(entry, "default_resolution_type"))
    default_tier = wanted if wanted in tiers else DEFAULT_TIER if DEFAULT_TIER in tiers else next(iter(tiers))
    blend = feats is not None and "byte_edit" in feats
    return ImageModel(
        id=new_model_id(key),
        key=key,
        description=_description(entry),
        tiers=MappingProxyType(tiers),
        default_tier=default_tier,
        count_options=counts,
        default_count=default_count,
        blend=blend,
        max_input_images=_blend_limit(member(entry, "input_image_limit")) if blend else 0,
        live=True,
    )


def _tiers(key: str, resolution_map: Any) -> dict[str, Mapping[str, ImageSize]]:
    tiers: dict[str, Mapping[str, ImageSize]] = {}
    for tier, spec in resolution_map.items() if isinstance(resolution_map, dict) else ():
        sizes: dict[str, ImageSize] = {}
        for row in items(member(spec, "image_ratio_sizes")):
            code = number(member(row, "ratio_type"))
            width, height = number(member(row, "width")) or 0, number(member(row, "height")) or 0
            if code is None or code not in RATIO_BY_CODE or min(width, height) <= 0:
                once(f"image model {key}, tier {tier}: size row {short(row)} is not usable and was skipped")
                continue
            sizes.setdefault(RATIO_BY_CODE[code], ImageSize(width, height, code))
        if isinstance(tier, str) and tier.strip() and sizes:
            tiers[tier.strip()] = MappingProxyType(sizes)
    return tiers


def _blend_limit(limits: Any) -> int:
    """``input_image_limit[ability_name="byte_edit"].max_image_num``; 0 when the answer does not say."""
    for limit in items(limits):
        if member(limit, "ability_name") == "byte_edit":
            count = number(member(limit, "max_image_num"))
            return count if count is not None and count > 0 else 0
    return 0


# -- videos (§7.2, §7.3 step 3) ---------------------------------------------------------------------------


def read_video_models(data: Any, reading: TableReading | None = None) -> LiveModels[VideoModel]:
    """The available video models (``model_status == 0``) of a video config answer's ``data``; never raises."""
    return _read_models(data, "video", _video_model, reading or TableReading(), DEFAULT_INDEX_KEYS[::-1])


def _read_models(
    data: Any,
    kind: str,
    read_one: Callable[[Any, TableReading], M | None],
    reading: TableReading,
    default_keys: tuple[str, str],
) -> LiveModels[M]:
    """Every usable entry of ``model_list`` once (by key), in answer order, and the answer's default."""
    entries = items(member(data, "model_list"))
    if not entries:
        once(f"the {kind} answer has no model_list")
    models: list[M] = []
    for entry in entries:
        model = read_one(entry, reading)
        if model is not None and all(model.key != other.key for other in models):
            models.append(model)
    return LiveModels(models=tuple(models), default_key=_default_key(data, entries, default_keys, models))


def _video_model(entry: Any, reading: TableReading) -> VideoModel | None:
    key = text(member(entry, "model_req_key"))
    if not key:
        once("a video model without model_req_key was skipped")
        return None
    status = number(member(entry, "model_status"))
    if status != 0:
        if status is None:
            once(f"video model {key} has no model_status and was skipped")
        return None
    options: dict[str, Any] = {}
    for option in items(member(entry, "options")):
        name = text(member(option, "key"))
        if name:
            options.setdefault(name, option)
    resolutions, resolution = _choice(options.get("resolution"), str.lower)
    if not resolutions:
        once(f"video model {key} lists no resolution and was skipped")
        return None
    ratios, ratio = _choice(options.get("video_aspect_ratio"))
    durations, duration = _durations(options, reading)
    media, _ = _choice(options.get("input_media_type"))
    return VideoModel(
        id=new_model_id(key),
        key=key,
        description=_description(entry),
        resolutions=resolutions,
        default_resolution=resolution,
        ratios=ratios,
        default_ratio=ratio,
        durations=durations,
        default_duration=duration,
        frames=tuple(frame for frame in INPUT_FRAMES if frame in media),
        benefits=_benefits(member(entry, "commercial_config"), resolutions),
        draft_mode=member(member(entry, "extra"), "is_draft_mode") is True,
        live=True,
    )


def _choice(option: Any, normal: Callable[[str], str] = str.strip) -> tuple[tuple[str, ...], str]:
    """(values, default) of an option's ``enum_val.string_value``; default "" when there are none."""
    enum = member(option, "enum_val")
    raw = items(member(enum, "string_value"))
    values = unique(normal(v.strip()) for v in raw if isinstance(v, str) and v.strip())
    index = number(member(enum, "default_val_idx"))
    picked = raw[index] if index is not None and 0 <= index < len(raw) and isinstance(raw[index], str) else None
    default = normal(picked.strip()) if picked else ""
    return values, default if default in values else (values[0] if values else "")


def _durations(options: Mapping[str, Any], reading: TableReading) -> tuple[tuple[int, ...], int]:
    """Whole seconds from ``frames`` (at the model's fps) or ``duration_ms``; ((), 0) when neither says."""
    fps = next((n for n in _numbers(options.get("fps"))[0] if n > 0), FPS)
    for name, unit in (("frames", fps), ("duration_ms", 1000)):
        values, index = _numbers(options.get(name))
        seconds = [value / unit for value in values]
        whole = sorted({int(s) for s in seconds if s > 0 and float(s).is_integer()})
        if not whole:
            continue
        default = seconds[index] if index is not None and 0 <= index < len(seconds) else None
        if reading.durations is DurationReading.RANGE:
            whole = list(range(whole[0], whole[-1] + 1))
        preferred = int(default) if default is not None and float(default).is_integer() else 5
        return tuple(whole), preferred if preferred in whole else whole[0]
    return (), 0


def _numbers(option: Any) -> tuple[list[float], int | None]:
    enum = member(option, "enum_val")
    raw = items(member(enum, "int_value")) or items(member(enum, "double_value"))
    values = [float(v) for v in raw if isinstance(v, int | float) and not isinstance(v, bool)]
    index = number(member(enum, "default_val_idx"))
    return values, index if len(values) == len(raw) else None


def _benefits(commercial: Any, resolutions: tuple[str, ...]) -> Mapping[str, str]:
    """§4.2: the price entry of each resolution, else the config's default benefit."""
    found: dict[str, str] = {}
    for entry in items(member(commercial, "resolution_price_configs")):
        resolution = text(member(entry, "resolution")).lower()
        benefit = text(member(member(entry, "price"), "benefit_type"))
        if resolution and benefit:
            found.setdefault(resolution, benefit)
    fallback = text(member(member(commercial, "default"), "benefit_type"))
    chosen = {r: found.get(r) or fallback for r in resolutions}
    return MappingProxyType({r: benefit for r, benefit in chosen.items() if benefit})


# -- both kinds ------------------------------------------------------------------------------------------


def _default_key(data: Any, entries: list[Any], names: tuple[str, ...], models: list[Any]) -> str | None:
    """The key at the answer's default index, when that model was kept."""
    for name in names:
        index = number(member(data, name))
        if index is not None and 0 <= index < len(entries):
            key = text(member(entries[index], "model_req_key"))
            return key if any(model.key == key for model in models) else None
    return None


def _description(entry: Any) -> str:
    name, tip = text(member(entry, "model_name")), text(member(entry, "model_tip"))
    return f"{name}: {tip}" if name and tip else name or tip
