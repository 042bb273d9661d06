"""The static model tables of ``config/upstream.yml`` (2026 sections 3.1, 3.2, 4.1): types and consistency.

They are the fallback the catalog (``app/domain/catalog.py``) is built from when Jimeng's own tables
(``get_common_config``) are not known; nothing here decides what a request may ask for at run time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, Literal

from config.typed_yaml import Invalid

Frame = Literal["first_frame", "end_frame"]


@dataclass(frozen=True)
class ImageSize:
    """[2026 3.2] One ratio of one tier, written in the file as the row ``[width, height, code]``."""

    ROW: ClassVar[bool] = True
    width: int
    height: int
    code: int


@dataclass(frozen=True)
class ImageModelConfig:
    """[2026 3.1] An image model: the tiers it offers (names of ``image_tiers``) and its ``gen_count`` options.

    ``count_options`` empty: the model makes the upstream's fixed batch of ``default_count`` images and its
    drafts carry no ``gen_option``.
    """

    id: str
    key: str
    description: str
    tiers: tuple[str, ...]
    default_tier: str
    count_options: tuple[int, ...]
    default_count: int
    blend: bool
    max_input_images: int
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class VideoModelConfig:
    """[2026 4.1] A video model: resolutions, ratios, whole-second durations, input frames and benefit names."""

    id: str
    key: str
    description: str
    resolutions: tuple[str, ...]
    default_resolution: str
    ratios: tuple[str, ...]
    default_ratio: str
    durations: tuple[int, ...]
    default_duration: int
    frames: tuple[Frame, ...]
    benefits: Mapping[str, str]  # resolution -> benefit_type
    benefit_fallbacks: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    draft_mode: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RetiredModelConfig:
    """A public id Jimeng no longer serves (ret 2061), and the model to suggest instead."""

    id: str
    key: str
    replacement: str


def check_models(
    tiers: Mapping[str, Mapping[str, ImageSize]],
    images: tuple[ImageModelConfig, ...],
    videos: tuple[VideoModelConfig, ...],
    retired: tuple[RetiredModelConfig, ...],
    aliases: Mapping[str, str],
) -> None:
    """What the types cannot say: every name public once, defaults among the choices, tiers that exist."""
    _check_names(images, videos, retired, aliases)
    for index, image in enumerate(images):
        _check_image(f"image_models[{index}]", image, tiers)
    for index, video in enumerate(videos):
        _check_video(f"video_models[{index}]", video)


def _public_names(
    images: tuple[ImageModelConfig, ...], videos: tuple[VideoModelConfig, ...], retired: tuple[RetiredModelConfig, ...]
) -> Iterator[tuple[str, str]]:
    """(dotted key, name) of every public id and alias, in file order."""
    sections: tuple[tuple[str, tuple[ImageModelConfig | VideoModelConfig, ...]], ...] = (
        ("image_models", images),
        ("video_models", videos),
    )
    for section, models in sections:
        for index, model in enumerate(models):
            yield f"{section}[{index}].id", model.id
            yield from ((f"{section}[{index}].aliases[{n}]", alias) for n, alias in enumerate(model.aliases))
    yield from ((f"retired_models[{index}].id", model.id) for index, model in enumerate(retired))


def _check_names(
    images: tuple[ImageModelConfig, ...],
    videos: tuple[VideoModelConfig, ...],
    retired: tuple[RetiredModelConfig, ...],
    aliases: Mapping[str, str],
) -> None:
    seen: set[str] = set()
    for where, name in [*_public_names(images, videos, retired), *((f"aliases.{a}", a) for a in aliases)]:
        if name in seen:
            raise Invalid(f"{where}: {name} is listed twice")
        seen.add(name)
    served = {model.id for model in images} | {model.id for model in videos}
    for index, model in enumerate(retired):
        if model.replacement not in served:
            raise Invalid(f"retired_models[{index}].replacement: {model.replacement} is not a model")
    for alias, target in aliases.items():
        if target not in served:
            raise Invalid(f"aliases.{alias}: points at unknown model {target}")


def _check_image(where: str, model: ImageModelConfig, tiers: Mapping[str, Mapping[str, ImageSize]]) -> None:
    for index, tier in enumerate(model.tiers):
        if tier not in tiers:
            raise Invalid(f"{where}.tiers[{index}]: {tier} is not one of image_tiers ({', '.join(tiers)})")
    _check_default(f"{where}.default_tier", model.default_tier, model.tiers)
    if any(count < 1 for count in model.count_options) or model.default_count < 1:
        raise Invalid(f"{where}: image counts must be at least 1")
    if model.count_options:
        _check_default(f"{where}.default_count", model.default_count, model.count_options)


def _check_video(where: str, model: VideoModelConfig) -> None:
    _check_default(f"{where}.default_resolution", model.default_resolution, model.resolutions)
    _check_default(f"{where}.default_ratio", model.default_ratio, model.ratios)
    _check_default(f"{where}.default_duration", model.default_duration, model.durations)
    for resolution in model.resolutions:
        if resolution not in model.benefits:
            raise Invalid(f"missing key {where}.benefits.{resolution}")
    for table in ("benefits", "benefit_fallbacks"):
        for resolution in getattr(model, table):
            if resolution not in model.resolutions:
                raise Invalid(f"unknown key {where}.{table}.{resolution} (resolutions: {', '.join(model.resolutions)})")


def _check_default(where: str, value: object, choices: tuple[object, ...]) -> None:
    if value not in choices:
        raise Invalid(f"{where}: {value!r} is not one of {', '.join(map(str, choices)) or 'nothing'}")
