"""The catalog of ``config/upstream.yml``'s static model tables: what requests are checked against until (or
unless) Jimeng's live tables are known."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from app.domain.catalog import Catalog, ImageModel, RetiredModel, VideoModel
from config.upstream import ImageModelConfig, UpstreamConfig, VideoModelConfig


def catalog_from_config(upstream: UpstreamConfig, aliases: Mapping[str, str] | None = None) -> Catalog:
    """Every model of the file with its tables; a public alias (the file's ``aliases``, then ``aliases``: the
    operator's ``IMAGE_MODEL_ALIASES``, checked at start-up) joins its model's own aliases."""
    public = {**(aliases or {}), **upstream.aliases}
    return Catalog(
        images=tuple(
            _image(model, upstream, _aliases(model.id, model.aliases, public)) for model in upstream.image_models
        ),
        videos=tuple(_video(model, _aliases(model.id, model.aliases, public)) for model in upstream.video_models),
        default_image=upstream.defaults.image_model,
        default_video=upstream.defaults.video_model,
        retired=tuple(
            RetiredModel(id=model.id, key=model.key, replacement=model.replacement) for model in upstream.retired_models
        ),
    )


def _aliases(model_id: str, own: tuple[str, ...], public: Mapping[str, str]) -> tuple[str, ...]:
    return own + tuple(alias for alias, target in public.items() if target == model_id)


def _image(model: ImageModelConfig, upstream: UpstreamConfig, aliases: tuple[str, ...]) -> ImageModel:
    tiers = {tier: upstream.image_tiers[tier] for tier in model.tiers}
    return ImageModel(
        id=model.id, key=model.key, description=model.description, tiers=MappingProxyType(tiers),
        default_tier=model.default_tier, count_options=model.count_options, default_count=model.default_count,
        blend=model.blend, max_input_images=model.max_input_images, aliases=aliases,
    )  # fmt: skip


def _video(model: VideoModelConfig, aliases: tuple[str, ...]) -> VideoModel:
    return VideoModel(
        id=model.id, key=model.key, description=model.description, resolutions=model.resolutions,
        default_resolution=model.default_resolution, ratios=model.ratios, default_ratio=model.default_ratio,
        durations=model.durations, default_duration=model.default_duration, frames=model.frames,
        benefits=model.benefits, benefit_fallbacks=model.benefit_fallbacks, draft_mode=model.draft_mode,
        aliases=aliases,
    )  # fmt: skip
