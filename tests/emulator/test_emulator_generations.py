"""Drafts, the lazy timeline, history look-ups, media, scenarios and prompt markers."""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from app.emulator import EmulatorServer
from tests.emulator.emulator_client import V40, Wire, draft_body, image_body, video_body

HISTORY = "/mweb/v1/get_history_by_ids"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", data[16:24])


def _age(emulator: EmulatorServer, history_id: str, elapsed: float) -> None:
    """Pretend the generation was created ``elapsed`` seconds ago (the timeline is computed lazily)."""
    generation = emulator.state.generations[history_id]
    generation.created = time.time() - elapsed


@pytest.mark.parametrize(
    ("size", "ratio", "res"),
    [((2048, 2048), 1, "2k"), ((2560, 1440), 3, "2k"), ((1440, 2560), 5, "2k"), ((3024, 1296), 8, "2k"),
     ((1024, 1024), 1, "1k"), ((5120, 2880), 103, "4k")],
)  # fmt: skip
def test_text_to_image_completes_with_fetchable_pngs_of_the_requested_ratio(
    wire: Wire, http: requests.Session, size: tuple[int, int], ratio: int, res: str
) -> None:
    history_id = wire.submit(image_body("a kitten [gen=200ms]", size=size, ratio=ratio, res=res))
    assert history_id.isdigit()
    record = wire.wait(history_id)
    assert record["status"] == 50 and record["fail_code"] == ""
    assert record["total_image_count"] == record["finished_image_count"] == len(record["item_list"]) == 4
    assert record["task"]["finish_time"] > 0
    for item in record["item_list"]:
        large = item["image"]["large_images"][0]
        assert (large["width"], large["height"]) == size
        with http.get(large["image_url"], timeout=5) as answer:
            assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/png"
            width, height = _png_size(answer.content)
        assert max(width, height) == 64
        assert abs(width / height - size[0] / size[1]) < 0.05
        assert http.get(item["common_attr"]["cover_url"], timeout=5).status_code == 200


def test_the_timeline_goes_20_42_45_50_with_items_appearing_one_by_one(wire: Wire, emulator: EmulatorServer) -> None:
    history_id = wire.submit(image_body("timeline [gen=100s]"))
    seen = []
    for elapsed in (1, 29, 31, 59, 61, 71, 81, 91, 99.5, 100, 150):
        _age(emulator, history_id, elapsed)
        record = wire.history([history_id])[history_id]
        assert record["total_image_count"] == 4
        assert record["finished_image_count"] == len(record["item_list"])
        seen.append((record["status"], record["finished_image_count"], record["task"]["finish_time"] > 0))
    assert seen == [
        (20, 0, False), (20, 0, False), (42, 0, False), (42, 0, False), (45, 1, False), (45, 2, False),
        (45, 3, False), (45, 4, False), (45, 4, False), (50, 4, True), (50, 4, True),
    ]  # fmt: skip


def test_a_failure_shows_status_30_with_a_string_fail_code_at_half_time(wire: Wire, emulator: EmulatorServer) -> None:
    history_id = wire.submit(image_body("nope [fail=1234] [gen=10s]"))
    _age(emulator, history_id, 4)
    assert wire.history([history_id])[history_id]["status"] == 42
    _age(emulator, history_id, 5)
    record = wire.history([history_id])[history_id]
    assert (record["status"], record["fail_code"], record["item_list"]) == (30, "1234", [])
    assert wire.credits()["gift_credit"] == 99  # charged credits stay charged


def test_the_submit_answer_carries_history_record_id_and_submit_id(wire: Wire) -> None:
    body = image_body("cat", submit_id="00000000-0000-1000-8000-000000000001")
    data = wire.generate(body)["data"]["aigc_data"]
    assert data["submit_id"] == "00000000-0000-1000-8000-000000000001"
    assert data["history_record_id"].isdigit()


def test_lookup_by_submit_id_is_keyed_by_the_id_asked_for(wire: Wire) -> None:
    body = image_body("cat [gen=200ms]")
    history_id = wire.submit(body)
    data = wire.history([history_id], submit_ids=[body["submit_id"], "unknown-submit-id"])
    assert set(data) == {history_id, body["submit_id"]}
    assert data[body["submit_id"]]["history_record_id"] == history_id
    only_submit = wire.ok(HISTORY, {"submit_ids": [body["submit_id"]], "need_batch": True})
    assert only_submit[body["submit_id"]]["submit_id"] == body["submit_id"]


def test_other_accounts_and_unknown_ids_are_simply_absent(make_wire: Callable[[str], Wire]) -> None:
    owner, other = make_wire("owner-1"), make_wire("other-1")
    body = image_body("mine")
    history_id = owner.submit(body)
    assert other.history([history_id, "999"], submit_ids=[body["submit_id"]]) == {}
    assert set(owner.history([history_id, "999"])) == {history_id}


@pytest.mark.parametrize("body", [{}, {"history_ids": []}, {"history_ids": [123]}, {"history_ids": "1"}])
def test_a_history_body_without_usable_ids_is_ret_4002(wire: Wire, body: dict[str, Any]) -> None:
    assert wire.call(HISTORY, body).json()["ret"] == "4002"


def _patch_draft(body: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    draft = json.loads(body["draft_content"])
    change(draft)
    return {**body, "draft_content": json.dumps(draft)}


def _core(draft: dict[str, Any]) -> dict[str, Any]:
    return draft["component_list"][0]["abilities"]["generate"]["core_param"]


BAD_DRAFTS: list[tuple[str, Callable[[], dict[str, Any]]]] = [
    ("unknown model", lambda: image_body("x", model="no_such_model")),
    ("size not in tables", lambda: image_body("x", size=(1000, 700), ratio=1)),
    ("ratio code mismatch", lambda: image_body("x", size=(2560, 1440), ratio=1)),
    ("resolution type mismatch", lambda: image_body("x", size=(2048, 2048), ratio=1, res="4k")),
    ("missing submit_id", lambda: {**image_body("x"), "submit_id": ""}),
    ("numeric aid", lambda: {**image_body("x"), "http_common_info": {"aid": "513695"}}),
    ("draft not a string", lambda: {**image_body("x"), "draft_content": {"type": "draft"}}),
    ("draft not json", lambda: {**image_body("x"), "draft_content": "{oops"}),
    ("metrics_extra missing", lambda: {k: v for k, v in image_body("x").items() if k != "metrics_extra"}),
    ("root_model differs", lambda: {**image_body("x"), "extend": {"root_model": "text2img_xl_sft"}}),
    (
        "bad generate_type",
        lambda: _patch_draft(image_body("x"), lambda d: d["component_list"][0].update(generate_type="inpaint")),
    ),
    ("image_ratio missing", lambda: _patch_draft(image_body("x"), lambda d: _core(d).pop("image_ratio"))),
    ("empty prompt", lambda: image_body("")),
    ("video ratio", lambda: video_body("x", ratio="10:7")),
    ("video duration", lambda: video_body("x", duration_ms=8000)),
    ("video resolution", lambda: video_body("x", resolution="4k")),
    ("video frame never uploaded", lambda: video_body("x", first_frame="tos-cn-i-tb4s082cfz/" + "0" * 32)),
]


@pytest.mark.parametrize(("case", "build"), BAD_DRAFTS, ids=[case for case, _ in BAD_DRAFTS])
def test_invalid_drafts_are_ret_4002_and_charge_nothing(
    wire: Wire, emulator: EmulatorServer, case: str, build: Callable[[], dict[str, Any]]
) -> None:
    answer = wire.generate(build())
    assert answer["ret"] == "4002" and answer["errmsg"], case
    assert emulator.state.generations == {}
    assert wire.credits()["gift_credit"] == 100


@pytest.mark.parametrize(("size", "ratio"), [((768, 1024), 4), ((1024, 768), 4), ((1024, 768), 2), ((768, 1024), 2)])
def test_both_orientations_of_the_1k_4_3_and_3_4_rows_are_accepted(
    wire: Wire, size: tuple[int, int], ratio: int
) -> None:
    assert wire.generate(image_body("x", size=size, ratio=ratio, res="1k"))["ret"] == "0"


def test_intelligent_ratio_may_omit_image_ratio(wire: Wire) -> None:
    body = _patch_draft(image_body("x", ratio=None), lambda d: _core(d).update(intelligent_ratio=True))
    assert wire.generate(body)["ret"] == "0"


@pytest.mark.parametrize(
    ("model", "prompt", "items"),
    [(V40, "画10张猫", 8), (V40, "画2张猫", 2), (V40, "a cat", 4), ("text2img_xl_sft", "画2张猫", 4),
     (V40, "a cat [n=2]", 2), (V40, "a cat [n=50]", 8), (V40, "画0张猫", 1)],
)  # fmt: skip
def test_item_count_follows_the_multi_image_rule_and_the_n_marker(
    wire: Wire, emulator: EmulatorServer, model: str, prompt: str, items: int
) -> None:
    history_id = wire.submit(image_body(prompt + " [gen=100ms]", model=model))
    assert emulator.state.generations[history_id].items == items
    assert len(wire.wait(history_id)["item_list"]) == items


def test_the_max_items_clamp_is_configurable(wire: Wire, emulator: EmulatorServer) -> None:
    emulator.configure(max_items=12)
    history_id = wire.submit(image_body("画10张猫"))
    assert emulator.state.generations[history_id].items == 10


@pytest.mark.parametrize(
    ("session", "prompt", "fail_code"),
    [("filtered-user", "a cat", "2038"), ("user", "a cat [filter]", "2038"), ("user", "a cat [fail=5001]", "5001")],
)
def test_filter_scenario_and_failure_markers_fail_with_their_code(
    make_wire: Callable[[str], Wire], session: str, prompt: str, fail_code: str
) -> None:
    wire = make_wire(session)
    record = wire.wait(wire.submit(image_body(prompt + " [gen=100ms]")))
    assert (record["status"], record["fail_code"], record["item_list"]) == (30, fail_code, [])


def test_the_gen_marker_and_the_slow_scenario_set_the_generation_time(
    make_wire: Callable[[str], Wire], emulator: EmulatorServer
) -> None:
    fast, slow = make_wire("fast-user"), make_wire("slow-user")
    fast_id = fast.submit(image_body("x [gen=3s]"))
    slow_id = slow.submit(image_body("x [gen=500ms]"))
    default_id = fast.submit(image_body("x"))
    generations = emulator.state.generations
    assert generations[fast_id].duration == 3.0
    assert generations[slow_id].duration == pytest.approx(1.5)
    assert generations[default_id].duration == pytest.approx(0.4)  # the fixture's image_seconds


def test_an_invisible_record_is_absent_for_its_first_polls(wire: Wire, emulator: EmulatorServer) -> None:
    history_id = wire.submit(image_body("ghost [invisible=2] [gen=100ms]"))
    assert wire.history([history_id]) == {}
    assert wire.history([history_id]) == {}
    assert history_id in wire.history([history_id])
    assert emulator.stats()["generations"][history_id]["poll_count"] == 3


@pytest.mark.parametrize("code", ["4001", "5000", "3018"])
def test_the_ret_marker_refuses_the_submit_and_creates_nothing(wire: Wire, emulator: EmulatorServer, code: str) -> None:
    answer = wire.generate(image_body(f"bad [ret={code}]"))
    assert answer["ret"] == code and answer["errmsg"]
    assert emulator.state.generations == {}


def test_a_video_without_frames_completes_with_a_fetchable_mp4(wire: Wire, http: requests.Session) -> None:
    record = wire.wait(wire.submit(video_body("waves [gen=200ms]", ratio="9:16", duration_ms=10000)))
    assert record["status"] == 50 and record["total_image_count"] == 1
    item = record["item_list"][0]
    url = item["video"]["transcoded_video"]["origin"]["video_url"]
    assert "vlabvod" not in url
    with http.get(url, timeout=5) as answer:
        assert answer.headers["Content-Type"] == "video/mp4"
        assert answer.content[4:8] == b"ftyp" and b"moov" in answer.content and b"mdat" in answer.content
    assert wire.credits()["gift_credit"] == 95


def test_a_video_draft_in_an_image_component_shape_is_still_parsed_by_generate_type(wire: Wire) -> None:
    body = draft_body({"type": "video_base_component", "id": "c", "generate_type": "gen_video",
                       "abilities": {"gen_video": {}}}, "dreamina_ic_generate_video_model_vgfm_3.0")  # fmt: skip
    assert "text_to_video_params" in wire.generate(body)["errmsg"]


@pytest.mark.parametrize(
    "suffix",
    ["video.mp4", "0.mp4", "9.png", "0.png?x-expires=1&x-signature=0", "0.png?x-expires=9999999999&x-signature=bad"],
)
def test_media_urls_must_exist_and_carry_a_valid_signature(
    wire: Wire, http: requests.Session, emulator: EmulatorServer, suffix: str
) -> None:
    record = wire.wait(wire.submit(image_body("x [gen=100ms]")))
    url = record["item_list"][0]["image"]["large_images"][0]["image_url"]
    path, query = url.split("?")
    bad = f"{path.rsplit('/', 1)[0]}/{suffix}" + ("" if "?" in suffix else f"?{query}")
    assert http.get(bad, timeout=5).status_code in (403, 404)
