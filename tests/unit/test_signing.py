"""Sign header, headers, per-call query strings and the cookie (2026 protocol section 2)."""

from __future__ import annotations

import dataclasses
import hashlib
from urllib.parse import urlsplit

import pytest
import requests

from app.jimeng.signing import cookie_header, query_params, sign, signed_headers, web_id_for
from config.upstream import load_upstream
from tests.protocol_examples import SIGN_WORKED_EXAMPLE

CONFIG = load_upstream()
SALTS = {"prefix_salt": "9e2c", "suffix_salt": "11ac", "pf": "7"}
SESSIONID = "0123456789abcdef0123456789abcdef"
WEB_ID = "7412345678901234000"
TIME = "1790000000"  # 2026-09-21T14:13:20Z, the worked example's Device-Time
GENERATE_SIGN = dict(SIGN_WORKED_EXAMPLE)["/mweb/v1/aigc_draft/generate"]


@pytest.mark.parametrize(("path", "expected"), SIGN_WORKED_EXAMPLE)
def test_sign_matches_the_worked_table(path: str, expected: str) -> None:
    assert sign(path, TIME, appvr="8.4.0", tdid="", **SALTS) == expected


@pytest.mark.parametrize(
    ("appvr", "tdid", "wrong"),
    [("8.4.0", "0", "e213165f778dd54c4f0adf9b1f62ac77"), ("5.8.0", "", "180952f2b08eaace2db8c5d4a70cc57a")],
)
def test_the_worked_tables_counter_examples_give_their_wrong_values(appvr: str, tdid: str, wrong: str) -> None:
    assert sign("/mweb/v1/aigc_draft/generate", TIME, appvr=appvr, tdid=tdid, **SALTS) == wrong != GENERATE_SIGN


@pytest.mark.parametrize(
    ("path", "device_time", "captured"),
    [
        ("/mweb/v1/aigc_draft/generate", "1771893826", "19724735691862919106b8c4808a6ce7"),
        ("/mweb/v1/get_history_by_ids", "1771893881", "cd10f9d7d6a45a52bc58acf278a5314c"),
        ("/commerce/v1/benefits/user_credit_history", "1771893831", "e689d5fa536721dee8945eaa6efb01b0"),
        ("/mweb/v1/aigc_draft/generate", "1775014539", "4a90b17caf48c79bae9e8020b32ea281"),
    ],
)
def test_sign_reproduces_captured_values(path: str, device_time: str, captured: str) -> None:
    assert sign(path, device_time, appvr="8.4.0", tdid="", **SALTS) == captured


def test_sign_hashes_the_recipe_string_with_tdid_as_the_empty_field() -> None:
    expected = hashlib.md5(b"9e2c|/a/b|7|8.4.0|1790000000||11ac").hexdigest()
    assert sign("/a/b", TIME, appvr="8.4.0", tdid="", **SALTS) == expected


def test_sign_counts_a_trailing_slash() -> None:
    expected = hashlib.md5(b"9e2c|nfo/v2/|7|8.4.0|1790000000||11ac").hexdigest()
    assert sign("/passport/account/info/v2/", TIME, appvr="8.4.0", tdid="", **SALTS) == expected


# --- the shipped constants ----------------------------------------------------------------------------------


def test_the_shipped_sign_recipe_is_the_2026_one() -> None:
    recipe = CONFIG.sign
    assert (recipe.prefix_salt, recipe.suffix_salt, recipe.pf, recipe.appvr, recipe.tdid) == (
        "9e2c", "11ac", "7", "8.4.0", "",
    )  # fmt: skip


def test_signed_headers_carry_the_2026_header_set() -> None:
    call = CONFIG.calls.image_generate
    headers = signed_headers(CONFIG, call, device_time=TIME, cookie="c=1")
    assert headers["Sign"] == GENERATE_SIGN
    assert {name: headers[name] for name in ("Device-Time", "Sign-Ver", "Cookie", "Appid", "Appvr", "Pf", "Tdid")} == {
        "Device-Time": TIME, "Sign-Ver": "1", "Cookie": "c=1", "Appid": "513695", "Appvr": "8.4.0", "Pf": "7",
        "Tdid": "",
    }  # fmt: skip
    assert {name: headers[name] for name in ("App-Sdk-Version", "Lan", "Loc")} == {
        "App-Sdk-Version": "48.0.0", "Lan": "zh-Hans", "Loc": "cn",
    }  # fmt: skip
    assert headers["Referer"] == "https://jimeng.jianying.com/ai-tool/generate?type=image"
    assert "Last-event-id" not in headers


def test_the_user_agent_and_the_client_hints_describe_the_same_browser() -> None:
    headers = CONFIG.headers
    agent, hints, platform = headers["User-Agent"], headers["Sec-Ch-Ua"], headers["Sec-Ch-Ua-Platform"]
    version = agent.split("Chrome/")[1].split(".")[0]
    assert f'"Google Chrome";v="{version}"' in hints
    assert f'"Chromium";v="{version}"' in hints
    assert (platform, "Macintosh" in agent, CONFIG.query.values["os"]) == ('"macOS"', True, "mac")


@pytest.mark.parametrize(
    ("call", "referer"),
    [
        ("user_credit", "https://jimeng.jianying.com/ai-tool/image/generate"),
        ("credit_receive", "https://jimeng.jianying.com/ai-tool/home"),
        ("video_generate", "https://jimeng.jianying.com/ai-tool/generate?type=video"),
        ("history", "https://jimeng.jianying.com/ai-tool/generate"),
    ],
)
def test_each_call_sends_its_referer(call: str, referer: str) -> None:
    headers = signed_headers(CONFIG, getattr(CONFIG.calls, call), device_time=TIME, cookie="")
    assert headers["Referer"] == referer


def test_signed_headers_send_the_version_they_signed_with() -> None:
    config = dataclasses.replace(CONFIG, sign=dataclasses.replace(CONFIG.sign, appvr="5.8.0"))
    headers = signed_headers(config, config.calls.image_generate, device_time=TIME, cookie="")
    assert headers["Appvr"] == "5.8.0"
    assert headers["Sign"] == "180952f2b08eaace2db8c5d4a70cc57a"


def test_signed_headers_do_not_modify_the_shared_config() -> None:
    signed_headers(CONFIG, CONFIG.calls.history, device_time="1", cookie="c")
    assert "Cookie" not in CONFIG.headers
    assert "Referer" not in CONFIG.headers


# --- query strings per call (2.4) ---------------------------------------------------------------------------

SET_A = [
    ("aid", "513695"), ("device_platform", "web"), ("region", "cn"), ("webId", WEB_ID), ("da_version", "3.3.28"),
    ("web_version", "7.5.0"), ("aigc_features", "app_lip_sync"),
]  # fmt: skip
GENERATE = [*SET_A[:5], ("os", "mac"), ("web_component_open_flag", "1"), *SET_A[5:]]


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("history", SET_A),
        ("upload_token", SET_A),
        ("image_generate", GENERATE),
        ("video_generate", [*GENERATE, ("commerce_with_input_video", "1")]),
        ("account_info", [*SET_A, ("account_sdk_source", "web")]),
        ("user_credit", []),
        ("credit_receive", []),
    ],
)
def test_each_call_sends_its_query_set_in_order(call: str, expected: list[tuple[str, str]]) -> None:
    assert query_params(CONFIG, getattr(CONFIG.calls, call), WEB_ID) == expected


@pytest.mark.parametrize("call", ["user_credit", "credit_receive"])
def test_commerce_calls_have_no_query_string_on_the_wire(call: str) -> None:
    spec = getattr(CONFIG.calls, call)
    params = query_params(CONFIG, spec, WEB_ID)
    url = requests.Request("POST", "https://jimeng.jianying.com" + spec.path, params=params).prepare().url
    assert url is not None and urlsplit(url).query == "" and "?" not in url


def test_video_generate_uses_the_same_web_version_as_images() -> None:
    values = dict(query_params(CONFIG, CONFIG.calls.video_generate, WEB_ID))
    assert values["web_version"] == dict(query_params(CONFIG, CONFIG.calls.image_generate, WEB_ID))["web_version"]


# --- cookie and webId (2.5) ---------------------------------------------------------------------------------


def test_cookie_carries_the_session_id_and_the_accounts_web_id_only() -> None:
    cookie = cookie_header(SESSIONID, web_id=WEB_ID, cookies=CONFIG.cookie)
    assert cookie == (f"_tea_web_id={WEB_ID}; sid_tt={SESSIONID}; sessionid={SESSIONID}; sessionid_ss={SESSIONID}")


def test_cookie_keeps_the_session_id_verbatim() -> None:
    assert "sessionid=a b;c; " in cookie_header("a b;c", web_id=WEB_ID, cookies=CONFIG.cookie)


def test_web_id_is_19_digits_from_7e18_stable_per_account_and_not_the_session_id() -> None:
    first, again, other = web_id_for(SESSIONID), web_id_for(SESSIONID), web_id_for(SESSIONID + "x")
    assert first == again != other
    assert len(first) == 19 and first.isdigit() and 7 * 10**18 <= int(first) < 8 * 10**18
    assert SESSIONID not in first
