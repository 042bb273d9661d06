"""Accounts and errors (2026 notes 6, 10): credits (1006), benefits, the concurrency (1010) and daily
(121101) limits, risk scenarios (1019, 4013), compliance (4010) and the ``[ret=CODE]`` marker for every
ret of section 6: checklist 18-22."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from app.emulator import EmulatorServer
from tests.emulator.emulator_client import GENERATE, QUERY_A, Wire, cookie, image_body, video_body

CREDIT_KEY = "web_dre_m10n_generate_popup_credit_ininsufficient_title"
SETTINGS = "/mweb/v1/update_settings"
V31 = "high_aes_general_v30l_art_fangzhou:general_v3.0_18b"
# every ret of section 6, with the errmsg the notes quote (None: the notes give only the bundle's name)
RETS: dict[str, str | None] = {
    "1": None, "1000": "invalid parameter", "1001": None, "1002": None,
    "1006": "Not enough credits left or no relevant benefits", "1010": None, "1014": "system busy", "1015": None,
    "1017": None, "1018": None, "1019": "shark not pass", "1021": None, "1057": None, "1063": None, "1159": None,
    "1161": None, "1162": None, "2002": None, "2003": None, "2004": None, "2005": None,
    "2008": "get history failed", "2014": None, "2020": None, "2035": None, "2038": None, "2039": None,
    "2041": None, "2042": None, "2043": None, "2047": None, "2048": None, "2050": None, "2052": None,
    "2061": "模型已不可用，请刷新界面后再试试", "3000": "region not allow", "3018": "permission denied", "3021": None,
    "4001": None, "4003": None, "4010": None, "4013": "生成失败，疑似存在异常行为，请重新尝试", "5000": None,
    "5001": "credit prededuct failed", "5002": None, "10020": None, "121101": None, "34010100": "param error",
    "-4": "shark check reject", "-6": "shark not pass reject",
}  # fmt: skip


@pytest.mark.parametrize("code", list(RETS))
def test_the_ret_marker_produces_every_ret_of_section_6(wire: Wire, emulator: EmulatorServer, code: str) -> None:
    answer = wire.generate(image_body(f"bad [ret={code}]"))
    assert answer["ret"] == code and answer["errmsg"] == (RETS[code] or answer["errmsg"]) and answer["errmsg"]
    assert answer["data"]["aigc_data"] is None
    assert emulator.state.generations == {} and wire.credits()["gift_credit"] == 100


def test_short_credits_are_ret_1006_with_the_starling_key(
    make_wire: Callable[[str], Wire], emulator: EmulatorServer
) -> None:
    answer = make_wire("nocredit-x").generate(image_body("a cat"))
    assert (answer["ret"], answer["errmsg"]) == ("1006", RETS["1006"])
    assert answer["data"]["fail_starling_key"] == CREDIT_KEY and answer["data"]["aigc_data"] is None
    assert emulator.state.generations == {}


def test_non_strict_short_credits_stay_the_baselines_5000(
    make_wire: Callable[[str], Wire], emulator: EmulatorServer
) -> None:
    emulator.configure(strict=False)
    assert make_wire("nocredit-y").generate(image_body("a cat"))["ret"] == "5000"


def test_credits_are_charged_per_image_gift_first_then_purchase_then_vip(wire: Wire, emulator: EmulatorServer) -> None:
    emulator.configure(initial_gift_credit=1, initial_purchase_credit=1, initial_vip_credit=5)
    wire.submit(image_body("one", count=1))
    assert wire.credits() == {"gift_credit": 0, "purchase_credit": 1, "vip_credit": 5}
    wire.submit(image_body("three", count=3))
    assert wire.credits() == {"gift_credit": 0, "purchase_credit": 0, "vip_credit": 3}
    assert wire.generate(image_body("four", count=4))["ret"] == "1006"
    assert emulator.stats()["totals"]["credits_charged"] == 4


def test_a_model_needing_a_benefit_the_account_lacks_is_ret_1006(make_wire: Callable[[str], Wire]) -> None:
    poor = make_wire("user-nobenefit-1")
    answer = poor.generate(image_body("x", model=V31, size=(1024, 1024), res="1k"))
    assert (answer["ret"], answer["data"]["fail_starling_key"]) == ("1006", CREDIT_KEY)
    assert poor.generate(image_body("x"))["ret"] == "0"
    assert make_wire("user-1").generate(image_body("x", model=V31, size=(1024, 1024), res="1k"))["ret"] == "0"


def test_the_concurrency_limit_is_ret_1010_until_a_job_ends(wire: Wire, emulator: EmulatorServer) -> None:
    emulator.configure(max_running_jobs=2)
    first = wire.submit(image_body("a [gen=10s]"))
    wire.submit(image_body("b [gen=10s]"))
    answer = wire.generate(image_body("c [gen=10s]"))
    assert answer["ret"] == "1010" and answer["data"]["aigc_data"] is None
    emulator.state.generations[first].created -= 20
    assert wire.generate(image_body("c"))["ret"] == "0"


def test_stats_keep_each_sessions_peak_of_running_generations(wire: Wire, emulator: EmulatorServer) -> None:
    first = wire.submit(image_body("a [gen=10s]"))
    wire.submit(image_body("b [gen=10s]"))
    emulator.state.generations[first].created -= 20  # the first ended
    wire.submit(image_body("c [gen=10s]"))
    assert list(emulator.stats()["peak_running"].values()) == [2]


def test_the_daily_generation_limit_is_ret_121101_until_the_next_day(wire: Wire, emulator: EmulatorServer) -> None:
    emulator.configure(daily_generation_limit=2)
    wire.submit(image_body("a"))
    wire.submit(image_body("b"))
    assert wire.generate(image_body("c"))["ret"] == "121101"
    emulator.configure(clock_offset=86400)
    tomorrow = wire.call(GENERATE, image_body("c"), device_time=int(time.time()) + 86400).json()
    assert tomorrow["ret"] == "0"


@pytest.mark.parametrize(
    ("session", "ret", "video_only"),
    [("user-shark-1", "1019", False), ("user-risky-1", "4013", False), ("user-riskvideo-1", "4013", True)],
)
def test_risk_scenarios_refuse_generation(
    make_wire: Callable[[str], Wire], session: str, ret: str, video_only: bool
) -> None:
    wire = make_wire(session)
    assert wire.generate(video_body("x"))["ret"] == ret
    assert wire.generate(image_body("x"))["ret"] == ("0" if video_only else ret)
    assert wire.credits()["gift_credit"] == (96 if video_only else 100)  # four images of the default count


def test_a_risk_refusal_carries_the_risk_starling_key(make_wire: Callable[[str], Wire]) -> None:
    answer = make_wire("user-risky-2").generate(image_body("x"))
    assert answer["data"]["fail_starling_key"] == "web_risk_control_message_reject_generation"


def test_a_web_id_other_than_the_tea_web_id_cookie_is_ret_4013(wire: Wire) -> None:
    params = [(k, "7999999999999999999" if k == "webId" else v) for k, v in QUERY_A]
    assert wire.call(GENERATE, image_body("x"), params=params).json()["ret"] == "4013"
    only_session = wire.call(
        GENERATE, image_body("x"), params=params, headers={"Cookie": f"sessionid={wire.sessionid}"}
    )
    assert only_session.json()["ret"] == "0"
    assert cookie("s").startswith("_tea_web_id=")


def test_compliance_is_ret_4010_until_the_account_confirms_it(make_wire: Callable[[str], Wire]) -> None:
    wire = make_wire("user-nocompliance-1")
    assert wire.generate(image_body("x"))["ret"] == "4010"
    assert wire.call(SETTINGS, {"custom_settings": {"close_watermark": True}}).json()["ret"] == "0"
    assert wire.generate(image_body("x"))["ret"] == "4010"
    assert wire.call(SETTINGS, {"custom_settings": "yes"}).json()["ret"] == "1000"
    assert wire.call(SETTINGS, {"custom_settings": {"aigc_compliance_confirmed": True}}).json()["ret"] == "0"
    assert wire.generate(image_body("x"))["ret"] == "0"


def test_gate_errors_of_generate_carry_the_empty_generation_object_too(make_wire: Callable[[str], Wire]) -> None:
    answer = make_wire("expired-1").generate(image_body("x"))
    assert answer["ret"] == "1015" and answer["data"]["aigc_data"] is None
