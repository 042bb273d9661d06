"""The static catalog (config/upstream.yml) row by row against the 2026 model tables (sections 3.1, 3.2, 4.1)."""

from __future__ import annotations

import pytest

from app.domain.catalog import ImageModel, ImageSize, VideoModel
from app.domain.models import GenerationKind
from app.domain.static_catalog import catalog_from_config
from app.wiring import image_aliases
from config.settings import Settings, SettingsError
from config.upstream import load_upstream, upstream_from_mapping
from tests.catalogs import find_image, find_video
from tests.protocol_examples import TIER_SIZES
from tests.unit.test_upstream_config import SHIPPED, changed

CATALOG = catalog_from_config(load_upstream())
SECONDS_4_15 = tuple(range(4, 16))
SIX_RATIOS = ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16")
ONE_TO_EIGHT = tuple(range(1, 9))

IMAGE_ROWS = [  # public id, key, tiers, default tier, gen_count options, default count
    ("jimeng-5.0-pro", "high_aes_general_v50p_large", ("1.5k", "2k", "4k"), "2k", (1, 2, 3, 4), 2),
    ("jimeng-5.0", "high_aes_general_v50", ("2k", "4k"), "2k", ONE_TO_EIGHT, 4),
    ("jimeng-5.0-flash", "high_aes_general_v50_flash", ("1.5k", "2k"), "2k", (1, 2, 3, 4), 4),
    ("jimeng-4.7", "high_aes_general_v43", ("2k", "4k"), "2k", ONE_TO_EIGHT, 4),
    ("jimeng-4.6", "high_aes_general_v42", ("2k", "4k"), "2k", ONE_TO_EIGHT, 4),
    ("jimeng-4.5", "high_aes_general_v40l", ("2k", "4k"), "2k", ONE_TO_EIGHT, 4),
    ("jimeng-4.1", "high_aes_general_v41", ("2k", "4k"), "2k", ONE_TO_EIGHT, 4),
    ("jimeng-4.0", "high_aes_general_v40", ("2k", "4k"), "2k", ONE_TO_EIGHT, 4),
    ("jimeng-3.1", "high_aes_general_v30l_art_fangzhou:general_v3.0_18b", ("1k", "2k"), "2k", (), 4),
    ("jimeng-3.0", "high_aes_general_v30l:general_v3.0_18b", ("1k", "2k"), "2k", (), 4),
]

CODES = ("1:1", "3:4", "16:9", "4:3", "9:16", "2:3", "3:2", "21:9")

VIDEO_ROWS = [  # public id, old ids, key, resolutions, durations, frames, benefit per resolution
    ("jimeng-video-seedance-2.5", (), "dreamina_seedance_45_pro", ("480p", "720p", "1080p"), SECONDS_4_15,
     ("first_frame", "end_frame"), {r: f"seedance_25_{r}_output" for r in ("480p", "720p", "1080p")}),
    ("jimeng-video-seedance-2.5-draft", (), "dreamina_seedance_45_pro_draft", ("480p",), SECONDS_4_15, (),
     {"480p": "seedance_25_draft_480p_output"}),
    ("jimeng-video-seedance-2.0", (), "dreamina_seedance_40_pro", ("720p",), SECONDS_4_15,
     ("first_frame", "end_frame"), {"720p": "dreamina_video_seedance_20_pro"}),
    ("jimeng-video-seedance-2.0-fast", (), "dreamina_seedance_40", ("720p",), SECONDS_4_15,
     ("first_frame", "end_frame"), {"720p": "dreamina_seedance_20_fast"}),
    ("jimeng-video-seedance-2.0-mini", (), "dreamina_seedance_40_mini", ("720p",), SECONDS_4_15,
     ("first_frame", "end_frame"), {"720p": "seedance_20_mini_720p_output"}),
    ("jimeng-video-seedance-2.0-fast-vip", (), "dreamina_seedance_40_vision", ("720p",), SECONDS_4_15,
     ("first_frame", "end_frame"), {"720p": "seedance_20_fast_720p_output"}),
    ("jimeng-video-seedance-2.0-vip", (), "dreamina_seedance_40_pro_vision", ("720p", "1080p", "4k"), SECONDS_4_15,
     ("first_frame", "end_frame"), {r: f"seedance_20_pro_{r}_output" for r in ("720p", "1080p", "4k")}),
    ("jimeng-video-seedance-1.5-pro", ("jimeng-video-3.5-pro",), "dreamina_ic_generate_video_model_vgfm_3.5_pro",
     ("720p", "1080p"), tuple(range(5, 13)), ("first_frame", "end_frame"),
     {"720p": "dreamina_video_seedance_15_pro", "1080p": "dreamina_video_seedance_15_pro_1080_add"}),
    ("jimeng-video-seedance-1.0-pro", ("jimeng-video-3.0-pro",), "dreamina_ic_generate_video_model_vgfm_3.0_pro",
     ("1080p",), (5, 10), ("first_frame",), {"1080p": "basic_video_operation_vgfm_v_three_pro"}),
    ("jimeng-video-seedance-1.0-fast", ("jimeng-video-3.0-fast",), "dreamina_ic_generate_video_model_vgfm_3.0_fast",
     ("720p", "1080p"), (5, 10), ("first_frame",),
     {"720p": "basic_video_operation_vgfm_v_three", "1080p": "basic_video_operation_vgfm_v_three"}),
    ("jimeng-video-minimax-h3", (), "dreamina_minimax_h3", ("768p", "2k"), SECONDS_4_15,
     ("first_frame", "end_frame"), {"768p": "minimax_h3_768p_output", "2k": "minimax_h3_2k_output"}),
    ("jimeng-video-happyhorse-1.1", (), "dreamina_happyhorse_v1_1", ("720p", "1080p"), SECONDS_4_15,
     ("first_frame",), {r: f"happyhorse_11_{r}_output" for r in ("720p", "1080p")}),
    ("jimeng-video-wan-3.0", (), "dreamina_wan_30", ("720p", "1080p"), SECONDS_4_15,
     ("first_frame", "end_frame"), {r: f"wan_30_{r}_output" for r in ("720p", "1080p")}),
]  # fmt: skip

CAPTURED_FALLBACKS = {  # 2026 4.2: the alternative names sent once when the config's is refused
    "jimeng-video-seedance-2.5-draft": {"480p": "seedance_25_draft_480p_no_input_video_output"},
    "jimeng-video-seedance-2.0-mini": {"720p": "seedance_20_mini_720p_output_5s"},
    "jimeng-video-seedance-2.0-fast-vip": {"720p": "dreamina_seedance_20_fast_5s"},
}


def image(model_id: str) -> ImageModel:
    return find_image(CATALOG, model_id)


def video(model_id: str) -> VideoModel:
    return find_video(CATALOG, model_id)


@pytest.mark.parametrize(("model_id", "key", "tiers", "default_tier", "options", "default_count"), IMAGE_ROWS)
def test_each_image_model_is_its_row_of_section_3_1(
    model_id: str, key: str, tiers: tuple[str, ...], default_tier: str, options: tuple[int, ...], default_count: int
) -> None:
    model = image(model_id)
    assert (model.key, tuple(model.tiers), model.default_tier) == (key, tiers, default_tier)
    assert (model.count_options, model.default_count, model.blend) == (options, default_count, True)
    for tier in tiers:
        sizes = [model.tiers[tier][ratio] for ratio in CODES]
        assert sizes == [ImageSize(width=w, height=h, code=code) for code, (w, h) in enumerate(TIER_SIZES[tier], 1)]


def test_the_catalog_holds_exactly_the_tables_models() -> None:
    assert [m.id for m in CATALOG.images] == [row[0] for row in IMAGE_ROWS]
    assert [m.id for m in CATALOG.videos] == [row[0] for row in VIDEO_ROWS]
    assert CATALOG.find("jimeng-5.0-lite") == image("jimeng-5.0")
    assert (CATALOG.default(GenerationKind.IMAGE).id, CATALOG.default(GenerationKind.VIDEO).id) == (
        "jimeng-5.0", "jimeng-video-seedance-2.0-fast",
    )  # fmt: skip


@pytest.mark.parametrize(("model_id", "aliases", "key", "resolutions", "durations", "frames", "benefits"), VIDEO_ROWS)
def test_each_video_model_is_its_row_of_section_4_1(
    model_id: str,
    aliases: tuple[str, ...],
    key: str,
    resolutions: tuple[str, ...],
    durations: tuple[int, ...],
    frames: tuple[str, ...],
    benefits: dict[str, str],
) -> None:
    model = video(model_id)
    assert (model.key, model.aliases, model.resolutions, model.durations, model.frames) == (
        key, aliases, resolutions, durations, frames,
    )  # fmt: skip
    assert dict(model.benefits) == benefits
    assert model.ratios[:6] == SIX_RATIOS and model.default_ratio == "16:9"
    assert model.draft_mode is (model_id == "jimeng-video-seedance-2.5-draft")
    for resolution, fallback in CAPTURED_FALLBACKS.get(model_id, {}).items():
        assert model.benefit_fallbacks[resolution] == fallback


def test_the_retired_ids_name_their_replacement() -> None:
    retired = {model.id: model.replacement for model in CATALOG.retired}
    assert retired["jimeng-video-3.0"] == "jimeng-video-seedance-2.0-fast"
    assert {"jimeng-video-2.0", "jimeng-video-2.0-pro"} <= set(retired)
    assert CATALOG.find("jimeng-video-3.0") is None


def test_a_public_alias_joins_its_models_aliases() -> None:
    config = upstream_from_mapping(changed(("aliases",), {"dall-e-3": "jimeng-5.0"}), source="x")
    assert catalog_from_config(config).find("dall-e-3") == catalog_from_config(config).find("jimeng-5.0")
    assert SHIPPED["aliases"] == {}


def test_image_model_aliases_name_the_default_image_model_unless_the_file_says_otherwise() -> None:
    upstream = load_upstream()
    aliases = image_aliases(Settings(), upstream)
    assert aliases["dall-e-3"] == aliases["gpt-image-1"] == upstream.defaults.image_model
    catalog = catalog_from_config(upstream, aliases)
    assert catalog.find("dall-e-2") is catalog.find(upstream.defaults.image_model) is not None
    custom = Settings(image_model_aliases=(("dall-e-3", "jimeng-4.0"), ("jimeng-5.0-lite", ""), ("x", "")))
    assert image_aliases(custom, upstream) == {"dall-e-3": "jimeng-4.0", "x": upstream.defaults.image_model}
    filed = upstream_from_mapping(changed(("aliases",), {"dall-e-3": "jimeng-4.1"}), source="x")
    assert catalog_from_config(filed, image_aliases(Settings(), filed)).find("dall-e-3").id == "jimeng-4.1"
    assert image_aliases(Settings(image_model_aliases=()), upstream) == {}
    for target in ("jimeng-9.0", "jimeng-video-seedance-2.0"):
        with pytest.raises(SettingsError, match="IMAGE_MODEL_ALIASES"):
            image_aliases(Settings(image_model_aliases=(("dall-e-3", target),)), upstream)
