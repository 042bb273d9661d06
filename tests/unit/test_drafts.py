"""aigc_draft/generate bodies and the size, ratio and multi-image rules (protocol sections 7, 8, 10, 12)."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.jimeng.drafts import blend_body, generate_body, video_body
from app.jimeng.ids import SEED_RANGE, new_seed, new_uuid
from config.upstream import ImageSize, load_upstream

CONFIG = load_upstream()
VIDEO_KEY = "dreamina_ic_generate_video_model_vgfm_3.0"
FIRST_LAST_MODEL = VIDEO_KEY

EXAMPLE_DRAFT = (  # protocol 7.4, the draft_content string as sent
    '{"type":"draft","id":"00000000-0000-1000-8000-000000000003","min_version":"3.3.28",'
    '"min_features":[],"is_from_tsn":true,"version":"3.3.28",'
    '"main_component_id":"00000000-0000-1000-8000-000000000002",'
    '"component_list":[{"type":"image_base_component","id":"00000000-0000-1000-8000-000000000002",'
    '"min_version":"3.3.28","aigc_mode":"workbench","metadata":{"type":"",'
    '"id":"00000000-0000-1000-8000-000000000004","created_platform":3,"created_platform_version":"",'
    '"created_time_in_ms":"1759132800123","created_did":""},"generate_type":"generate",'
    '"abilities":{"type":"","id":"00000000-0000-1000-8000-000000000005","generate":{"type":"",'
    '"id":"00000000-0000-1000-8000-000000000006","core_param":{"type":"",'
    '"id":"00000000-0000-1000-8000-000000000007","model":"high_aes_general_v40",'
    '"prompt":"a cute kitten","negative_prompt":"","seed":2512345678,"sample_strength":0.5,'
    '"image_ratio":1,"large_image_info":{"type":"","id":"00000000-0000-1000-8000-000000000008",'
    '"height":2048,"width":2048,"resolution_type":"2k"},"intelligent_ratio":false},'
    '"history_option":{"type":"","id":"00000000-0000-1000-8000-000000000009"}}}}]}'
)
EXAMPLE_METRICS = (
    '{"promptSource":"custom","generateCount":1,"enterFrom":"click",'
    '"generateId":"00000000-0000-1000-8000-000000000010","isRegenerate":false}'
)

EXAMPLE_DRAFT_DECODED: dict[str, Any] = {  # protocol 7.4, the decoded and indented form
    "type": "draft",
    "id": "00000000-0000-1000-8000-000000000003",
    "min_version": "3.3.28",
    "min_features": [],
    "is_from_tsn": True,
    "version": "3.3.28",
    "main_component_id": "00000000-0000-1000-8000-000000000002",
    "component_list": [
        {
            "type": "image_base_component",
            "id": "00000000-0000-1000-8000-000000000002",
            "min_version": "3.3.28",
            "aigc_mode": "workbench",
            "metadata": {
                "type": "",
                "id": "00000000-0000-1000-8000-000000000004",
                "created_platform": 3,
                "created_platform_version": "",
                "created_time_in_ms": "1759132800123",
                "created_did": "",
            },
            "generate_type": "generate",
            "abilities": {
                "type": "",
                "id": "00000000-0000-1000-8000-000000000005",
                "generate": {
                    "type": "",
                    "id": "00000000-0000-1000-8000-000000000006",
                    "core_param": {
                        "type": "",
                        "id": "00000000-0000-1000-8000-000000000007",
                        "model": "high_aes_general_v40",
                        "prompt": "a cute kitten",
                        "negative_prompt": "",
                        "seed": 2512345678,
                        "sample_strength": 0.5,
                        "image_ratio": 1,
                        "large_image_info": {
                            "type": "",
                            "id": "00000000-0000-1000-8000-000000000008",
                            "height": 2048,
                            "width": 2048,
                            "resolution_type": "2k",
                        },
                        "intelligent_ratio": False,
                    },
                    "history_option": {"type": "", "id": "00000000-0000-1000-8000-000000000009"},
                },
            },
        }
    ],
}


def numbered_ids(start: int = 2) -> Callable[[], str]:
    """The protocol example's ids: 00000000-0000-1000-8000-0000000000NN, NN counting up from ``start``."""
    counter: Iterator[int] = itertools.count(start)
    return lambda: f"00000000-0000-1000-8000-{next(counter):012d}"


def generate_example(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "config": CONFIG,
        "model_key": "high_aes_general_v40",
        "prompt": "a cute kitten",
        "negative_prompt": "",
        "seed": 2512345678,
        "sample_strength": 0.5,
        "size": CONFIG.image_tiers["2k"]["1:1"],
        "resolution": "2k",
        "submit_id": "00000000-0000-1000-8000-000000000001",
        "now_ms": 1759132800123,
        "new_id": numbered_ids(),
    }
    return generate_body(**(arguments | overrides))


def blend_example(uris: list[str], **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "config": CONFIG,
        "model_key": "high_aes_general_v40",
        "prompt": "make it blue",
        "sample_strength": 0.7,
        "size": CONFIG.image_tiers["2k"]["16:9"],
        "resolution": "2k",
        "image_uris": uris,
        "submit_id": "submit-1",
        "now_ms": 1759132800123,
        "new_id": numbered_ids(),
    }
    return blend_body(**(arguments | overrides))


def video_example(**overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "config": CONFIG,
        "model_key": "dreamina_ic_generate_video_model_vgfm_3.0_pro",
        "prompt": "waves on a beach",
        "ratio": "16:9",
        "resolution": "720p",
        "duration_s": 5,
        "first_frame_uri": None,
        "end_frame_uri": None,
        "frame_width": 1280,
        "frame_height": 720,
        "seed": 2534567890,
        "submit_id": "submit-v",
        "now_ms": 1759132800123,
        "new_id": numbered_ids(),
    }
    return video_body(**(arguments | overrides))


def draft_of(body: dict[str, Any]) -> dict[str, Any]:
    return json.loads(body["draft_content"])


def all_ids(value: Any) -> list[str]:
    """Every ``id`` member of a decoded draft (``main_component_id`` is not an ``id`` member)."""
    if isinstance(value, dict):
        own = [value["id"]] if "id" in value else []
        return own + [i for child in value.values() for i in all_ids(child)]
    if isinstance(value, list):
        return [i for child in value for i in all_ids(child)]
    return []


# --- text-to-image (7) ---------------------------------------------------------------------------------------


def test_generate_body_equals_the_complete_example_of_section_7_4() -> None:
    body = generate_example()
    assert body == {
        "extend": {"root_model": "high_aes_general_v40", "template_id": ""},
        "submit_id": "00000000-0000-1000-8000-000000000001",
        "metrics_extra": EXAMPLE_METRICS,
        "draft_content": EXAMPLE_DRAFT,
        "http_common_info": {"aid": 513695},
    }
    assert list(body) == ["extend", "submit_id", "metrics_extra", "draft_content", "http_common_info"]


def test_generate_draft_decodes_to_the_indented_example() -> None:
    assert draft_of(generate_example()) == EXAMPLE_DRAFT_DECODED


def test_generate_draft_keeps_chinese_prompts_as_raw_utf8() -> None:
    body = generate_example(prompt="一只可爱的小猫")
    assert '"prompt":"一只可爱的小猫"' in body["draft_content"]


@pytest.mark.parametrize(
    ("ratio", "resolution", "width", "height", "code"),
    [
        ("1:1", "1k", 1024, 1024, 1),
        ("16:9", "2k", 2560, 1440, 3),
        ("21:9", "4k", 6197, 2656, 8),
        ("3:4", "1k", 768, 1024, 2),
    ],
)
def test_generate_core_param_takes_ratio_code_size_and_tier_from_the_table(
    ratio: str, resolution: str, width: int, height: int, code: int
) -> None:
    body = generate_example(size=CONFIG.image_tiers[resolution][ratio], resolution=resolution)
    core = draft_of(body)["component_list"][0]["abilities"]["generate"]["core_param"]
    assert core["image_ratio"] == code
    assert core["large_image_info"] | {"id": ""} == {
        "type": "",
        "id": "",
        "height": height,
        "width": width,
        "resolution_type": resolution,
    }


def test_generate_uses_fresh_uuids_by_default() -> None:
    draft = draft_of(generate_example(new_id=new_uuid))
    ids = all_ids(draft)
    assert len(set(ids)) == len(ids)
    assert draft["main_component_id"] == draft["component_list"][0]["id"]


# --- blend (8) -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "prefix"), [(1, "##"), (2, "####"), (3, "######"), (10, "#" * 20)])
def test_blend_prompt_gets_two_hashes_per_input_image(count: int, prefix: str) -> None:
    body = blend_example([f"tos-cn-i-tb4s082cfz/{n}" for n in range(count)])
    blend = draft_of(body)["component_list"][0]["abilities"]["blend"]
    assert blend["core_param"]["prompt"] == prefix + "make it blue"
    assert [entry["ability_index"] for entry in blend["prompt_placeholder_info_list"]] == list(range(count))


def test_blend_lists_each_image_in_input_order_with_the_callers_strength() -> None:
    uris = ["tos-cn-i-tb4s082cfz/a", "tos-cn-i-tb4s082cfz/b"]
    blend = draft_of(blend_example(uris))["component_list"][0]["abilities"]["blend"]
    assert [entry["image_uri_list"] for entry in blend["ability_list"]] == [[uri] for uri in uris]
    first = blend["ability_list"][0]
    assert first | {"id": ""} == {
        "type": "",
        "id": "",
        "name": "byte_edit",
        "image_uri_list": ["tos-cn-i-tb4s082cfz/a"],
        "image_list": [first["image_list"][0]],
        "strength": 0.7,
    }
    assert first["image_list"][0] | {"id": ""} == {
        "type": "image",
        "id": "",
        "source_from": "upload",
        "platform_type": 1,
        "name": "",
        "image_uri": "tos-cn-i-tb4s082cfz/a",
        "width": 0,
        "height": 0,
        "format": "",
        "uri": "tos-cn-i-tb4s082cfz/a",
    }


def test_blend_follows_the_callers_ratio_and_has_no_seed() -> None:
    core = draft_of(blend_example(["u"]))["component_list"][0]["abilities"]["blend"]["core_param"]
    assert list(core) == [
        "type",
        "id",
        "model",
        "prompt",
        "sample_strength",
        "image_ratio",
        "large_image_info",
        "intelligent_ratio",
    ]
    large = core["large_image_info"]
    assert (core["image_ratio"], large["width"], large["height"], large["resolution_type"]) == (3, 2560, 1440, "2k")
    assert core["sample_strength"] == 0.7


def test_blend_sends_a_negative_prompt_only_when_one_is_given() -> None:
    blend = draft_of(blend_example(["u"], negative_prompt="blurry"))["component_list"][0]["abilities"]["blend"]
    assert blend["core_param"]["negative_prompt"] == "blurry"
    assert list(blend["core_param"])[4] == "negative_prompt"


def test_blend_envelope_versions_and_metrics_follow_section_8() -> None:
    body = blend_example(["u"])
    draft = draft_of(body)
    component = draft["component_list"][0]
    assert body["extend"] == {"root_model": "high_aes_general_v40"}
    assert json.loads(body["metrics_extra"]) == {
        "promptSource": "custom",
        "generateCount": 1,
        "enterFrom": "click",
        "generateId": "submit-1",
        "isRegenerate": False,
    }
    assert (draft["min_version"], draft["version"], draft["min_features"]) == ("3.2.9", "3.2.9", [])
    assert (component["min_version"], component["generate_type"]) == ("3.0.2", "blend")
    assert component["abilities"]["blend"]["min_version"] == "3.2.9"
    assert component["abilities"]["blend"]["postedit_param"]["generate_type"] == 0
    assert component["metadata"]["created_time_in_ms"] == "1759132800123"


def test_blend_ids_are_all_distinct() -> None:
    ids = all_ids(draft_of(blend_example(["a", "b", "c"])))
    assert len(set(ids)) == len(ids)


# --- video (10) ----------------------------------------------------------------------------------------------


def video_input(body: dict[str, Any]) -> dict[str, Any]:
    params = draft_of(body)["component_list"][0]["abilities"]["gen_video"]["text_to_video_params"]
    return params["video_gen_inputs"][0]


def test_video_draft_follows_section_10_3() -> None:
    body = video_example()
    draft = draft_of(body)
    component = draft["component_list"][0]
    gen_video = component["abilities"]["gen_video"]
    params = gen_video["text_to_video_params"]
    assert "min_features" not in draft
    assert (draft["min_version"], draft["version"], draft["is_from_tsn"]) == ("3.0.5", "3.3.28", True)
    assert list(component) == ["type", "id", "min_version", "metadata", "generate_type", "aigc_mode", "abilities"]
    assert (component["type"], component["min_version"], component["generate_type"]) == (
        "video_base_component",
        "1.0.0",
        "gen_video",
    )
    assert component["metadata"]["created_time_in_ms"] == 1759132800123
    assert list(gen_video)[:2] == ["id", "type"]
    assert params | {"id": "", "video_gen_inputs": []} == {
        "type": "",
        "id": "",
        "model_req_key": "dreamina_ic_generate_video_model_vgfm_3.0_pro",
        "priority": 0,
        "seed": 2534567890,
        "video_aspect_ratio": "16:9",
        "video_gen_inputs": [],
    }


def test_video_task_extra_is_the_same_string_as_metrics_extra() -> None:
    body = video_example()
    gen_video = draft_of(body)["component_list"][0]["abilities"]["gen_video"]
    assert gen_video["video_task_extra"] == body["metrics_extra"]
    metrics = json.loads(body["metrics_extra"])
    assert metrics | {"originSubmitId": ""} == {
        "enterFrom": "click",
        "isDefaultSeed": 1,
        "promptSource": "custom",
        "isRegenerate": False,
        "originSubmitId": "",
    }


def test_video_input_without_frames_has_no_frame_members() -> None:
    entry = video_input(video_example())
    assert entry | {"id": ""} == {
        "duration_ms": 5000,
        "fps": 24,
        "id": "",
        "min_version": "3.0.5",
        "prompt": "waves on a beach",
        "resolution": "720p",
        "type": "",
        "video_mode": 2,
    }


def test_video_frames_carry_the_requested_video_size() -> None:
    entry = video_input(video_example(first_frame_uri="tos-cn-i-tb4s082cfz/abc", duration_s=10))
    assert "end_frame_image" not in entry
    assert entry["duration_ms"] == 10000
    assert entry["first_frame_image"] | {"id": ""} == {
        "format": "",
        "height": 720,
        "id": "",
        "image_uri": "tos-cn-i-tb4s082cfz/abc",
        "name": "",
        "platform_type": 1,
        "source_from": "upload",
        "type": "image",
        "uri": "tos-cn-i-tb4s082cfz/abc",
        "width": 1280,
    }
    assert list(entry)[:3] == ["duration_ms", "first_frame_image", "fps"]


@pytest.mark.parametrize(
    ("first", "end", "root_model"),
    [
        (None, None, "dreamina_ic_generate_video_model_vgfm_3.0_pro"),
        ("f", None, "dreamina_ic_generate_video_model_vgfm_3.0_pro"),
        ("f", "e", FIRST_LAST_MODEL),
    ],
)
def test_video_root_model_is_forced_to_the_first_last_frame_model_only_with_an_end_frame(
    first: str | None, end: str | None, root_model: str
) -> None:
    body = video_example(first_frame_uri=first, end_frame_uri=end)
    params = draft_of(body)["component_list"][0]["abilities"]["gen_video"]["text_to_video_params"]
    assert body["extend"]["root_model"] == root_model
    assert params["model_req_key"] == "dreamina_ic_generate_video_model_vgfm_3.0_pro"


def test_video_envelope_carries_the_commerce_info_twice() -> None:
    body = video_example()
    commerce = {
        "benefit_type": "basic_video_operation_vgfm_v_three",
        "resource_id": "generate_video",
        "resource_id_type": "str",
        "resource_sub_type": "aigc",
    }
    assert body["extend"]["m_video_commerce_info"] == commerce
    assert body["extend"]["m_video_commerce_info_list"] == [commerce]
    assert body["http_common_info"] == {"aid": 513695}
    assert body["submit_id"] == "submit-v"


def test_video_ids_are_all_distinct() -> None:
    body = video_example(first_frame_uri="f", end_frame_uri="e")
    ids = [*all_ids(draft_of(body)), json.loads(body["metrics_extra"])["originSubmitId"]]
    assert len(set(ids)) == len(ids)


# --- seeds and sizes ----------------------------------------------------------------------------------------


def test_seed_lies_in_the_web_apps_range() -> None:
    rng = random.Random(3)
    seeds = [new_seed(rng) for _ in range(200)]
    assert all(SEED_RANGE[0] <= seed <= SEED_RANGE[1] for seed in seeds)


def test_image_size_table_is_what_the_builders_receive() -> None:
    assert CONFIG.image_tiers["2k"]["1:1"] == ImageSize(2048, 2048, 1)
