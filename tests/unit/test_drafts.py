"""Image bodies of aigc_draft/generate: text to image (2026 3.4, its complete example byte for byte) and blends
(2026 3.5)."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from app.domain.models import DraftKind, DraftSpec
from app.jimeng.drafts import as_json, blend_body, generate_body
from app.jimeng.ids import SEED_RANGE, new_seed, new_uuid
from config.upstream import load_upstream

CONFIG = load_upstream()
SUBMIT_ID = "00000000-0000-4000-8000-000000000001"

# 2026 3.4, the complete example: jimeng-5.0, one image, 16:9 at 2k.
EXAMPLE_SPEC = DraftSpec(
    kind=DraftKind.GENERATE, model_key="high_aes_general_v50", prompt="两匹小马在草原上奔跑", width=2560, height=1440,
    ratio="16:9", resolution="2k", ratio_code=3, count=1,
)  # fmt: skip
EXAMPLE_SCENE_OPTIONS = (  # verbatim from the example's metrics_extra
    '[{"type":"image","scene":"ImageBasicGenerate","modelReqKey":"high_aes_general_v50","resolutionType":"2k",'
    '"abilityList":[],"benefitCount":1,"reportParams":{"enterSource":"generate","vipSource":"generate",'
    '"extraVipFunctionKey":"high_aes_general_v50-2k","useVipFunctionDetailsReporterHoc":true}}]'
)
EXAMPLE_METRICS: dict[str, Any] = {
    "promptSource": "custom",
    "generateCount": 1,
    "enterFrom": "click",
    "position": "page_bottom_box",
    "sceneOptions": EXAMPLE_SCENE_OPTIONS,
    "isBoxSelect": False,
    "isCutout": False,
    "generateId": "00000000-0000-4000-8000-000000000001",
    "isRegenerate": False,
}
EXAMPLE_DRAFT: dict[str, Any] = {
    "type": "draft",
    "id": "00000000-0000-4000-8000-000000000003",
    "min_version": "3.0.2",
    "min_features": [],
    "is_from_tsn": True,
    "version": "3.3.28",
    "main_component_id": "00000000-0000-4000-8000-000000000002",
    "component_list": [
        {
            "type": "image_base_component",
            "id": "00000000-0000-4000-8000-000000000002",
            "min_version": "3.0.2",
            "aigc_mode": "workbench",
            "metadata": {
                "type": "",
                "id": "00000000-0000-4000-8000-000000000004",
                "created_platform": 3,
                "created_platform_version": "",
                "created_time_in_ms": "1790000000123",
                "created_did": "",
            },
            "generate_type": "generate",
            "abilities": {
                "type": "",
                "id": "00000000-0000-4000-8000-000000000005",
                "generate": {
                    "type": "",
                    "id": "00000000-0000-4000-8000-000000000006",
                    "core_param": {
                        "type": "",
                        "id": "00000000-0000-4000-8000-000000000007",
                        "model": "high_aes_general_v50",
                        "prompt": "两匹小马在草原上奔跑",
                        "negative_prompt": "",
                        "seed": 1357613421,
                        "sample_strength": 0.5,
                        "image_ratio": 3,
                        "large_image_info": {
                            "type": "",
                            "id": "00000000-0000-4000-8000-000000000008",
                            "height": 1440,
                            "width": 2560,
                            "resolution_type": "2k",
                        },
                        "intelligent_ratio": False,
                        "generate_type": 0,
                    },
                },
                "gen_option": {
                    "type": "",
                    "id": "00000000-0000-4000-8000-000000000009",
                    "gen_count": 1,
                    "generate_all": False,
                },
            },
        }
    ],
}


def numbered_ids(start: int = 2) -> Callable[[], str]:
    """The example's ids: 00000000-0000-4000-8000-0000000000NN, NN counting up from ``start``."""
    counter: Iterator[int] = itertools.count(start)
    return lambda: f"00000000-0000-4000-8000-{next(counter):012d}"


def generate_example(spec: DraftSpec = EXAMPLE_SPEC, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {"submit_id": SUBMIT_ID, "seed": 1357613421, "now_ms": 1790000000123}
    return generate_body(CONFIG, spec, **(arguments | {"new_id": numbered_ids()} | overrides))


BLEND_SPEC = replace(EXAMPLE_SPEC, kind=DraftKind.BLEND, prompt="make it blue", sample_strength=0.7, count=2)


def blend_example(uris: list[str], spec: DraftSpec = BLEND_SPEC, **overrides: Any) -> dict[str, Any]:
    spec = replace(spec, image_uris=tuple(uris))
    return blend_body(CONFIG, spec, **({"submit_id": "submit-1", "now_ms": 1, "new_id": numbered_ids()} | overrides))


def draft_of(body: dict[str, Any]) -> dict[str, Any]:
    return json.loads(body["draft_content"])


def abilities_of(body: dict[str, Any]) -> dict[str, Any]:
    abilities: dict[str, Any] = draft_of(body)["component_list"][0]["abilities"]
    return abilities


def all_ids(value: Any) -> list[str]:
    """Every ``id`` member of a decoded draft (``main_component_id`` is not an ``id`` member)."""
    if isinstance(value, dict):
        own = [value["id"]] if "id" in value else []
        return own + [i for child in value.values() for i in all_ids(child)]
    if isinstance(value, list):
        return [i for child in value for i in all_ids(child)]
    return []


# --- text to image (2026 3.4) -------------------------------------------------------------------------------


def test_generate_body_equals_the_complete_example_byte_for_byte() -> None:
    body = generate_example()
    assert body == {
        "extend": {"root_model": "high_aes_general_v50"},
        "submit_id": SUBMIT_ID,
        "metrics_extra": as_json(EXAMPLE_METRICS),
        "draft_content": as_json(EXAMPLE_DRAFT),
        "http_common_info": {"aid": 513695},
    }
    assert list(body) == ["extend", "submit_id", "metrics_extra", "draft_content", "http_common_info"]
    assert json.loads(body["metrics_extra"])["sceneOptions"] == EXAMPLE_SCENE_OPTIONS
    assert "两匹小马" in body["draft_content"] and " " not in body["metrics_extra"]


def test_gen_option_is_a_sibling_of_generate_with_the_jobs_count() -> None:
    abilities = abilities_of(generate_example(replace(EXAMPLE_SPEC, count=4)))
    assert list(abilities) == ["type", "id", "generate", "gen_option"]
    assert abilities["gen_option"] | {"id": ""} == {"type": "", "id": "", "gen_count": 4, "generate_all": False}
    assert "history_option" not in abilities["generate"]
    scene = json.loads(json.loads(generate_example(replace(EXAMPLE_SPEC, count=4))["metrics_extra"])["sceneOptions"])
    assert scene[0]["benefitCount"] == 4


def test_a_fixed_batch_model_sends_no_gen_option() -> None:
    abilities = abilities_of(generate_example(replace(EXAMPLE_SPEC, count=4, gen_option=False)))
    assert list(abilities) == ["type", "id", "generate"]


@pytest.mark.parametrize(
    ("ratio", "tier"), [("1:1", "1k"), ("16:9", "1.5k"), ("21:9", "4k"), ("3:4", "1k"), ("4:3", "4k")]
)
def test_core_param_takes_ratio_code_size_and_tier_from_the_spec(ratio: str, tier: str) -> None:
    size = CONFIG.image_tiers[tier][ratio]
    spec = replace(EXAMPLE_SPEC, width=size.width, height=size.height, ratio_code=size.code, resolution=tier)
    body = generate_example(spec)
    core = abilities_of(body)["generate"]["core_param"]
    assert core["image_ratio"] == size.code
    assert core["large_image_info"] | {"id": ""} == {
        "type": "", "id": "", "height": size.height, "width": size.width, "resolution_type": tier,
    }  # fmt: skip
    assert json.loads(json.loads(body["metrics_extra"])["sceneOptions"])[0]["resolutionType"] == tier


def test_generate_uses_fresh_uuids_by_default() -> None:
    draft = draft_of(generate_example(new_id=new_uuid))
    ids = all_ids(draft)
    assert len(set(ids)) == len(ids)
    assert draft["main_component_id"] == draft["component_list"][0]["id"]


def test_seeds_are_any_unsigned_32_bit_number() -> None:
    rng = random.Random(3)
    seeds = [new_seed(rng) for _ in range(500)]
    assert SEED_RANGE == (0, 2**32 - 1)
    assert all(0 <= seed < 2**32 for seed in seeds)
    assert min(seeds) < 2**31 < max(seeds)


# --- blend (2026 3.5) ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "prefix"), [(1, "##"), (2, "####"), (3, "######"), (10, "#" * 20)])
def test_blend_prompt_gets_two_hashes_per_input_image(count: int, prefix: str) -> None:
    body = blend_example([f"tos-cn-i-tb4s082cfz/{n}" for n in range(count)])
    blend = abilities_of(body)["blend"]
    assert blend["core_param"]["prompt"] == prefix + "make it blue"
    scene = json.loads(json.loads(body["metrics_extra"])["sceneOptions"])[0]
    assert scene["abilityList"] == [{"abilityName": "byte_edit", "strength": 0.7}] * count


def test_blend_is_one_byte_edit_ability_listing_every_image_in_input_order() -> None:
    uris = ["tos-cn-i-tb4s082cfz/a", "tos-cn-i-tb4s082cfz/b"]
    blend = abilities_of(blend_example(uris))["blend"]
    (edit,) = blend["ability_list"]
    assert edit | {"id": "", "image_list": []} == {
        "type": "", "id": "", "name": "byte_edit", "image_uri_list": uris, "image_list": [], "strength": 0.7,
    }  # fmt: skip
    assert [image | {"id": ""} for image in edit["image_list"]] == [
        {"type": "image", "id": "", "source_from": "upload", "platform_type": 1, "name": "", "image_uri": uri,
         "width": 0, "height": 0, "format": "", "uri": uri}
        for uri in uris
    ]  # fmt: skip
    assert [entry["ability_index"] for entry in blend["prompt_placeholder_info_list"]] == [0]
    assert list(blend) == [
        "type", "id", "min_features", "core_param", "ability_list", "history_option", "prompt_placeholder_info_list",
        "postedit_param",
    ]  # fmt: skip
    assert blend["postedit_param"]["generate_type"] == 0


def test_blend_core_param_follows_the_callers_ratio_and_has_no_seed() -> None:
    core = abilities_of(blend_example(["u"]))["blend"]["core_param"]
    assert list(core) == ["type", "id", "model", "prompt", "sample_strength", "image_ratio", "large_image_info"]
    large = core["large_image_info"]
    assert (core["image_ratio"], large["width"], large["height"], large["resolution_type"]) == (3, 2560, 1440, "2k")
    assert core["sample_strength"] == 0.7


def test_blend_sends_a_negative_prompt_only_when_one_is_given() -> None:
    core = abilities_of(blend_example(["u"], replace(BLEND_SPEC, negative_prompt="blurry")))["blend"]["core_param"]
    assert (list(core)[4], core["negative_prompt"]) == ("negative_prompt", "blurry")


def test_blend_component_draft_and_gen_option_follow_section_3_5() -> None:
    body = blend_example(["u"])
    draft = draft_of(body)
    component = draft["component_list"][0]
    assert body["extend"] == {"root_model": "high_aes_general_v50"}
    assert list(component) == ["type", "id", "min_version", "aigc_mode", "gen_type", "generate_type", "abilities"]
    assert (component["min_version"], component["gen_type"], component["generate_type"]) == ("3.0.2", 12, "blend")
    assert (draft["min_version"], draft["version"], draft["min_features"]) == ("3.0.2", "3.3.28", [])
    assert list(component["abilities"]) == ["type", "id", "blend", "gen_option"]
    assert component["abilities"]["gen_option"]["gen_count"] == 2
    metrics = json.loads(body["metrics_extra"])
    assert (metrics["generateId"], metrics["generateCount"]) == ("submit-1", 1)


def test_blend_ids_are_all_distinct() -> None:
    ids = all_ids(draft_of(blend_example(["a", "b", "c"], new_id=new_uuid)))
    assert len(set(ids)) == len(ids)
