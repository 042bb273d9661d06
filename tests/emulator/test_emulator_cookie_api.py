"""Cookie APIs: the gate's checks in order (query, version constants, Sign, session, body), the envelope,
sessions, credits and the daily claim (2026 notes 2 and checklist 1-7)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from app.emulator import EmulatorServer
from tests.emulator.emulator_client import (
    GENERATE,
    GENERATE_EXTRA,
    QUERY_A,
    USER_CREDIT,
    Wire,
    image_body,
    sign,
)

CLAIM = "/commerce/v1/benefits/credit_receive"
PASSPORT = "/passport/account/info/v2"
QUEUE = "/mweb/v1/get_history_queue_info"
EMPTY_GENERATION = {"aigc_data": None, "fail_code": "", "fail_starling_key": "", "fail_starling_message": ""}


def _with(params: list[tuple[str, str]], **changes: str) -> list[tuple[str, str]]:
    return [(k, changes.get(k, v)) for k, v in params]


def test_the_envelope_has_a_string_ret_a_string_systime_and_a_logid(wire: Wire) -> None:
    answer = wire.call(USER_CREDIT, {})
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert (body["ret"], body["errmsg"]) == ("0", "success")
    assert body["data"] == {"credit": {"gift_credit": 100, "purchase_credit": 0, "vip_credit": 0}}
    assert body["systime"].isdigit() and abs(int(body["systime"]) - time.time()) < 5
    assert re.fullmatch(r"20\d{12}[0-9A-F]{20}", body["logid"])


def _appvr(wire: Wire, appvr: str, path: str = USER_CREDIT, body: Any = None) -> dict[str, Any]:
    now = str(int(time.time()))
    return wire.call(path, body or {}, headers={"Appvr": appvr}, sign_value=sign(path, now, appvr=appvr)).json()


@pytest.mark.parametrize("appvr", ["1.0.0", "5.8.0", "8.3.0", ""])
def test_an_old_appvr_is_ret_3018_permission_denied_with_the_empty_generation_object(
    wire: Wire, emulator: EmulatorServer, appvr: str
) -> None:
    answer = _appvr(wire, appvr, GENERATE, image_body("a cat"))
    assert (answer["ret"], answer["errmsg"], answer["data"]) == ("3018", "permission denied", EMPTY_GENERATION)
    assert emulator.stats()["refusals"] == {"appvr": 1} and emulator.state.generations == {}


def test_3018_for_the_appvr_comes_whatever_the_sign(wire: Wire) -> None:
    answer = wire.call(USER_CREDIT, {}, headers={"Appvr": "1.0.0"}, sign_value="0" * 32).json()
    assert answer["ret"] == "3018"


def test_the_accepted_appvr_list_is_configurable(wire: Wire, emulator: EmulatorServer) -> None:
    emulator.configure(appvr_accepted=["8.4.0", "8.5.0"])
    assert _appvr(wire, "8.5.0")["ret"] == "0"
    assert _appvr(wire, "8.4.0")["ret"] == "0"


@pytest.mark.parametrize(
    ("name", "value"), [("da_version", "3.3.2"), ("da_version", "3.3.8"), ("web_version", "6.6.0")]
)
def test_baseline_query_constants_are_ret_3018(wire: Wire, emulator: EmulatorServer, name: str, value: str) -> None:
    answer = wire.call(GENERATE, image_body("x"), params=_with(QUERY_A + GENERATE_EXTRA, **{name: value})).json()
    assert (answer["ret"], answer["data"]) == ("3018", EMPTY_GENERATION)
    assert emulator.stats()["refusals"] == {name: 1}


@pytest.mark.parametrize("version", ["3.3.9", "3.3.12", "3.3.14", "3.3.20", "3.3.21", "3.3.27", "3.3.28"])
def test_every_2026_da_version_is_accepted(wire: Wire, version: str) -> None:
    assert wire.call(QUEUE, {"history_ids": ["1"]}, params=_with(QUERY_A, da_version=version)).json()["ret"] == "0"


def test_the_accepted_da_versions_are_configurable(wire: Wire, emulator: EmulatorServer) -> None:
    emulator.configure(da_versions=["3.3.30"])
    assert wire.call(QUEUE, {"history_ids": ["1"]}).json()["ret"] == "3018"
    assert wire.call(QUEUE, {"history_ids": ["1"]}, params=_with(QUERY_A, da_version="3.3.30")).json()["ret"] == "0"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"sign_value": "0" * 32}, "sign_mismatch"),
        ({"sign_value": sign(GENERATE, str(int(time.time())))}, "sign_mismatch"),
        ({"headers": {"Tdid": "0"}}, "sign_mismatch"),
        ({"headers": {"Pf": "8"}}, "sign_version"),
        ({"headers": {"Device-Time": "not-a-number"}}, "device_time"),
        ({"device_time": int(time.time()) - 3600}, "device_time_skew"),
        ({"device_time": int(time.time()) + 3600}, "device_time_skew"),
    ],
)
def test_a_bad_sign_or_device_time_is_ret_1014(wire: Wire, emulator: EmulatorServer, change: dict, reason: str) -> None:
    body = wire.call(USER_CREDIT, {}, **change).json()
    assert body["ret"] == "1014" and body["data"] is None and body["errmsg"]
    assert emulator.stats()["refusals"] == {reason: 1}


def test_the_sign_covers_the_tdid_header_as_sent(wire: Wire) -> None:
    now = str(int(time.time()))
    signed = sign(USER_CREDIT, now, tdid="abc")
    assert wire.call(USER_CREDIT, {}, headers={"Tdid": "abc"}, sign_value=signed).json()["ret"] == "0"
    without_header = wire.call(USER_CREDIT, {}, headers={"Tdid": ""}, sign_value=sign(USER_CREDIT, now)).json()
    assert without_header["ret"] == "0"


@pytest.mark.parametrize(("setting", "ret"), [("1015", "1015"), ("", "0")])
def test_the_bad_sign_answer_is_configurable(wire: Wire, emulator: EmulatorServer, setting: str, ret: str) -> None:
    """ "" accepts a wrong Sign, as CN did in 2026-09 (2.2)."""
    emulator.configure(sign_error_ret=setting)
    assert wire.call(USER_CREDIT, {}, sign_value="0" * 32).json()["ret"] == ret


def test_device_time_inside_the_window_is_accepted_and_the_window_is_configurable(
    wire: Wire, emulator: EmulatorServer
) -> None:
    assert wire.call(USER_CREDIT, {}, device_time=int(time.time()) - 250).json()["ret"] == "0"
    emulator.configure(device_time_window=10)
    assert wire.call(USER_CREDIT, {}, device_time=int(time.time()) - 60).json()["ret"] == "1014"


def test_region_upper_case_and_unknown_extra_parameters_are_accepted(wire: Wire) -> None:
    extras = [("commerce_with_input_video", "1"), ("generate_id", "gen-1"), ("babi_param", "%7B%7D"), ("msToken", "t"),
              ("a_bogus", "b"), ("X-Bogus", "c"), ("X-Gnarly", "d"), ("needCache", "true")]  # fmt: skip
    params = _with(QUERY_A, region="CN") + GENERATE_EXTRA + extras
    assert wire.call(GENERATE, image_body("x"), params=params).json()["ret"] == "0"


def test_queue_info_takes_the_short_query_of_the_web_app(wire: Wire) -> None:
    short = [(k, v) for k, v in QUERY_A if k in ("aid", "web_version", "da_version", "aigc_features")]
    assert wire.call(QUEUE, {"history_ids": ["1"]}, params=short).json()["ret"] == "0"


@pytest.mark.parametrize(
    ("path", "params", "reason"),
    [
        (QUEUE, [], "params_missing"),
        (GENERATE, [(k, v) for k, v in QUERY_A if k != "webId"], "params_missing"),
        (QUEUE, _with(QUERY_A, aid="513641"), "aid_invalid"),
        (QUEUE, _with(QUERY_A, region="US"), "region_invalid"),
    ],
)
def test_missing_parameters_a_wrong_aid_or_region_is_ret_1000(
    wire: Wire, emulator: EmulatorServer, path: str, params: list, reason: str
) -> None:
    body = image_body("x") if path == GENERATE else {"history_ids": ["1"]}
    assert wire.call(path, body, params=params).json()["ret"] == "1000"
    assert emulator.stats()["refusals"] == {reason: 1}


@pytest.mark.parametrize(
    ("params", "referer", "reason"),
    [
        (QUERY_A, None, "credit_query"),
        ([("aid", "513695")], None, "credit_query"),
        ([], "https://jimeng.jianying.com/ai-tool/generate?type=image", "credit_referer"),
        ([], "", "credit_referer"),
    ],
)
def test_user_credit_with_a_query_or_another_referer_is_ret_1014_system_busy(
    wire: Wire, emulator: EmulatorServer, params: list, referer: str | None, reason: str
) -> None:
    headers = {} if referer is None else {"Referer": referer}
    answer = wire.call(USER_CREDIT, {}, params=params, headers=headers).json()
    assert (answer["ret"], answer["errmsg"]) == ("1014", "system busy")
    assert emulator.stats()["refusals"] == {reason: 1}


@pytest.mark.parametrize("params", [[], QUERY_A])
def test_the_other_commerce_calls_take_no_query_or_the_common_one(wire: Wire, params: list) -> None:
    assert wire.call(CLAIM, {"time_zone": "Asia/Shanghai"}, params=params).json()["ret"] == "0"
    history = wire.call("/commerce/v1/benefits/user_credit_history", {"count": 20, "cursor": "0"}, params=params)
    assert history.json()["ret"] == "0"


def test_the_checks_run_in_order_query_appvr_sign_session_body(wire: Wire, emulator: EmulatorServer) -> None:
    bad = {"sign_value": "0" * 32, "headers": {"Cookie": "", "Appvr": "1.0.0"}, "raw": b"{bad"}
    wire.call(QUEUE, params=[], **bad)
    wire.call(QUEUE, **bad)
    wire.call(QUEUE, sign_value="0" * 32, headers={"Cookie": ""}, raw=b"{bad")
    wire.call(QUEUE, headers={"Cookie": ""}, raw=b"{bad")
    wire.call(QUEUE, raw=b"{bad")
    refusals = emulator.stats()["refusals"]
    assert refusals == {"params_missing": 1, "appvr": 1, "sign_mismatch": 1, "session_missing": 1, "body_invalid": 1}


def test_the_session_falls_back_to_sid_tt_and_tolerates_the_duplicate(wire: Wire) -> None:
    cookie = "sid_tt=abc; sessionid_ss=abc; sid_tt=abc"
    assert wire.call(USER_CREDIT, {}, headers={"Cookie": cookie}).json()["ret"] == "0"
    assert wire.call(USER_CREDIT, {}, headers={"Cookie": "_tea_web_id=1"}).json()["ret"] == "1015"


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b""])
def test_a_body_that_is_not_a_json_object_is_ret_1000(wire: Wire, raw: bytes) -> None:
    answer = wire.call(USER_CREDIT, raw=raw, headers={"Content-Type": "application/json"}).json()
    assert answer["ret"] == "1000" and "JSON" in answer["errmsg"]


def test_unknown_paths_are_404_and_wrong_methods_405(emulator: EmulatorServer, http: requests.Session) -> None:
    assert http.post(f"{emulator.url}/mweb/v1/nope", timeout=5).status_code == 404
    assert http.get(f"{emulator.url}{USER_CREDIT}", timeout=5).status_code == 405


def test_passport_answers_passport_style_without_ret(wire: Wire) -> None:
    body = wire.call(PASSPORT, params=[("account_sdk_source", "web")]).json()
    assert "ret" not in body and body["message"] == "success" and body["data"]["user_id"] > 0
    assert wire.call(PASSPORT, params=[*QUERY_A, ("account_sdk_source", "web")]).json()["message"] == "success"


def test_an_expired_session_is_refused_everywhere(make_wire: Callable[[str], Wire]) -> None:
    wire = make_wire("expired-123")
    for path, body in [(USER_CREDIT, {}), (CLAIM, {"time_zone": "Asia/Shanghai"}), (GENERATE, image_body("cat"))]:
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


def test_upload_token_needs_scene_2_and_issues_fresh_credentials(wire: Wire) -> None:
    first = wire.ok("/mweb/v1/get_upload_token", {"scene": 2})
    second = wire.ok("/mweb/v1/get_upload_token", {"scene": 2})
    assert first["service_id"] == "tb4s082cfz"
    assert {first["access_key_id"], first["secret_access_key"], first["session_token"]}.isdisjoint(
        {second["access_key_id"], second["secret_access_key"], second["session_token"]}
    )
    assert wire.call("/mweb/v1/get_upload_token", {"scene": 1}).json()["ret"] == "1000"


def test_non_strict_mode_takes_the_baseline_constants_and_codes(wire: Wire, emulator: EmulatorServer) -> None:
    emulator.configure(strict=False)
    baseline = [*_with(QUERY_A, da_version="3.3.2"), ("web_component_open_flag", "1")]
    assert _appvr(wire, "1.0.0", USER_CREDIT)["ret"] == "0"
    assert (
        wire.call(USER_CREDIT, {}, params=baseline, headers={"Referer": "https://jimeng.jianying.com"}).json()["ret"]
        == "0"
    )
    assert wire.call(GENERATE, image_body("x"), params=_with(baseline, web_version="6.6.0")).json()["ret"] == "0"
    assert wire.call(USER_CREDIT, {}, sign_value="0" * 32).json()["ret"] == "1015"
    assert wire.call(USER_CREDIT, raw=b"{bad").json()["ret"] == "4002"
