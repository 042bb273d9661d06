"""Image models, tiers and sizes (3.1, 3.2), ``gen_option.gen_count`` (3.3), blends (3.5), retired keys and
``get_common_config`` (7.1): checklist items 8, 10, 11, 13 and 17. The tables are copied from the notes here."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from app.emulator import EmulatorServer
from tests.emulator.conftest import png
from tests.emulator.emulator_client import V50, Wire, blend_body, image_body
from tests.protocol_examples import TIER_SIZES

CONFIG = "/mweb/v1/get_common_config"
V30 = "high_aes_general_v30l:general_v3.0_18b"
MJ82 = "jm_image_model_yc_mj82"
# 3.1: key -> (tiers, count options, default count, default tier)
MODELS: dict[str, tuple[tuple[str, ...], list[int], int, str | None]] = {
    "high_aes_general_v50p_large": (("1.5k", "2k", "4k"), [1, 2, 3, 4], 2, "2k"),
    "high_aes_general_v50": (("2k", "4k"), list(range(1, 9)), 4, None),
    "high_aes_general_v50_flash": (("1.5k", "2k"), [1, 2, 3, 4], 4, "2k"),
    "high_aes_general_v43": (("2k", "4k"), list(range(1, 9)), 4, None),
    "high_aes_general_v42": (("2k", "4k"), list(range(1, 9)), 4, None),
    "high_aes_general_v40l": (("2k", "4k"), list(range(1, 9)), 4, None),
    "high_aes_general_v41": (("2k", "4k"), list(range(1, 9)), 4, None),
    "high_aes_general_v40": (("2k", "4k"), list(range(1, 9)), 4, None),
    "high_aes_general_v30l_art_fangzhou:general_v3.0_18b": (("1k", "2k"), [], 4, None),
    V30: (("1k", "2k"), [], 4, None),
    MJ82: (("1k", "2k"), [4], 4, "1k"),
}
ROWS = [(model, tier, code) for model, (tiers, *_) in MODELS.items() for tier in tiers for code in range(1, 9)
        if not (model == MJ82 and code == 8)]  # fmt: skip
IPTAG_4K = [((4096, 4096), 101), ((3456, 4608), 102), ((5120, 2880), 103), ((4608, 3456), 104)]


def _age(emulator: EmulatorServer, history_id: str, elapsed: float) -> None:
    """Pretend the generation was created ``elapsed`` seconds ago (the timeline is computed lazily)."""
    emulator.state.generations[history_id].created = time.time() - elapsed


def _record(wire: Wire, history_id: str) -> dict[str, Any]:
    return wire.history([history_id])[history_id]


@pytest.mark.parametrize(("model", "tier", "code"), ROWS)
def test_every_tier_and_ratio_of_every_model_is_accepted(wire: Wire, model: str, tier: str, code: int) -> None:
    size = TIER_SIZES[tier][code - 1]
    answer = wire.generate(image_body("x", model=model, size=size, ratio=code, res=tier))
    assert answer["ret"] == "0", answer
    assert answer["data"]["aigc_data"]["model_info"]["model_req_key"] == model


@pytest.mark.parametrize(
    ("model", "size", "ratio", "tier"),
    [
        (V50, (1536, 1536), 1, "1.5k"),  # a tier the model does not offer
        ("high_aes_general_v40", (1024, 1024), 1, "1k"),
        ("high_aes_general_v50_flash", (4096, 4096), 1, "4k"),
        (V50, (2560, 1440), 1, "2k"),  # size of another ratio
        (V50, (2048, 2048), 1, "4k"),  # size of another tier
        (V50, (2048, 2048), 0, "2k"),
        (V50, (2048, 2048), 9, "2k"),
        (V50, (1000, 700), 1, "2k"),
        (MJ82, (1195, 512), 8, "1k"),  # mj82 offers 7 ratios (the emulator's reading of "7 ratios each")
    ],
)
def test_sizes_outside_the_models_resolution_map_are_ret_1000(
    wire: Wire, emulator: EmulatorServer, model: str, size: tuple[int, int], ratio: int, tier: str
) -> None:
    answer = wire.generate(image_body("x", model=model, size=size, ratio=ratio, res=tier))
    assert answer["ret"] == "1000" and answer["errmsg"], answer
    assert emulator.state.generations == {} and wire.credits()["gift_credit"] == 100


@pytest.mark.parametrize(("size", "code"), IPTAG_4K)
def test_iptags_4k_table_is_ret_1000_unless_switched_on(
    wire: Wire, emulator: EmulatorServer, size: tuple[int, int], code: int
) -> None:
    assert wire.generate(image_body("x", size=size, ratio=code, res="4k"))["ret"] == "1000"
    emulator.configure(accept_iptag_4k=True)
    assert wire.generate(image_body("x", size=size, ratio=code, res="4k"))["ret"] == "0"


def test_intelligent_ratio_may_omit_image_ratio_but_not_the_size_row(wire: Wire) -> None:
    def smart(body: dict[str, Any]) -> dict[str, Any]:
        draft = json.loads(body["draft_content"])
        draft["component_list"][0]["abilities"]["generate"]["core_param"]["intelligent_ratio"] = True
        return {**body, "draft_content": json.dumps(draft)}

    assert wire.generate(smart(image_body("x", ratio=None, size=(2560, 1440))))["ret"] == "0"
    assert wire.generate(smart(image_body("x", ratio=None, size=(2000, 1000))))["ret"] == "1000"
    assert wire.generate(image_body("x", ratio=None))["ret"] == "1000"


@pytest.mark.parametrize(
    ("model", "count", "placement", "expected"),
    [
        (V50, 1, "abilities", 1),
        (V50, 3, "abilities", 3),
        (V50, None, "abilities", 4),
        (V50, 1, "generate", 4),  # misplaced: silently the default (ZZ#28)
        (V50, 9, "abilities", 4),  # not an option: the default
        (V50, "2", "abilities", 4),  # not a number
        ("high_aes_general_v50p_large", None, "abilities", 2),
        ("high_aes_general_v50p_large", 4, "abilities", 4),
        ("high_aes_general_v50p_large", 5, "abilities", 2),
        (MJ82, 2, "abilities", 4),  # mj82: always 4
        (MJ82, 1, "abilities", 4),
        (V30, 1, "abilities", 4),  # no options offered: the fixed batch
    ],
)
def test_gen_count_is_obeyed_only_at_the_abilities_level_and_among_the_options(
    wire: Wire, emulator: EmulatorServer, model: str, count: Any, placement: str, expected: int
) -> None:
    tier, size = ("1k", (1024, 1024)) if model in (MJ82, V30) else ("2k", (2048, 2048))
    body = image_body("x [gen=100ms]", model=model, count=count, placement=placement, res=tier, size=size)
    history_id = wire.submit(body)
    record = wire.wait(history_id)
    assert record["total_image_count"] == len(record["item_list"]) == expected
    draft = json.loads(record["draft_content"])
    assert draft["component_list"][0]["abilities"]["gen_option"]["gen_count"] == expected
    entry = emulator.stats()["generations"][history_id]
    assert entry["images_made"] == expected and entry["charged"] == expected
    assert entry["gen_count_placement"] == (None if count is None else placement)


@pytest.mark.parametrize(("prompt", "items"), [("a cat [n=2]", 2), ("a cat [n=50]", 8), ("画2张猫", 4)])
def test_the_n_marker_overrides_the_count_and_the_prompt_rule_is_gone(
    wire: Wire, emulator: EmulatorServer, prompt: str, items: int
) -> None:
    history_id = wire.submit(image_body(prompt, model="high_aes_general_v40", count=1 if "[n" in prompt else None))
    assert emulator.state.generations[history_id].items == items


def test_more_than_four_images_stop_at_42_until_continued(wire: Wire, emulator: EmulatorServer) -> None:
    body = image_body("six [gen=10s]", count=6)
    history_id = wire.submit(body)
    assert wire.credits()["gift_credit"] == 96  # the first four are charged
    _age(emulator, history_id, 10)
    held = _record(wire, history_id)
    assert (held["status"], held["finished_image_count"], held["total_image_count"]) == (42, 4, 6)
    _age(emulator, history_id, 3600)
    assert _record(wire, history_id)["status"] == 42  # held for as long as nobody continues
    again = {**body, "action": 2, "history_id": history_id}
    answer = wire.generate(again)
    assert answer["ret"] == "0" and answer["data"]["aigc_data"]["history_record_id"] == history_id
    assert wire.credits()["gift_credit"] == 94
    generation = emulator.state.generations[history_id]
    generation.continued = time.time() - 5
    middle = _record(wire, history_id)
    assert middle["status"] == 45 and 4 < middle["finished_image_count"] <= 6
    generation.continued = time.time() - 10
    done = _record(wire, history_id)
    assert (done["status"], len(done["item_list"])) == (50, 6)
    assert emulator.stats()["generations"][history_id]["images_made"] == 6
    assert wire.generate(again)["ret"] == "1000"  # nothing left to continue


def test_a_continuation_may_carry_a_new_submit_id(wire: Wire, emulator: EmulatorServer) -> None:
    history_id = wire.submit(image_body("eight [gen=100ms]", count=8))
    _age(emulator, history_id, 1)
    fresh = image_body("eight [gen=100ms]", count=8)
    assert wire.generate({**fresh, "action": 2, "history_id": history_id})["ret"] == "0"
    time.sleep(0.15)
    record = wire.history(submit_ids=[fresh["submit_id"]])[fresh["submit_id"]]
    assert (record["history_record_id"], record["status"], len(record["item_list"])) == (history_id, 50, 8)


@pytest.mark.parametrize("history_id", ["123", None])
def test_a_continuation_of_a_record_that_is_not_held_is_ret_1000(wire: Wire, history_id: str | None) -> None:
    running = wire.submit(image_body("x [gen=10s]", count=2))
    answer = wire.generate({**image_body("x", count=2), "action": 2, "history_id": history_id or running})
    assert answer["ret"] == "1000"


def test_without_the_continuation_switch_all_images_come_at_once(wire: Wire, emulator: EmulatorServer) -> None:
    emulator.configure(continuation=False)
    record = wire.wait(wire.submit(image_body("x [gen=100ms]", count=7)))
    assert (record["status"], len(record["item_list"])) == (50, 7)


@pytest.mark.parametrize("key", ["high_aes_general_v21_L:general_v2.1_L", "text2img_xl_sft"])
def test_baseline_only_image_keys_are_ret_2061(wire: Wire, key: str) -> None:
    answer = wire.generate(image_body("x", model=key))
    assert (answer["ret"], answer["errmsg"]) == ("2061", "模型已不可用，请刷新界面后再试试")


def test_unknown_keys_are_ret_1000_and_a_stale_draft_version_ret_3018(wire: Wire) -> None:
    assert wire.generate(image_body("x", model="no_such_model"))["ret"] == "1000"
    assert wire.generate(image_body("x", version="3.3.2"))["ret"] == "3018"


BAD_DRAFTS: list[tuple[str, Callable[[], dict[str, Any]]]] = [
    ("missing submit_id", lambda: {**image_body("x"), "submit_id": ""}),
    ("string aid", lambda: {**image_body("x"), "http_common_info": {"aid": "513695"}}),
    ("draft not a string", lambda: {**image_body("x"), "draft_content": {"type": "draft"}}),
    ("draft not json", lambda: {**image_body("x"), "draft_content": "{oops"}),
    ("metrics_extra missing", lambda: {k: v for k, v in image_body("x").items() if k != "metrics_extra"}),
    ("root_model differs", lambda: {**image_body("x"), "extend": {"root_model": "high_aes_general_v40"}}),
    ("empty prompt", lambda: image_body("")),
    ("post-edit is not modelled", lambda: {**image_body("x"), "draft_content": json.dumps(
        {"type": "draft", "version": "3.3.28", "component_list": [{"generate_type": "normal_hd", "abilities": {}}]})}),
]  # fmt: skip


@pytest.mark.parametrize(("case", "build"), BAD_DRAFTS, ids=[case for case, _ in BAD_DRAFTS])
def test_invalid_drafts_are_ret_1000_and_charge_nothing(
    wire: Wire, emulator: EmulatorServer, case: str, build: Callable[[], dict[str, Any]]
) -> None:
    answer = wire.generate(build())
    assert answer["ret"] == "1000" and answer["errmsg"], case
    assert answer["data"]["aigc_data"] is None
    assert emulator.state.generations == {} and wire.credits()["gift_credit"] == 100


@pytest.mark.parametrize("one_ability", [True, False])
def test_both_blend_forms_run_with_gen_count_beside_the_blend(
    wire: Wire, emulator: EmulatorServer, one_ability: bool
) -> None:
    uris = [wire.upload(png(8, 8)), wire.upload(png(9, 9))]
    history_id = wire.submit(blend_body("mix [gen=100ms]", uris, one_ability=one_ability, count=1))
    record = wire.wait(history_id)
    assert (record["status"], len(record["item_list"])) == (50, 1)
    entry = emulator.stats()["generations"][history_id]
    assert (entry["kind"], entry["hash_prefix_ok"], entry["image_uris"]) == ("blend", True, uris)


def test_a_blend_takes_at_most_the_models_image_limit(wire: Wire) -> None:
    uri = wire.upload(png(8, 8))
    uris = [uri] + [f"{uri}-{i}" for i in range(10)]
    assert "at most 10" in wire.generate(blend_body("x", uris))["errmsg"]
    assert "never uploaded" in wire.generate(blend_body("x", uris[:2]))["errmsg"]


def test_get_common_config_lists_every_model_with_its_tiers_counts_and_defaults(wire: Wire) -> None:
    for body in ({}, {"is_client_filter": False, "need_beta_model": True}):
        data = wire.ok(CONFIG, body)
        listed = {model["model_req_key"]: model for model in data["model_list"]}
        assert set(listed) == set(MODELS) and data["default_model_index"] == 0
        for key, (tiers, counts, default, default_tier) in MODELS.items():
            model = listed[key]
            assert (model["generate_count_options"], model["default_generate_count"]) == (counts, default)
            assert model["default_resolution_type"] == default_tier and "byte_edit" in model["feats"]
            assert set(model["resolution_map"]) == set(tiers)
            for tier in tiers:
                for row in model["resolution_map"][tier]["image_ratio_sizes"]:
                    assert (row["width"], row["height"]) == TIER_SIZES[tier][row["ratio_type"] - 1]
        pro_4k = listed["high_aes_general_v50p_large"]["resolution_map"]["4k"]["image_ratio_sizes"]
        assert [row["ratio_type"] for row in pro_4k] == list(range(1, 9))


@pytest.mark.parametrize(
    ("failure", "status", "ret"), [("http_500", 500, None), ("1014", 200, "1014"), ("empty", 200, "0")]
)
def test_the_image_config_can_be_made_to_fail(
    wire: Wire, emulator: EmulatorServer, failure: str, status: int, ret: str | None
) -> None:
    emulator.configure(image_config_failure=failure)
    answer = wire.call(CONFIG, {})
    assert answer.status_code == status
    if ret is not None:
        assert answer.json()["ret"] == ret
    if failure == "empty":
        assert answer.json()["data"]["model_list"] == []


def test_non_strict_mode_also_takes_the_baseline_models_sizes_and_count_rule(
    wire: Wire, emulator: EmulatorServer
) -> None:
    emulator.configure(strict=False)
    assert wire.generate(image_body("x", model="text2img_xl_sft"))["ret"] == "0"
    assert wire.generate(image_body("x", size=(5120, 2880), ratio=103, res="4k"))["ret"] == "0"
    history_id = wire.submit(image_body("画6张猫", model="high_aes_general_v40", version="3.3.2"))
    assert emulator.state.generations[history_id].items == 6
