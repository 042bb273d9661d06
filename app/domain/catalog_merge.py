"""Jimeng's live model lists merged with the static catalog of ``config/upstream.yml``.

Section numbers are those of the 2026 edition of the protocol notes (§7.3: building the model list).

The live answer is the authority on *which* models an account may use and on their tables (tiers, sizes,
counts, resolutions, durations, benefits); the static catalog supplies what Jimeng does not say: our public
ids, aliases and descriptions, the captured benefit aliases, the retired ids, and the whole fallback when the
live call failed. A model the live answer does not list is never offered (§7.3 step 4): a draft for it would
only fail upstream after the request was accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Generic, TypeVar

from loguru import logger

from app.domain.catalog import Catalog, ImageModel, VideoModel

M = TypeVar("M", bound=ImageModel | VideoModel)
NEW_MODEL_NOTE = "new model, not in upstream.yml"


@dataclass(frozen=True, kw_only=True)
class LiveModels(Generic[M]):
    """One kind's models as Jimeng listed them for one account, in the answer's order.

    Ids are provisional (``jimeng-<key>``) until merged. Tables the answer left out are empty (video
    ``ratios``/``durations``, an image blend limit of 0) so the merge can tell "not said" from "said".
    """

    models: tuple[M, ...]
    default_key: str | None = None  # the model the answer's default index points at


def new_model_id(key: str) -> str:
    """The public id of an upstream key that upstream.yml does not know."""
    return f"jimeng-{key}"


def merge_catalog(
    static: Catalog,
    *,
    images: LiveModels[ImageModel] | None = None,
    videos: LiveModels[VideoModel] | None = None,
) -> Catalog:
    """The catalog one account gets: each kind live when its list is given (None: the call failed), else static.

    A kind whose live list leaves nothing offerable (every entry retired or incomplete) keeps its static models,
    so a catalog always has a default model of each kind.
    """
    retired = frozenset(model.key for model in static.retired)
    image_models = _merged(images, static.images, retired, _image_model)
    video_models = _merged(videos, static.videos, retired, _video_model)
    return Catalog(
        images=image_models or static.images,
        videos=video_models or static.videos,
        default_image=_default(static.default_image, image_models, images) if image_models else static.default_image,
        default_video=_default(static.default_video, video_models, videos) if video_models else static.default_video,
        retired=static.retired,
    )


def _merged(
    live: LiveModels[M] | None,
    static: tuple[M, ...],
    retired: frozenset[str],
    combine: Callable[[M, M | None], M | None],
) -> tuple[M, ...]:
    """The offerable live models with their public names; empty when there is no live list or nothing offerable."""
    if live is None:
        return ()
    by_key = {model.key: model for model in static}
    merged: list[M] = []
    keys: set[str] = set()
    names: set[str] = set()
    for model in live.models:
        if model.key in retired or model.key in keys:
            continue
        combined = combine(model, by_key.get(model.key))
        if combined is None:
            continue
        public = {combined.id, *combined.aliases}
        if not names.isdisjoint(public):
            continue  # a new key whose jimeng-<key> clashes with a name already offered
        merged.append(combined)
        keys.add(model.key)
        names |= public
    return tuple(merged)


def _default(static_default: str, models: tuple[M, ...], live: LiveModels[M] | None) -> str:
    """The static default when it is offered, else the live answer's default, else the first model."""
    if any(static_default == model.id or static_default in model.aliases for model in models):
        return static_default
    key = live.default_key if live is not None else None
    return next((model.id for model in models if model.key == key), models[0].id)


def _image_model(live: ImageModel, known: ImageModel | None) -> ImageModel:
    limit = live.max_input_images or (known.max_input_images if known is not None else 0)
    blend = live.blend and limit > 0  # a blend we cannot bound is not offered
    if live.blend and not blend:
        logger.debug("image model {}: Jimeng lists blend without an input limit; blend not offered", live.key)
    if known is None:
        return replace(
            live,
            id=new_model_id(live.key),
            description=_flagged(live.description),
            blend=blend,
            max_input_images=limit if blend else 0,
            aliases=(),
        )
    return replace(
        live,
        id=known.id,
        description=known.description,
        aliases=known.aliases,
        blend=blend,
        max_input_images=limit if blend else 0,
    )


def _video_model(live: VideoModel, known: VideoModel | None) -> VideoModel | None:
    ratios, default_ratio = live.ratios, live.default_ratio
    if not ratios and known is not None:
        ratios, default_ratio = known.ratios, known.default_ratio
    durations, default_duration = live.durations, live.default_duration
    if not durations and known is not None:
        durations, default_duration = known.durations, known.default_duration
    if not ratios or not durations:
        logger.debug("video model {}: Jimeng lists no ratios or durations and upstream.yml has none", live.key)
        return None
    known_benefits: Mapping[str, str] = known.benefits if known is not None else {}
    tables = replace(
        live,
        ratios=ratios,
        default_ratio=default_ratio if default_ratio in ratios else ratios[0],
        durations=durations,
        default_duration=default_duration if default_duration in durations else durations[0],
        benefits=MappingProxyType(
            {r: known_benefits[r] for r in live.resolutions if r in known_benefits} | dict(live.benefits)
        ),
    )
    if known is None:
        return replace(tables, id=new_model_id(live.key), description=_flagged(live.description), aliases=())
    return replace(
        tables,
        id=known.id,
        description=known.description,
        aliases=known.aliases,
        benefit_fallbacks=known.benefit_fallbacks,
    )


def _flagged(description: str) -> str:
    return f"{description} ({NEW_MODEL_NOTE})" if description else NEW_MODEL_NOTE
