"""Video models (4.1), benefits and their captured aliases (4.2), the 2026 video draft (4.3-4.6) and
``video_generate/get_common_config`` (7.2): checklist items 4, 9, 10, 14 and 15. Tables copied from the notes."""

from __future__ import annotations

from typing import Any

import pytest

from app.emulator import EmulatorServer
from tests.emulator.conftest import png
from tests.emulator.emulator_client import S20, S20_BENEFIT, Wire, video_body

CONFIG = "/mweb/v1/video_generate/get_common_config"
S25 = "dreamina_seedance_45_pro"
S25_DRAFT = "dreamina_seedance_45_pro_draft"
V30_PRO = "dreamina_ic_generate_video_model_vgfm_3.0_pro"
HAPPYHORSE = "dreamina_happyhorse_v1_1"
# 4.1: key -> (resolution -> config benefit_type, (min s, max s), takes an end frame)
MODELS: dict[str, tuple[dict[str, str], tuple[int, int], bool]] = {
    S25: ({r: f"seedance_25_{r}_output" for r in ("480p", "720p", "1080p")}, (4, 30), True),
    S25_DRAFT: ({"480p": "seedance_25_draft_480p_output"}, (4, 15), True),
    S20: ({"720p": S20_BENEFIT}, (4, 15), True),
    "dreamina_seedance_40": ({"720p": "dreamina_seedance_20_fast"}, (4, 15), True),
    "dreamina_seedance_40_mini": ({"720p": "seedance_20_mini_720p_output"}, (4, 15), True),
    "dreamina_seedance_40_vision": ({"720p": "seedance_20_fast_720p_output"}, (4, 15), True),
    "dreamina_seedance_40_pro_vision": ({r: f"seedance_20_pro_{r}_output" for r in ("720p", "1080p", "4k")}, (4, 15),
                                        True),
    "dreamina_ic_generate_video_model_vgfm_3.5_pro": (
        {"720p": "dreamina_video_seedance_15_pro", "1080p": "dreamina_video_seedance_15_pro_1080_add"}, (5, 12), True),
    V30_PRO: ({"1080p": "basic_video_operation_vgfm_v_three_pro"}, (5, 10), False),
    "dreamina_ic_generate_video_model_vgfm_3.0_fast": (
        {r: "basic_video_operation_vgfm_v_three" for r in ("720p", "1080p")}, (5, 10), False),
    "dreamina_minimax_h3": ({r: f"minimax_h3_{r}_output" for r in ("768p", "2k")}, (4, 15), True),
    HAPPYHORSE: ({r: f"happyhorse_11_{r}_output" for r in ("720p", "1080p")}, (4, 15), False),
    "dreamina_wan_30": ({r: f"wan_30_{r}_output" for r in ("720p", "1080p")}, (4, 15), True),
}  # fmt: skip
ROWS = [(key, res, benefit, seconds) for key, (benefits, span, _) in MODELS.items()
        for res, benefit in benefits.items() for seconds in span]  # fmt: skip
# 4.1 / 4.2: names captured from the web app that the config does not list
ALIASES = [
    (S25, "720p", "seedance_25_720p_no_input_video_output"),
    (S25_DRAFT, "480p", "seedance_25_draft_480p_no_input_video_output"),
    ("dreamina_seedance_40_mini", "720p", "seedance_20_mini_720p_output_5s"),
    ("dreamina_seedance_40_mini", "720p", "seedance_20_mini_720p_output_8s"),
    ("dreamina_seedance_40_vision", "720p", "dreamina_seedance_20_fast_5s"),
    ("dreamina_seedance_40", "720p", "seedance_20_fast_720p_output"),
]
RETIRED = ["dreamina_ic_generate_video_model_vgfm_3.0", "dreamina_ic_generate_video_model_vgfm_lite",
           "dreamina_ic_generate_video_model_vgfm1.0"]  # fmt: skip


def _body(model: str, resolution: str, benefit: str, seconds: int = 5, **kw: Any) -> dict[str, Any]:
    draft = {"min_version": "3.3.28", "draft_mode": True} if model == S25_DRAFT else {}
    return video_body("waves", model=model, resolution=resolution, benefit=benefit, duration_ms=seconds * 1000,
                      **draft, **kw)  # fmt: skip


@pytest.mark.parametrize(("model", "resolution", "benefit", "seconds"), ROWS)
def test_every_model_resolution_and_duration_bound_is_accepted(
    wire: Wire, emulator: EmulatorServer, model: str, resolution: str, benefit: str, seconds: int
) -> None:
    answer = wire.generate(_body(model, resolution, benefit, seconds))
    assert answer["ret"] == "0", answer
    generation = emulator.state.generations[answer["data"]["aigc_data"]["history_record_id"]]
    assert (generation.kind, generation.duration_ms, generation.benefit_type) == ("video", seconds * 1000, benefit)


@pytest.mark.parametrize(("model", "resolution", "benefit"), ALIASES)
def test_the_captured_benefit_names_are_accepted_too(wire: Wire, model: str, resolution: str, benefit: str) -> None:
    assert wire.generate(_body(model, resolution, benefit))["ret"] == "0"


@pytest.mark.parametrize(
    ("case", "change"),
    [
        ("unknown benefit", {"benefit": "basic_video_operation_vgfm_v_three"}),
        ("another resolution's benefit", {"model": S25, "benefit": "seedance_25_1080p_output"}),
        ("with-video benefit without an input video", {"benefit": "dreamina_video_seedance_20_video_add"}),
        ("string amount", {"amount": "5"}),
    ],
)
def test_a_benefit_the_upstream_does_not_know_is_ret_5001(wire: Wire, case: str, change: dict[str, Any]) -> None:
    model = change.pop("model", S20)
    answer = wire.generate(video_body("x", model=model, **change))
    assert (answer["ret"], answer["errmsg"]) == ("5001", "credit prededuct failed"), case


@pytest.mark.parametrize("amount", [None, 4, 15.35])
def test_the_amount_is_optional_and_may_be_fractional(wire: Wire, amount: float | None) -> None:
    assert wire.generate(video_body("x", amount=amount))["ret"] == "0"


def test_missing_commerce_info_is_ret_5001(wire: Wire) -> None:
    body = video_body("x")
    body["extend"] = {"root_model": S20}
    assert wire.generate(body)["ret"] == "5001"


@pytest.mark.parametrize(
    ("case", "kw"),
    [
        ("duration too long", {"duration_ms": 16000}),
        ("duration too short", {"duration_ms": 3000}),
        ("not whole seconds", {"duration_ms": 5500}),
        ("ratio not listed", {"ratio": "4:5"}),
        ("resolution missing", {"resolution": None}),
        ("resolution not offered", {"resolution": "1080p"}),
        ("process_type missing", {"process_type": None}),
        ("process_type 0", {"process_type": 0}),
    ],
)
def test_video_drafts_outside_the_models_options_are_ret_1000(
    wire: Wire, emulator: EmulatorServer, case: str, kw: dict[str, Any]
) -> None:
    answer = wire.generate(video_body("x", **kw))
    assert answer["ret"] == "1000" and answer["data"]["aigc_data"] is None, case
    assert emulator.state.generations == {}


def test_happyhorse_has_its_extra_ratios(wire: Wire) -> None:
    for ratio in ("4:5", "5:4", "9:21"):
        body = video_body("x", model=HAPPYHORSE, benefit="happyhorse_11_720p_output", ratio=ratio)
        assert wire.generate(body)["ret"] == "0"


def test_first_and_last_frames_only_where_the_model_lists_them(wire: Wire, emulator: EmulatorServer) -> None:
    first, last = wire.upload(png(16, 9)), wire.upload(png(16, 9))
    both = video_body("day to night", model=S25, benefit="seedance_25_720p_output", first_frame=first, end_frame=last)
    history_id = wire.submit(both)
    assert emulator.stats()["generations"][history_id]["image_uris"] == [first, last]
    only_first = video_body("x", model=V30_PRO, benefit=MODELS[V30_PRO][0]["1080p"], resolution="1080p",
                            first_frame=first, duration_ms=10000)  # fmt: skip
    assert wire.generate(only_first)["ret"] == "0"
    with_end = video_body("x", model=V30_PRO, benefit=MODELS[V30_PRO][0]["1080p"], resolution="1080p",
                          first_frame=first, end_frame=last)  # fmt: skip
    assert wire.generate(with_end)["ret"] == "1000"
    never = video_body("x", first_frame="tos-cn-i-tb4s082cfz/" + "0" * 32)
    assert "never uploaded" in wire.generate(never)["errmsg"]


@pytest.mark.parametrize(("min_version", "ret"), [("3.3.28", "0"), ("3.0.5", "1000"), ("3.3.9", "1000")])
def test_the_draft_mode_model_needs_min_version_3_3_28(wire: Wire, min_version: str, ret: str) -> None:
    body = video_body("x", model=S25_DRAFT, benefit="seedance_25_draft_480p_output", resolution="480p",
                      min_version=min_version, draft_mode=True)  # fmt: skip
    assert wire.generate(body)["ret"] == ret


@pytest.mark.parametrize("key", RETIRED)
def test_retired_video_keys_are_ret_2061(wire: Wire, emulator: EmulatorServer, key: str) -> None:
    answer = wire.generate(video_body("x", model=key, benefit="basic_video_operation_vgfm_v_three"))
    assert (answer["ret"], answer["errmsg"]) == ("2061", "模型已不可用，请刷新界面后再试试")
    assert answer["data"]["aigc_data"] is None and emulator.state.generations == {}


def test_the_retired_list_is_configurable(wire: Wire, emulator: EmulatorServer) -> None:
    emulator.configure(retired_models=[S20])
    assert wire.generate(video_body("x"))["ret"] == "2061"
    assert S20 not in {m["model_req_key"] for m in wire.ok(CONFIG, {})["model_list"]}


@pytest.mark.parametrize(
    "body", [{"scene": "video_generate", "params": {}}, {"scene": "video_generate"},
             {"scene": "generate_video", "params": {"needCache": True}}, {}],
)  # fmt: skip
def test_video_config_answers_the_model_list_for_all_three_body_forms(wire: Wire, body: dict[str, Any]) -> None:
    data = wire.ok(CONFIG, body)
    assert data["max_batch_gen_count"] == 4 and data["default_model_idx"] == 0
    listed = {model["model_req_key"]: model for model in data["model_list"]}
    assert set(listed) == set(MODELS) and data["model_list"][0]["model_req_key"] == S25
    for key, (benefits, (low, high), end_frame) in MODELS.items():
        model = listed[key]
        assert model["model_status"] == 0
        options = {option["key"]: option for option in model["options"]}
        resolutions = [r.lower() for r in options["resolution"]["enum_val"]["string_value"]]
        assert resolutions == list(benefits)
        prices = {
            p["resolution"]: p["price"]["benefit_type"] for p in model["commercial_config"]["resolution_price_configs"]
        }
        assert prices == benefits
        if "frames" in options:
            frames = options["frames"]["enum_val"]["int_value"]
            assert (frames[0] // 24, frames[-1] // 24) == (low, high) and all(f % 24 == 0 for f in frames)
        else:
            millis = options["duration_ms"]["enum_val"]["int_value"]
            assert (millis[0], millis[-1]) == (low * 1000, high * 1000)
        media_types = options["input_media_type"]["enum_val"]["string_value"]
        assert "first_frame" in media_types and ("end_frame" in media_types) == end_frame
        assert model["extra"] == ({"is_draft_mode": True} if key == S25_DRAFT else {})


def test_other_scenes_answer_an_empty_list(wire: Wire) -> None:
    assert wire.ok(CONFIG, {"scene": "lip_sync_image_generate_video"})["model_list"] == []


def test_the_video_config_can_be_made_to_fail(wire: Wire, emulator: EmulatorServer) -> None:
    emulator.configure(video_config_failure="http_500")
    assert wire.call(CONFIG, {}).status_code == 500
    emulator.configure(video_config_failure="2008")
    assert wire.call(CONFIG, {}).json()["ret"] == "2008"


def test_non_strict_mode_takes_the_baseline_video_draft(wire: Wire, emulator: EmulatorServer) -> None:
    emulator.configure(strict=False)
    baseline = video_body("x", model=RETIRED[0], benefit="basic_video_operation_vgfm_v_three", process_type=None,
                          duration_ms=10000)  # fmt: skip
    assert wire.generate(baseline)["ret"] == "0"
    assert wire.generate(video_body("x", process_type=None, benefit="anything"))["ret"] == "0"
