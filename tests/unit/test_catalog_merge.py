"""Merging Jimeng's live model lists with the static catalog (protocol §7.3)."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from app.domain.catalog import ImageModel, VideoModel
from app.domain.catalog_merge import NEW_MODEL_NOTE, LiveModels, merge_catalog, new_model_id
from tests.catalogs import SIZES_2K, image_model, static_catalog, video_model


def live_image(key: str, **changes: object) -> ImageModel:
    return replace(
        image_model(new_model_id(key), key, description=f"web {key}", tiers=MappingProxyType({"2k": SIZES_2K})),
        live=True,
        **changes,  # type: ignore[arg-type]
    )


def live_video(key: str, **changes: object) -> VideoModel:
    model = video_model(new_model_id(key), key, description=f"web {key}", benefits=MappingProxyType({}))
    return replace(model, live=True, **changes)  # type: ignore[arg-type]


def images(*models: ImageModel, default_key: str | None = None) -> LiveModels[ImageModel]:
    return LiveModels(models=models, default_key=default_key)


def videos(*models: VideoModel, default_key: str | None = None) -> LiveModels[VideoModel]:
    return LiveModels(models=models, default_key=default_key)


def test_a_failed_call_keeps_the_whole_static_catalog() -> None:
    static = static_catalog()
    assert merge_catalog(static) == static
    assert merge_catalog(static, images=None, videos=None) is not static  # a new value, equal


def test_known_keys_get_public_names_from_the_static_table_and_tables_from_jimeng() -> None:
    live = live_image("high_aes_general_v50", count_options=(1, 2, 3, 4, 5, 6, 7, 8), default_count=4)
    catalog = merge_catalog(static_catalog(), images=images(live))
    (model,) = catalog.images
    assert (model.id, model.aliases, model.description) == ("jimeng-5.0", ("jimeng-5.0-lite",), "static jimeng-5.0")
    assert model.count_options == (1, 2, 3, 4, 5, 6, 7, 8)
    assert tuple(model.tiers) == ("2k",)  # the static 4k tier is not offered: the live answer does not list it
    assert model.live
    assert catalog.find("jimeng-5.0-lite") is model


def test_static_models_the_live_answer_does_not_list_are_not_offered() -> None:
    catalog = merge_catalog(static_catalog(), images=images(live_image("high_aes_general_v50p_large")))
    assert [m.id for m in catalog.images] == ["jimeng-5.0-pro"]
    assert catalog.find("jimeng-4.0") is None
    assert catalog.default_image == "jimeng-5.0-pro"  # the static default is not offered: the only model
    assert catalog.videos == static_catalog().videos  # the video call failed: static videos


def test_unknown_keys_are_offered_as_jimeng_key_and_flagged_new() -> None:
    catalog = merge_catalog(static_catalog(), images=images(live_image("high_aes_general_v60")))
    (model,) = catalog.images
    assert model.id == "jimeng-high_aes_general_v60"
    assert model.description == f"web high_aes_general_v60 ({NEW_MODEL_NOTE})"
    assert model.aliases == ()


def test_retired_keys_stay_retired_even_when_jimeng_lists_them() -> None:
    retired_key = "dreamina_ic_generate_video_model_vgfm_3.0"
    catalog = merge_catalog(
        static_catalog(), videos=videos(live_video(retired_key), live_video("dreamina_seedance_40_pro"))
    )
    assert [m.id for m in catalog.videos] == ["jimeng-video-seedance-2.0"]
    assert catalog.retired_model("jimeng-video-3.0") is not None
    assert catalog.find("jimeng-" + retired_key) is None


def test_defaults_static_when_offered_else_the_live_default_index() -> None:
    pro, lite = live_image("high_aes_general_v50p_large"), live_image("high_aes_general_v50")
    both = merge_catalog(static_catalog(), images=images(pro, lite, default_key="high_aes_general_v50p_large"))
    assert both.default_image == "jimeng-5.0"
    new = live_image("high_aes_general_v60")
    live_default = merge_catalog(static_catalog(), images=images(pro, new, default_key="high_aes_general_v60"))
    assert live_default.default_image == "jimeng-high_aes_general_v60"
    no_default = merge_catalog(static_catalog(), images=images(new, pro))
    assert no_default.default_image == "jimeng-high_aes_general_v60"  # the first listed
    assert no_default.default(no_default.images[0].kind).id == "jimeng-high_aes_general_v60"


def test_benefits_live_first_then_static_per_offered_resolution_and_captured_aliases_from_the_file() -> None:
    live = live_video(
        "dreamina_seedance_45_pro",
        resolutions=("480p", "720p", "1080p"),
        benefits=MappingProxyType({"720p": "seedance_25_720p_output"}),
    )
    (model,) = merge_catalog(static_catalog(), videos=videos(live)).videos
    assert dict(model.benefits) == {"480p": "s25_480_static", "720p": "seedance_25_720p_output"}
    assert dict(model.benefit_fallbacks) == {"720p": "seedance_25_720p_no_input_video_output"}
    assert model.id == "jimeng-video-seedance-2.5"


def test_what_the_answer_left_out_comes_from_the_static_model_or_the_model_is_not_offered() -> None:
    draft = live_video("dreamina_seedance_45_pro_draft", ratios=(), default_ratio="", durations=(), default_duration=0)
    unknown = live_video("dreamina_new_video", ratios=(), default_ratio="")
    catalog = merge_catalog(static_catalog(), videos=videos(draft, unknown))
    (model,) = catalog.videos
    assert model.id == "jimeng-video-seedance-2.5-draft"
    assert model.ratios == static_catalog().videos[2].ratios and model.default_ratio == "16:9"
    assert model.durations == (4, 5, 10, 15) and model.default_duration == 5


def test_a_blend_limit_is_taken_from_the_static_model_and_an_unbounded_blend_is_not_offered() -> None:
    known = live_image("high_aes_general_v50", max_input_images=0)
    unknown = live_image("high_aes_general_v60", max_input_images=0)
    limited = live_image("high_aes_general_v61", max_input_images=20)
    first, second, third = merge_catalog(static_catalog(), images=images(known, unknown, limited)).images
    assert (first.blend, first.max_input_images) == (True, 10)
    assert (second.blend, second.max_input_images) == (False, 0)
    assert (third.blend, third.max_input_images) == (True, 20)


def test_nothing_offerable_keeps_the_static_kind() -> None:
    retired = live_video("dreamina_ic_generate_video_model_vgfm_3.0")
    catalog = merge_catalog(static_catalog(), videos=videos(retired))
    assert catalog.videos == static_catalog().videos
    assert catalog.default_video == "jimeng-video-seedance-2.0"


def test_duplicate_keys_and_clashing_names_are_offered_once() -> None:
    first = live_image("high_aes_general_v50", default_count=1)
    twin = live_image("high_aes_general_v50", default_count=2)
    catalog = merge_catalog(static_catalog(), images=images(first, twin))
    assert [(m.id, m.default_count) for m in catalog.images] == [("jimeng-5.0", 1)]
    static = static_catalog()
    clash = replace(static, images=(*static.images, image_model("jimeng-high_aes_general_v60", "other_key")))
    catalog = merge_catalog(clash, images=images(live_image("other_key"), live_image("high_aes_general_v60")))
    assert [m.key for m in catalog.images] == ["other_key"]
