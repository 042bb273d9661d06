"""Video bodies of aigc_draft/generate (baseline section 10)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.jimeng.video_drafts import video_body
from config.upstream import load_upstream

CONFIG = load_upstream()
VIDEO_KEY = "dreamina_ic_generate_video_model_vgfm_3.0"
FIRST_LAST_MODEL = VIDEO_KEY


def numbered_ids(start: int = 2) -> Callable[[], str]:
    counter: Iterator[int] = itertools.count(start)
    return lambda: f"00000000-0000-1000-8000-{next(counter):012d}"


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
    if isinstance(value, dict):
        own = [value["id"]] if "id" in value else []
        return own + [i for child in value.values() for i in all_ids(child)]
    if isinstance(value, list):
        return [i for child in value for i in all_ids(child)]
    return []


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
