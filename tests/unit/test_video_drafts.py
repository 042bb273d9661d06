"""Video bodies of aigc_draft/generate (2026 4.2-4.6): the two complete examples of 4.4 and 4.5 byte for byte,
then the rules around them (modes, frames, draft mode, min_features, the commerce info)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from app.domain.models import DraftKind, DraftSpec
from app.jimeng.drafts import as_json
from app.jimeng.ids import new_uuid
from app.jimeng.video_drafts import video_body
from config.upstream import load_upstream

CONFIG = load_upstream()
U1 = "tos-cn-i-tb4s082cfz/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
U2 = "tos-cn-i-tb4s082cfz/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"


def example_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def ids(*numbers: int) -> Callable[[], str]:
    """The examples' ids in the order the builder draws them (the examples skip a number after the input)."""
    queue = [example_id(n) for n in numbers]
    return lambda: queue.pop(0)


def commerce(benefit: str) -> dict[str, Any]:
    return {
        "amount": 5,
        "benefit_type": benefit,
        "resource_id": "generate_video",
        "resource_id_type": "str",
        "resource_sub_type": "aigc",
    }


def scene_options(key: str) -> str:
    return as_json(
        [
            {
                "type": "video",
                "scene": "BasicVideoGenerateButton",
                "resolution": "720p",
                "modelReqKey": key,
                "videoDuration": 5,
                "batchNumber": 1,
                "inputVideoDuration": 0,
                "chargeInputVideoDuration": True,
                "isLongVideo": False,
                "hasInputVideo": False,
                "reportParams": {
                    "enterSource": "generate",
                    "vipSource": "generate",
                    "extraVipFunctionKey": f"{key}-720p",
                    "useVipFunctionDetailsReporterHoc": True,
                },
                "materialTypes": [],
            }
        ]
    )


def metadata(n: int, created: str) -> dict[str, Any]:
    return {
        "type": "",
        "id": example_id(n),
        "created_platform": 3,
        "created_platform_version": "",
        "created_time_in_ms": created,
        "created_did": "",
    }


def video_draft(
    base: int, key: str, created: str, features: list[str], entry: dict[str, Any], seed: int, metrics: str
) -> dict[str, Any]:
    """The decoded ``draft_content`` of both examples; ids are ``base`` + 2 ... + 8."""
    params = {
        "type": "",
        "id": example_id(base + 7),
        "video_gen_inputs": [entry],
        "video_aspect_ratio": "16:9",
        "seed": seed,
        "model_req_key": key,
        "priority": 0,
    }
    gen_video = {"type": "", "id": example_id(base + 6), "text_to_video_params": params, "video_task_extra": metrics}
    component = {
        "type": "video_base_component",
        "id": example_id(base + 2),
        "min_version": "1.0.0",
        "aigc_mode": "workbench",
        "metadata": metadata(base + 4, created),
        "generate_type": "gen_video",
        "abilities": {"type": "", "id": example_id(base + 5), "gen_video": gen_video},
        "process_type": 1,
    }
    return {
        "type": "draft",
        "id": example_id(base + 3),
        "min_version": "3.0.5",
        "min_features": features,
        "is_from_tsn": True,
        "version": "3.3.28",
        "main_component_id": example_id(base + 2),
        "component_list": [component],
    }


# 2026 4.4: Seedance 2.0, text to video, 720p, 5 s, 16:9.
SPEC_44 = DraftSpec(
    kind=DraftKind.VIDEO, model_key="dreamina_seedance_40_pro", prompt="海浪拍打礁石，慢镜头，电影感", width=1280,
    height=720, ratio="16:9", resolution="720p", duration_s=5, benefit_type="dreamina_video_seedance_20_pro",
)  # fmt: skip
METRICS_44 = as_json(
    {
        "isDefaultSeed": 1,
        "originSubmitId": example_id(101),
        "isRegenerate": False,
        "enterFrom": "click",
        "position": "page_bottom_box",
        "promptType": "original_prompt",
        "functionMode": "omni_reference",
        "generatorFeature": "omniReference",
        "sceneOptions": scene_options("dreamina_seedance_40_pro"),
        "batchNumber": 1,
        "submitGroupId": example_id(110),
        "hasRejectedAudit": 0,
    }
)
INPUT_44 = {
    "type": "",
    "id": example_id(108),
    "min_version": "3.0.5",
    "prompt": "海浪拍打礁石，慢镜头，电影感",
    "video_mode": 2,
    "fps": 24,
    "duration_ms": 5000,
    "resolution": "720p",
    "idip_meta_list": [],
}
DRAFT_44 = video_draft(100, "dreamina_seedance_40_pro", "1790000000456", [], INPUT_44, 3116626725, METRICS_44)

# 2026 4.5: Seedance 2.5, first + last frame, 720p, 5 s.
SPEC_45 = replace(
    SPEC_44, model_key="dreamina_seedance_45_pro", prompt="镜头从白天缓慢过渡到夜晚",
    benefit_type="seedance_25_720p_output", image_uris=(U1, U2),
)  # fmt: skip
METRICS_45 = as_json(
    {
        "isDefaultSeed": 1,
        "originSubmitId": example_id(201),
        "isRegenerate": False,
        "enterFrom": "click",
        "position": "page_bottom_box",
        "promptType": "original_prompt",
        "functionMode": "first_last_frames",
        "generatorFeature": "firstLastFrames",
        "sceneOptions": scene_options("dreamina_seedance_45_pro"),
        "batchNumber": 1,
        "hasRejectedAudit": 0,
    }
)


def frame(n: int, uri: str) -> dict[str, Any]:
    return {
        "type": "image",
        "id": example_id(n),
        "source_from": "upload",
        "platform_type": 1,
        "name": "",
        "image_uri": uri,
        "aigc_image": {"type": "", "id": example_id(n + 1)},
        "width": 1280,
        "height": 720,
        "format": "",
        "uri": uri,
    }


INPUT_45 = {
    "type": "",
    "id": example_id(208),
    "min_version": "3.0.5",
    "prompt": "镜头从白天缓慢过渡到夜晚",
    "video_mode": 2,
    "fps": 24,
    "duration_ms": 5000,
    "resolution": "720p",
    "first_frame_image": frame(210, U1),
    "end_frame_image": frame(212, U2),
    "ending_control": "1.0",
    "idip_meta_list": [],
}
DRAFT_45 = video_draft(
    200, "dreamina_seedance_45_pro", "1790000000789", ["AIGC_Video_Seedance25ResultAction"], INPUT_45, 2534567890,
    METRICS_45,
)  # fmt: skip


def body_44(spec: DraftSpec = SPEC_44, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {"submit_id": example_id(101), "seed": 3116626725, "now_ms": 1790000000456}
    return video_body(CONFIG, spec, **(arguments | {"new_id": ids(*range(102, 109), 110)} | overrides))


def body_45(spec: DraftSpec = SPEC_45, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {"submit_id": example_id(201), "seed": 2534567890, "now_ms": 1790000000789}
    return video_body(CONFIG, spec, **(arguments | {"new_id": ids(*range(202, 209), *range(210, 214))} | overrides))


def draft_of(body: dict[str, Any]) -> dict[str, Any]:
    return json.loads(body["draft_content"])


def video_input(body: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = draft_of(body)["component_list"][0]["abilities"]["gen_video"]["text_to_video_params"]
    return entry["video_gen_inputs"][0]


def metrics_of(body: dict[str, Any]) -> dict[str, Any]:
    metrics: dict[str, Any] = json.loads(body["metrics_extra"])
    return metrics


# --- the complete examples ----------------------------------------------------------------------------------


def test_text_to_video_equals_the_complete_example_of_4_4_byte_for_byte() -> None:
    body = body_44()
    assert body == {
        "extend": {
            "root_model": "dreamina_seedance_40_pro",
            "m_video_commerce_info": commerce("dreamina_video_seedance_20_pro"),
            "m_video_commerce_info_list": [commerce("dreamina_video_seedance_20_pro")],
        },
        "submit_id": example_id(101),
        "metrics_extra": METRICS_44,
        "draft_content": as_json(DRAFT_44),
        "http_common_info": {"aid": 513695},
    }
    assert list(body) == ["extend", "submit_id", "metrics_extra", "draft_content", "http_common_info"]


def test_first_and_last_frames_equal_the_complete_example_of_4_5_byte_for_byte() -> None:
    body = body_45()
    assert body == {
        "extend": {
            "root_model": "dreamina_seedance_45_pro",
            "m_video_commerce_info": commerce("seedance_25_720p_output"),
            "m_video_commerce_info_list": [commerce("seedance_25_720p_output")],
        },
        "submit_id": example_id(201),
        "metrics_extra": METRICS_45,
        "draft_content": as_json(DRAFT_45),
        "http_common_info": {"aid": 513695},
    }


def test_video_task_extra_is_the_same_string_as_metrics_extra() -> None:
    for body in (body_44(), body_45()):
        gen_video = draft_of(body)["component_list"][0]["abilities"]["gen_video"]
        assert gen_video["video_task_extra"] == body["metrics_extra"]


# --- the rules around them ----------------------------------------------------------------------------------


def test_a_first_frame_alone_has_no_end_frame_and_no_ending_control() -> None:
    entry = video_input(body_45(replace(SPEC_45, image_uris=(U1,)), new_id=new_uuid))
    assert "first_frame_image" in entry and "end_frame_image" not in entry and "ending_control" not in entry
    assert list(entry)[-2:] == ["first_frame_image", "idip_meta_list"]


@pytest.mark.parametrize(
    ("key", "uris", "mode", "group"),
    [
        ("dreamina_seedance_40", (), "omni_reference", True),
        ("dreamina_minimax_h3", (), "omni_reference", True),
        ("dreamina_seedance_40", (U1,), "first_last_frames", False),
        ("dreamina_ic_generate_video_model_vgfm_3.0_pro", (), "first_last_frames", False),
    ],
)
def test_the_function_mode_follows_the_frames_and_the_model(
    key: str, uris: tuple[str, ...], mode: str, group: bool
) -> None:
    metrics = metrics_of(body_44(replace(SPEC_44, model_key=key, image_uris=uris), new_id=new_uuid))
    assert metrics["functionMode"] == mode
    assert ("submitGroupId" in metrics) is group


@pytest.mark.parametrize(
    ("key", "features"),
    [
        ("dreamina_seedance_45_pro", ["AIGC_Video_Seedance25ResultAction"]),
        ("dreamina_seedance_45_pro_draft", ["AIGC_Video_Seedance25ResultAction"]),
        ("dreamina_seedance_40_pro", []),
        ("dreamina_ic_generate_video_model_vgfm_3.0_fast", []),
    ],
)
def test_min_features_follow_the_model_key(key: str, features: list[str]) -> None:
    assert draft_of(body_44(replace(SPEC_44, model_key=key), new_id=new_uuid))["min_features"] == features


def test_draft_mode_follows_section_4_6() -> None:
    spec = replace(
        SPEC_44, model_key="dreamina_seedance_45_pro_draft", resolution="480p", width=854, height=480,
        draft_mode=True, benefit_type="seedance_25_draft_480p_output",
    )  # fmt: skip
    body = body_44(spec, new_id=new_uuid)
    draft = draft_of(body)
    entry = video_input(body)
    assert (draft["min_version"], entry["min_version"], entry["is_draft_mode"]) == ("3.3.28", "3.3.28", True)
    assert list(entry)[:5] == ["type", "id", "min_version", "prompt", "is_draft_mode"]
    assert (entry["resolution"], draft["min_features"]) == ("480p", ["AIGC_Video_Seedance25ResultAction"])
    assert metrics_of(body)["videoStage"] == "draft"
    assert body["extend"]["m_video_commerce_info"]["benefit_type"] == "seedance_25_draft_480p_output"


def test_a_benefit_type_given_to_the_builder_replaces_the_specs() -> None:
    body = body_44(benefit_type="seedance_20_pro_fallback", new_id=new_uuid)
    assert body["extend"]["m_video_commerce_info"]["benefit_type"] == "seedance_20_pro_fallback"
    assert body["extend"]["m_video_commerce_info_list"][0]["benefit_type"] == "seedance_20_pro_fallback"


def test_amount_is_the_outputs_seconds_as_a_number_and_can_be_left_out() -> None:
    body = body_44(replace(SPEC_44, duration_s=12), new_id=new_uuid)
    assert body["extend"]["m_video_commerce_info"]["amount"] == 12
    config = replace(CONFIG, video=replace(CONFIG.video, send_amount=False))
    quiet = video_body(config, SPEC_44, submit_id="s", seed=1, now_ms=1)
    assert "amount" not in quiet["extend"]["m_video_commerce_info"]


def test_video_ids_are_all_distinct() -> None:
    draft = draft_of(body_45(new_id=new_uuid))

    def all_ids(value: Any) -> list[str]:
        if isinstance(value, dict):
            return ([value["id"]] if "id" in value else []) + [i for child in value.values() for i in all_ids(child)]
        return [i for child in value for i in all_ids(child)] if isinstance(value, list) else []

    found = all_ids(draft)
    assert len(set(found)) == len(found) == 11
