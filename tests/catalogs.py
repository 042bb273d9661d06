"""Hand-made catalogs for tests: a small static table in the shape of config/upstream.yml's 2026 models."""

from __future__ import annotations

from types import MappingProxyType

from app.domain.catalog import Catalog, ImageModel, ImageSize, RetiredModel, VideoModel

SIZES_2K = MappingProxyType(
    {"1:1": ImageSize(2048, 2048, 1), "16:9": ImageSize(2560, 1440, 3), "9:16": ImageSize(1440, 2560, 5)}
)
SIZES_4K = MappingProxyType({"1:1": ImageSize(4096, 4096, 1), "16:9": ImageSize(5404, 3040, 3)})
RATIOS = ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16")


def image_model(id: str, key: str, **changes: object) -> ImageModel:
    fields: dict[str, object] = {
        "description": f"static {id}",
        "tiers": MappingProxyType({"2k": SIZES_2K, "4k": SIZES_4K}),
        "default_tier": "2k",
        "count_options": (1, 2, 3, 4),
        "default_count": 4,
        "blend": True,
        "max_input_images": 10,
    }
    return ImageModel(id=id, key=key, **{**fields, **changes})  # type: ignore[arg-type]


def video_model(id: str, key: str, **changes: object) -> VideoModel:
    fields: dict[str, object] = {
        "description": f"static {id}",
        "resolutions": ("720p",),
        "default_resolution": "720p",
        "ratios": RATIOS,
        "default_ratio": "16:9",
        "durations": (4, 5, 10, 15),
        "default_duration": 5,
        "frames": ("first_frame", "end_frame"),
        "benefits": MappingProxyType({"720p": f"{key}_static_720p"}),
    }
    return VideoModel(id=id, key=key, **{**fields, **changes})  # type: ignore[arg-type]


def static_catalog() -> Catalog:
    """Three image and three video models, defaults jimeng-5.0 and jimeng-video-seedance-2.0, one retired id."""
    return Catalog(
        images=(
            image_model("jimeng-5.0", "high_aes_general_v50", aliases=("jimeng-5.0-lite",)),
            image_model("jimeng-5.0-pro", "high_aes_general_v50p_large", default_count=2),
            image_model("jimeng-4.0", "high_aes_general_v40"),
        ),
        videos=(
            video_model("jimeng-video-seedance-2.0", "dreamina_seedance_40_pro"),
            video_model(
                "jimeng-video-seedance-2.5",
                "dreamina_seedance_45_pro",
                resolutions=("480p", "720p", "1080p"),
                benefits=MappingProxyType({"480p": "s25_480_static", "720p": "s25_720_static"}),
                benefit_fallbacks=MappingProxyType({"720p": "seedance_25_720p_no_input_video_output"}),
            ),
            video_model(
                "jimeng-video-seedance-2.5-draft",
                "dreamina_seedance_45_pro_draft",
                resolutions=("480p",),
                default_resolution="480p",
                draft_mode=True,
            ),
        ),
        default_image="jimeng-5.0",
        default_video="jimeng-video-seedance-2.0",
        retired=(
            RetiredModel(
                id="jimeng-video-3.0",
                key="dreamina_ic_generate_video_model_vgfm_3.0",
                replacement="jimeng-video-seedance-2.0",
            ),
        ),
    )


def find_image(catalog: Catalog, model_id: str) -> ImageModel:
    """The image model ``model_id`` of ``catalog`` (a test fails if it is missing or a video model)."""
    model = catalog.find(model_id)
    assert isinstance(model, ImageModel), model_id
    return model


def find_video(catalog: Catalog, model_id: str) -> VideoModel:
    model = catalog.find(model_id)
    assert isinstance(model, VideoModel), model_id
    return model
