"""Records (2026 notes 5): the submit answer, history records keyed by submit or history id, the status
scripts, the queue and its forecasts, transient 2008s and the invisible marker: checklist 24-28."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from app.emulator import EmulatorServer
from tests.emulator.emulator_client import HISTORY, V50, Wire, image_body, video_body

QUEUE = "/mweb/v1/get_history_queue_info"


def _age(emulator: EmulatorServer, history_id: str, elapsed: float) -> None:
    """Pretend the generation was created ``elapsed`` seconds ago (the timeline is computed lazily)."""
    emulator.state.generations[history_id].created = time.time() - elapsed


def _record(wire: Wire, history_id: str) -> dict[str, Any]:
    return wire.history([history_id])[history_id]


def test_the_submit_answer_carries_task_queue_forecasts_counts_and_model(wire: Wire) -> None:
    body = image_body("cat", count=2, submit_id="00000000-0000-4000-8000-000000000001")
    data = wire.ok("/mweb/v1/aigc_draft/generate", body)["aigc_data"]
    history_id = data["history_record_id"]
    assert re.fullmatch(r"\d{14}", history_id) and data["submit_id"] == body["submit_id"]
    assert data["task"] == {"task_id": history_id, "submit_id": body["submit_id"], "aid": 0, "status": 20,
                            "finish_time": 0, "history_id": history_id}  # fmt: skip
    assert (data["status"], data["generate_type"], data["total_image_count"], data["finished_image_count"]) == (
        20,
        1,
        2,
        0,
    )
    assert data["model_info"] == {"model_name": "图片 5.0 Lite", "model_req_key": V50}
    assert isinstance(data["forecast_generate_cost"], int) and isinstance(data["forecast_queue_cost"], int)
    assert data["queue_info"] == {"queue_idx": 2, "priority": 2, "queue_status": 2, "queue_length": 2,
                                  "polling_config": {"interval_seconds": 30, "timeout_seconds": 86400}}  # fmt: skip
    assert isinstance(data["created_time"], float) and data["uid"].isdigit()


def test_history_is_keyed_by_submit_id_or_history_id_as_asked(wire: Wire) -> None:
    body = image_body("cat [gen=100ms]", count=1)
    history_id = wire.submit(body)
    by_submit = wire.ok(HISTORY, {"submit_ids": [body["submit_id"], "unknown"]})
    assert set(by_submit) == {body["submit_id"]} and by_submit[body["submit_id"]]["history_record_id"] == history_id
    by_history = wire.ok(HISTORY, {"history_ids": [history_id, "99999999999999"]})
    assert set(by_history) == {history_id}
    both = wire.history([history_id], submit_ids=[body["submit_id"]])
    assert set(both) == {history_id, body["submit_id"]}


def test_a_record_has_every_member_of_5_4(wire: Wire) -> None:
    body = image_body("cat [gen=100ms]", count=3)
    record = wire.wait(wire.submit(body))
    assert record["task"]["status"] == record["status"] == 50
    assert (record["total_image_count"], record["finished_image_count"], record["image_type"]) == (3, 3, 3)
    for key in ("forecast_generate_cost", "forecast_queue_cost", "queue_info", "model_info", "created_time"):
        assert key in record
    assert {
        k: record[k] for k in ("fail_code", "fail_msg", "fail_starling_key", "fail_starling_message")
    } == dict.fromkeys(("fail_code", "fail_msg", "fail_starling_key", "fail_starling_message"), "")
    draft = json.loads(record["draft_content"])
    assert draft["component_list"][0]["abilities"]["gen_option"]["gen_count"] == 3
    assert record["task"]["finish_time"] > 0 and len(record["item_list"]) == 3


SUCCESS = [(1, 0, 0), (5, 0, 0), (11, 20, 0), (29, 20, 0), (31, 42, 0), (59, 42, 0), (61, 45, 1), (71, 45, 2),
           (81, 45, 3), (91, 45, 4), (99.5, 45, 4), (100, 50, 4), (150, 50, 4)]  # fmt: skip
SCRIPTS = {
    "": SUCCESS,
    "[fail=1234]": [(5, 0, 0), (20, 20, 0), (40, 42, 0), (50, 30, 0), (99, 30, 0)],
    "[status=10]": [(5, 0, 0), (20, 20, 0), (30, 10, 0), (99, 10, 0)],
    "[status=40]": [(20, 20, 0), (40, 42, 0), (70, 42, 0), (99, 42, 0), (100, 40, 0)],
    "[status=100]": [(20, 20, 0), (40, 42, 0), (50, 100, 0)],
    "[stall45]": [(20, 20, 0), (40, 42, 0), (61, 45, 0), (99, 45, 0), (100, 50, 4)],
}


@pytest.mark.parametrize("marker", list(SCRIPTS), ids=[m or "success" for m in SCRIPTS])
def test_each_status_script_runs_as_documented(wire: Wire, emulator: EmulatorServer, marker: str) -> None:
    history_id = wire.submit(image_body(f"timeline {marker} [gen=100s]"))
    seen = []
    for elapsed, _, _ in SCRIPTS[marker]:
        _age(emulator, history_id, elapsed)
        record = _record(wire, history_id)
        assert record["task"]["status"] == record["status"]
        assert record["finished_image_count"] == len(record["item_list"])
        seen.append((elapsed, record["status"], record["finished_image_count"]))
    assert seen == SCRIPTS[marker]


@pytest.mark.parametrize(
    ("marker", "status", "code"),
    [("[fail=1234]", 30, "1234"), ("[filter]", 30, "2038"), ("[status=30]", 30, "2002"), ("[status=10]", 10, "2038"),
     ("[status=40]", 40, "2004"), ("[status=40] [fail=2041]", 40, "2041"), ("[status=100]", 100, "")],
)  # fmt: skip
def test_failures_carry_their_fail_code_and_starling_text(wire: Wire, marker: str, status: int, code: str) -> None:
    record = wire.wait(wire.submit(image_body(f"nope {marker} [gen=100ms]")))
    assert (record["status"], record["fail_code"], record["item_list"]) == (status, code, [])
    if code == "2038":
        assert record["fail_starling_message"] == "你输入的文字不符合平台规则，请修改后重试"
    assert record["task"]["finish_time"] > 0


def test_charged_credits_stay_charged_after_a_failure(make_wire: Callable[[str], Wire]) -> None:
    wire = make_wire("filtered-user")
    record = wire.wait(wire.submit(image_body("a cat [gen=100ms]", count=1)))
    assert (record["status"], record["fail_code"]) == (30, "2038")
    assert wire.credits()["gift_credit"] == 99


def test_a_queue_marker_holds_status_0_with_the_position_falling(wire: Wire, emulator: EmulatorServer) -> None:
    history_id = wire.submit(image_body("wait [queue=10s] [qpos=5] [gen=10s]"))
    positions, forecasts = [], []
    for elapsed in (0.5, 3, 5.5, 8, 10.5):
        _age(emulator, history_id, elapsed)
        record = _record(wire, history_id)
        assert record["status"] == 0 and record["queue_info"]["queue_status"] == 2
        positions.append(record["queue_info"]["queue_idx"])
        forecasts.append(record["forecast_queue_cost"])
    assert positions == sorted(positions, reverse=True) and positions[0] == 4 and positions[-1] == 0
    assert forecasts == sorted(forecasts, reverse=True) and forecasts[0] == 11
    _age(emulator, history_id, 12)
    record = _record(wire, history_id)
    assert (record["status"], record["queue_info"]["queue_idx"], record["forecast_queue_cost"]) == (20, 0, 0)


def test_the_forecast_tracks_the_generation_time_with_each_kind_s_bias(wire: Wire, emulator: EmulatorServer) -> None:
    """5.1: a 23 s forecast for an image done in about 21 s; videos done in 0.37-0.6 of their forecast."""
    for _ in range(5):
        data = wire.ok("/mweb/v1/aigc_draft/generate", image_body("x [gen=100s]"))["aigc_data"]
        assert 0.85 * 99 - 0.5 <= data["forecast_generate_cost"] <= 1.15 * 99 + 0.5  # (T less the 10 % queue) x 1.1
        data = wire.ok("/mweb/v1/aigc_draft/generate", video_body("x [gen=100s]"))["aigc_data"]
        assert 0.85 * 180 - 0.5 <= data["forecast_generate_cost"] <= 1.15 * 180 + 0.5  # x 2.0
    emulator.configure(video_forecast_factor=1.0)
    data = wire.ok("/mweb/v1/aigc_draft/generate", video_body("x [gen=100s]"))["aigc_data"]
    assert 0.85 * 90 - 0.5 <= data["forecast_generate_cost"] <= 1.15 * 90 + 0.5


def test_a_sigma_marker_draws_the_time_per_prompt_and_the_forecast_knows_only_the_median(
    wire: Wire, emulator: EmulatorServer
) -> None:
    def submitted(prompt: str) -> tuple[float, int]:
        data = wire.ok("/mweb/v1/aigc_draft/generate", image_body(prompt, count=1))["aigc_data"]
        generation = emulator.state.generations[data["history_record_id"]]
        return generation.duration, data["forecast_generate_cost"]

    drawn = [submitted(f"job {i} [gen=20s] [sigma=0.6]") for i in range(40)]
    durations = sorted(duration for duration, _ in drawn)
    assert durations[0] < 12 < 16 < durations[20] < 25 < 33 < durations[-1]  # median 20, sigma 0.6
    assert all(0.85 * 19.8 - 0.5 <= forecast <= 1.15 * 19.8 + 0.5 for _, forecast in drawn)  # from 20 s, not the draw
    assert submitted("job 3 [gen=20s] [sigma=0.6]")[0] == drawn[3][0]  # the same prompt, the same time
    assert submitted("job 3 [gen=20s]")[0] == 20.0


def test_get_history_queue_info_answers_status_queue_and_forecasts(wire: Wire, emulator: EmulatorServer) -> None:
    history_id = wire.submit(image_body("wait [queue=10s] [qpos=3] [gen=10s]"))
    _age(emulator, history_id, 1)
    data = wire.ok(QUEUE, {"history_ids": [history_id, history_id, "99999999999999"]})
    assert set(data) == {history_id}
    entry = data[history_id]
    assert entry["status"] == 0 and entry["queue_info"]["queue_idx"] == 2
    assert entry["queue_info"]["priority_queue_display_threshold"] == {"vip_queuing_time_threshold": 300,
                                                                       "waiting_time_threshold": 60}  # fmt: skip
    assert isinstance(json.loads(entry["queue_info"]["debug_info"]), dict)
    assert set(entry["forecast_cost_time"]) == {"forecast_generate_cost", "forecast_queue_cost"}
    _age(emulator, history_id, 9)
    assert wire.ok(QUEUE, {"history_ids": [history_id]})[history_id]["queue_info"]["queue_idx"] == 0
    assert wire.call(QUEUE, {}).json()["ret"] == "1000"


def test_a_share_of_polls_is_a_transient_ret_2008(wire: Wire, emulator: EmulatorServer) -> None:
    history_id = wire.submit(image_body("x"))
    emulator.configure(poll_2008_share=1.0)
    answer = wire.call(HISTORY, {"history_ids": [history_id]}).json()
    assert (answer["ret"], answer["errmsg"]) == ("2008", "get history failed")
    emulator.configure(poll_2008_share=0.5, fault_seed=5)
    rets = {wire.call(HISTORY, {"history_ids": [history_id]}).json()["ret"] for _ in range(20)}
    assert rets == {"0", "2008"}


def test_an_invisible_record_is_absent_for_its_first_polls(wire: Wire, emulator: EmulatorServer) -> None:
    history_id = wire.submit(image_body("ghost [invisible=2] [gen=100ms]"))
    assert wire.history([history_id]) == {}
    assert wire.history([history_id]) == {}
    assert history_id in wire.history([history_id])
    assert emulator.stats()["generations"][history_id]["poll_count"] == 3


def test_other_accounts_and_unknown_ids_are_simply_absent(make_wire: Callable[[str], Wire]) -> None:
    owner, other = make_wire("owner-1"), make_wire("other-1")
    body = image_body("mine")
    history_id = owner.submit(body)
    assert other.history([history_id, "999"], submit_ids=[body["submit_id"]]) == {}
    assert set(owner.history([history_id, "999"])) == {history_id}


@pytest.mark.parametrize("body", [{}, {"history_ids": []}, {"history_ids": [123]}, {"submit_ids": "1"}])
def test_a_history_body_without_usable_ids_is_ret_1000(wire: Wire, body: dict[str, Any]) -> None:
    assert wire.call(HISTORY, body).json()["ret"] == "1000"


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
