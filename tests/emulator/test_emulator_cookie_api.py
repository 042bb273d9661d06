"""Cookie APIs: the strict checks in the document's order, sessions, credits and the daily claim."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests

from app.emulator import EmulatorServer
from tests.emulator.emulator_client import COMMON_PARAMS, Wire, image_body, sign

CREDIT = "/commerce/v1/benefits/user_credit"
CLAIM = "/commerce/v1/benefits/credit_receive"
PASSPORT = "/passport/account/info/v2"
GENERATE = "/mweb/v1/aigc_draft/generate"


def test_a_correctly_signed_call_is_answered_with_a_string_ret_zero(wire: Wire) -> None:
    answer = wire.call(CREDIT, {})
    assert answer.status_code == 200
    assert answer.json() == {
        "ret": "0",
        "errmsg": "success",
        "data": {"credit": {"gift_credit": 100, "purchase_credit": 0, "vip_credit": 0}},
    }
    assert answer.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"sign_value": "0" * 32}, "sign_mismatch"),
        ({"sign_value": sign("/mweb/v1/aigc_draft/generate", str(int(time.time())))}, "sign_mismatch"),
        ({"headers": {"Appvr": "8.4.0"}}, "sign_version"),
        ({"headers": {"Pf": "8"}}, "sign_version"),
        ({"headers": {"Device-Time": "not-a-number"}}, "device_time"),
        ({"device_time": int(time.time()) - 3600}, "device_time_skew"),
        ({"device_time": int(time.time()) + 3600}, "device_time_skew"),
        ({"headers": {"Cookie": "_tea_web_id=1; uid_tt=2"}}, "session_missing"),
    ],
)
def test_bad_sign_stale_device_time_or_missing_session_is_ret_1015(
    wire: Wire, emulator: EmulatorServer, change: dict, reason: str
) -> None:
    answer = wire.call(CREDIT, {}, **change)
    assert answer.status_code == 200
    body = answer.json()
    assert body["ret"] == "1015" and body["data"] is None and body["errmsg"]
    assert emulator.stats()["refusals"] == {reason: 1}


def test_device_time_inside_the_window_is_accepted(wire: Wire) -> None:
    assert wire.call(CREDIT, {}, device_time=int(time.time()) - 250).json()["ret"] == "0"


def test_the_clock_window_is_configurable(wire: Wire, emulator: EmulatorServer) -> None:
    emulator.configure(device_time_window=10)
    assert wire.call(CREDIT, {}, device_time=int(time.time()) - 60).json()["ret"] == "1015"


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ([], "params_missing"),
        ([(k, v) for k, v in COMMON_PARAMS if k != "webId"], "params_missing"),
        ([(k, "513641" if k == "aid" else v) for k, v in COMMON_PARAMS], "aid_invalid"),
    ],
)
def test_missing_common_parameters_or_a_wrong_aid_is_ret_4002(
    wire: Wire, emulator: EmulatorServer, params: list, reason: str
) -> None:
    assert wire.call(CREDIT, {}, params=params).json()["ret"] == "4002"
    assert emulator.stats()["refusals"] == {reason: 1}


def test_the_session_falls_back_to_sid_tt_and_tolerates_the_duplicate(wire: Wire) -> None:
    cookie = "sid_tt=abc; sessionid_ss=abc; sid_tt=abc"
    assert wire.call(CREDIT, {}, headers={"Cookie": cookie}).json()["ret"] == "0"


@pytest.mark.parametrize(("raw", "ret"), [(b"{not json", "4002"), (b"[1, 2]", "4002"), (b"", "4002")])
def test_a_body_that_is_not_a_json_object_is_ret_4002(wire: Wire, raw: bytes, ret: str) -> None:
    answer = wire.call(CREDIT, raw=raw, headers={"Content-Type": "application/json"}).json()
    assert answer["ret"] == ret and "JSON" in answer["errmsg"]


def test_the_checks_run_in_order_sign_before_session_before_body(wire: Wire, emulator: EmulatorServer) -> None:
    wire.call(CREDIT, raw=b"{bad", sign_value="0" * 32, headers={"Cookie": ""})
    wire.call(CREDIT, raw=b"{bad", headers={"Cookie": ""})
    assert emulator.stats()["refusals"] == {"sign_mismatch": 1, "session_missing": 1}


def test_unknown_paths_are_404_and_wrong_methods_405(emulator: EmulatorServer, http: requests.Session) -> None:
    assert http.post(f"{emulator.url}/mweb/v1/nope", timeout=5).status_code == 404
    assert http.get(f"{emulator.url}{CREDIT}", timeout=5).status_code == 405


def test_passport_answers_passport_style_without_ret(wire: Wire) -> None:
    body = wire.call(PASSPORT, params=[*COMMON_PARAMS, ("account_sdk_source", "web")]).json()
    assert "ret" not in body and body["message"] == "success" and body["data"]["user_id"] > 0


def test_an_expired_session_is_refused_everywhere(make_wire: Callable[[str], Wire]) -> None:
    wire = make_wire("expired-123")
    for path, body in [(CREDIT, {}), (CLAIM, {"time_zone": "Asia/Shanghai"}), (GENERATE, image_body("cat"))]:
        assert wire.call(path, body).json()["ret"] == "1015"
    passport = wire.call(PASSPORT).json()
    assert passport["message"] == "error" and passport["data"]["error_code"] == 1015
    assert "ret" not in passport


def test_the_daily_claim_succeeds_once_per_day(wire: Wire, emulator: EmulatorServer) -> None:
    first = wire.call(CLAIM, {"time_zone": "Asia/Shanghai"}).json()
    assert first["ret"] == "0" and first["data"] == {"cur_total_credits": 160, "receive_quota": 60}
    again = wire.call(CLAIM, {"time_zone": "Asia/Shanghai"}).json()
    assert again["ret"] == "1" and "already" in again["errmsg"]
    emulator.configure(clock_offset=86400)
    tomorrow = wire.call(CLAIM, {"time_zone": "Asia/Shanghai"}, device_time=int(time.time()) + 86400).json()
    assert tomorrow["ret"] == "0" and tomorrow["data"]["cur_total_credits"] == 220


@pytest.mark.parametrize(("session", "granted"), [("user-nocredit-1", 0), ("user-zerocredit-1", 60)])
def test_credit_scenarios_start_at_zero_and_claim_their_grant_once(
    make_wire: Callable[[str], Wire], session: str, granted: int
) -> None:
    wire = make_wire(session)
    assert wire.credits() == {"gift_credit": 0, "purchase_credit": 0, "vip_credit": 0}
    claim = wire.call(CLAIM, {"time_zone": "Asia/Shanghai"}).json()
    assert claim["ret"] == "0" and claim["data"] == {"cur_total_credits": granted, "receive_quota": granted}
    assert wire.call(CLAIM, {"time_zone": "Asia/Shanghai"}).json()["ret"] == "1"


def test_a_draft_without_enough_credits_is_ret_5000_and_creates_nothing(
    make_wire: Callable[[str], Wire], emulator: EmulatorServer
) -> None:
    wire = make_wire("nocredit-x")
    answer = wire.generate(image_body("a cat"))
    assert answer["ret"] == "5000" and answer["data"] is None
    assert emulator.state.generations == {}


def test_credits_are_debited_gift_first_then_purchase_then_vip(wire: Wire, emulator: EmulatorServer) -> None:
    emulator.configure(initial_gift_credit=1, initial_purchase_credit=1, initial_vip_credit=5, video_cost=5)
    wire.submit(image_body("one"))
    assert wire.credits() == {"gift_credit": 0, "purchase_credit": 1, "vip_credit": 5}
    wire.submit(image_body("two"))
    wire.submit(image_body("three"))
    assert wire.credits() == {"gift_credit": 0, "purchase_credit": 0, "vip_credit": 4}
    assert emulator.stats()["totals"]["credits_charged"] == 3


def test_upload_token_needs_scene_2_and_issues_fresh_credentials(wire: Wire) -> None:
    first = wire.ok("/mweb/v1/get_upload_token", {"scene": 2})
    second = wire.ok("/mweb/v1/get_upload_token", {"scene": 2})
    assert first["service_id"] == "tb4s082cfz"
    assert {first["access_key_id"], first["secret_access_key"], first["session_token"]}.isdisjoint(
        {second["access_key_id"], second["secret_access_key"], second["session_token"]}
    )
    assert wire.call("/mweb/v1/get_upload_token", {"scene": 1}).json()["ret"] == "4002"
