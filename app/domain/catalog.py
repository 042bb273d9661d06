"""What each model can do: the tables every request is checked against and every draft is built from.

A ``Catalog`` is built from ``config/upstream.yml`` (public ids, aliases, descriptions and the fallback
tables) and, when Jimeng answers, merged with its live model lists (``get_common_config``), which are the
authority on tiers, sizes, counts, resolutions, durations and prices. The planner, the draft builders and
``/v1/models`` read the same ``Catalog``; nothing else holds a model table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from app.domain.models import GenerationKind
from config.upstream import ImageSize  # one ratio of one tier: pixels and the upstream's image_ratio code


def _empty_mapping() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class ImageModel:
    id: str  # public id, e.g. "jimeng-5.0"
    key: str  # upstream model_req_key
    description: str
    tiers: Mapping[str, Mapping[str, ImageSize]]  # tier ("1k", "1.5k", "2k", "4k") -> ratio ("16:9") -> size
    default_tier: str
    count_options: tuple[int, ...]  # allowed gen_count values; empty: the model makes a fixed batch
    default_count: int  # images one job makes when the request says nothing
    blend: bool  # can compose from input images
    max_input_images: int  # input images one blend takes
    aliases: tuple[str, ...] = ()
    live: bool = False  # the tables came from Jimeng's own answer, not only from upstream.yml

    kind = GenerationKind.IMAGE

    @property
    def ratios(self) -> tuple[str, ...]:
        """Ratios offered in every tier of this model (file or answer order of the default tier)."""
        return tuple(self.tiers.get(self.default_tier, next(iter(self.tiers.values()), {})))


@dataclass(frozen=True, kw_only=True)
class VideoModel:
    id: str
    key: str
    description: str
    resolutions: tuple[str, ...]  # "480p", "720p", "1080p", ...
    default_resolution: str
    ratios: tuple[str, ...]
    default_ratio: str
    durations: tuple[int, ...]  # whole seconds the model accepts
    default_duration: int
    frames: tuple[str, ...]  # input frames it takes: "first_frame", "end_frame"
    benefits: Mapping[str, str]  # resolution -> benefit_type sent in m_video_commerce_info
    benefit_fallbacks: Mapping[str, str] = field(default_factory=_empty_mapping)  # resolution -> captured alias
    draft_mode: bool = False  # the 480p preview model (its own draft fields)
    aliases: tuple[str, ...] = ()
    live: bool = False

    kind = GenerationKind.VIDEO


@dataclass(frozen=True, kw_only=True)
class RetiredModel:
    """A public id Jimeng no longer serves: refused with 400 ``model_unavailable`` before any call."""

    id: str
    key: str
    replacement: str


Model = ImageModel | VideoModel


@dataclass(frozen=True, kw_only=True)
class Catalog:
    images: tuple[ImageModel, ...]
    videos: tuple[VideoModel, ...]
    default_image: str  # public id
    default_video: str
    retired: tuple[RetiredModel, ...] = ()
    region: str = ""  # the site these tables are of ("US"), "" when not one site's (the static fallback)

    def find(self, name: str) -> Model | None:
        """The model with this public id or alias, or None."""
        models: tuple[Model, ...] = (*self.images, *self.videos)
        return next((model for model in models if name == model.id or name in model.aliases), None)

    def retired_model(self, name: str) -> RetiredModel | None:
        return next((model for model in self.retired if model.id == name), None)

    def models_of(self, kind: GenerationKind) -> tuple[Model, ...]:
        return self.images if kind is GenerationKind.IMAGE else self.videos

    def default(self, kind: GenerationKind) -> Model:
        name = self.default_image if kind is GenerationKind.IMAGE else self.default_video
        model = self.find(name)
        if model is None:
            raise LookupError(f"the default {kind} model {name} is not in the catalog")
        return model


class CatalogSource(Protocol):
    """Where the service gets the catalog a request is checked against (live per account, or fixed)."""

    def current(self, session_id: str | None = None) -> Catalog:
        """The catalog for this account, asking Jimeng when nothing fresh is known (None: any cached one, else
        the configured fallback); never raises."""
        ...

    def cached(self, session_id: str | None = None, *, refresh: bool = False) -> Catalog:
        """What is known now for this account (else any cached one, else the fallback), without waiting for
        Jimeng: input is checked against it before any upstream call. ``refresh`` asks Jimeng in the background
        when nothing fresh is known (a request that is about to submit anyway)."""
        ...

    def invalidate(self, session_id: str | None = None) -> None:
        """Forget what was learned (Jimeng said a model is gone: ret 2061), so the next call asks again."""
        ...


@dataclass(frozen=True)
class FixedCatalog:
    """A ``CatalogSource`` that always answers the same catalog (tests, or live tables switched off)."""

    catalog: Catalog

    def current(self, session_id: str | None = None) -> Catalog:
        return self.catalog

    def cached(self, session_id: str | None = None, *, refresh: bool = False) -> Catalog:
        return self.catalog

    def invalidate(self, session_id: str | None = None) -> None:
        return None
