"""Sign header, device ids, cookie and common query parameters (protocol sections 2-4)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from app.jimeng.signing import (
    PASSPORT_EXTRA,
    babi_param,
    common_params,
    cookie_header,
    new_user_id,
    new_web_id,
    sid_guard,
    sign,
    signed_headers,
)
from config.upstream import load_upstream

CONFIG = load_upstream()
SALTS = {"prefix_salt": "9e2c", "suffix_salt": "11ac", "pf": "7"}
SESSIONID = "0123456789abcdef0123456789abcdef"
WEB_ID = "7412345678901234000"
USER_ID = "fb7b1e21e96311f18a3e93d04a678416"
EXPIRES = "Mon, 03-Feb-2025 08:17:09 GMT"
COOKIE_EXAMPLE = (  # protocol 4.1, verbatim
    "_tea_web_id=7412345678901234000; is_staff_user=false; store-region=cn-gd; store-region-src=uid; "
    "sid_guard=0123456789abcdef0123456789abcdef%7C1759132800%7C5184000%7CMon%2C+03-Feb-2025+08%3A17%3A09+GMT; "
    "uid_tt=fb7b1e21e96311f18a3e93d04a678416; uid_tt_ss=fb7b1e21e96311f18a3e93d04a678416; "
    "sid_tt=0123456789abcdef0123456789abcdef; sessionid=0123456789abcdef0123456789abcdef; "
    "sessionid_ss=0123456789abcdef0123456789abcdef; sid_tt=0123456789abcdef0123456789abcdef"
)
COMMON = [
    ("aid", "513695"),
    ("device_platform", "web"),
    ("region", "cn"),
    ("webId", WEB_ID),
    ("da_version", "3.3.2"),
    ("web_component_open_flag", "1"),
    ("web_version", "7.5.0"),
    ("aigc_features", "app_lip_sync"),
]


@pytest.mark.parametrize(
    ("path", "appvr", "expected"),
    [
        ("/mweb/v1/aigc_draft/generate", "1.0.0", "0e4907053592c4e691d5adda57dae4e5"),
        ("/mweb/v1/get_history_by_ids", "1.0.0", "661c1a5b665acaba51dcf760b8fca414"),
        ("/commerce/v1/benefits/user_credit", "1.0.0", "2bd5d37cd2a564678a3764247a10afbb"),
        ("/commerce/v1/benefits/credit_receive", "1.0.0", "6d8b869d07ac75a6f8f7669231576472"),
        ("/mweb/v1/get_upload_token", "1.0.0", "99e0253af5fed93ac8cabd50a40ed219"),
        ("/passport/account/info/v2", "1.0.0", "0d5b9e0d6afed141f88e2efb64f1a723"),
        ("/mweb/v1/aigc_draft/generate", "8.4.0", "8dfddc9b8f1ed770feff43dde0343959"),
    ],
)
def test_sign_matches_the_worked_examples(path: str, appvr: str, expected: str) -> None:
    assert sign(path, "1759132800", appvr=appvr, **SALTS) == expected


def test_sign_uses_the_whole_path_when_it_is_shorter_than_seven_characters() -> None:
    expected = hashlib.md5(b"9e2c|/a/b|7|1.0.0|1759132800||11ac").hexdigest()
    assert sign("/a/b", "1759132800", appvr="1.0.0", **SALTS) == expected


def test_sign_ignores_the_query_string_because_callers_pass_only_the_path() -> None:
    assert sign("/mweb/v1/get_upload_token", "1", appvr="1.0.0", **SALTS) != sign(
        "/mweb/v1/get_upload_token", "2", appvr="1.0.0", **SALTS
    )


@pytest.mark.parametrize("seed", [0, 1, 42, 2**31])
def test_web_id_is_a_19_digit_number_between_7e18_and_8e18(seed: int) -> None:
    web_id = new_web_id(random.Random(seed))
    assert len(web_id) == 19
    assert web_id.isdigit()
    assert 7 * 10**18 <= int(web_id) < 8 * 10**18


def test_web_id_is_reproducible_with_a_seeded_rng() -> None:
    assert new_web_id(random.Random(7)) == new_web_id(random.Random(7))


def test_user_id_is_a_version_1_uuid_as_32_lowercase_hex_characters() -> None:
    user_id = new_user_id()
    assert len(user_id) == 32
    assert user_id == user_id.lower()
    assert uuid.UUID(hex=user_id).version == 1


def test_user_ids_differ_and_do_not_carry_the_host_mac_address() -> None:
    first, second = uuid.UUID(hex=new_user_id()), uuid.UUID(hex=new_user_id())
    assert first != second
    assert first.node & 0x010000000000  # multicast bit: a random node, RFC 4122 section 4.5


def test_cookie_header_matches_the_protocol_example_byte_for_byte() -> None:
    cookie = cookie_header(SESSIONID, web_id=WEB_ID, user_id=USER_ID, now=1759132800, max_age=5184000, expires=EXPIRES)
    assert cookie == COOKIE_EXAMPLE


def test_cookie_header_keeps_the_sessionid_verbatim() -> None:
    cookie = cookie_header("a b;c", web_id=WEB_ID, user_id=USER_ID, now=1, max_age=2, expires="x")
    assert "sessionid=a b;c; " in cookie


@pytest.mark.parametrize(
    ("sessionid", "expected"),
    [
        ("abc", "abc%7C1759132800%7C5184000%7CMon%2C+03-Feb-2025+08%3A17%3A09+GMT"),
        ("", "%7C1759132800%7C5184000%7CMon%2C+03-Feb-2025+08%3A17%3A09+GMT"),
    ],
)
def test_sid_guard_encodes_bars_commas_colons_and_spaces(sessionid: str, expected: str) -> None:
    assert sid_guard(sessionid, now=1759132800, max_age=5184000, expires=EXPIRES) == expected


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (None, COMMON),
        ([], COMMON),
        (list(PASSPORT_EXTRA), [*COMMON, ("account_sdk_source", "web")]),
        ([("web_version", "6.6.0")], [*COMMON[:6], ("web_version", "6.6.0"), COMMON[7]]),
        ([("babi_param", "{}"), ("aid", "1")], [("aid", "1"), *COMMON[1:], ("babi_param", "{}")]),
    ],
)
def test_common_params_keep_their_order_and_merge_per_call_params(
    extra: list[tuple[str, str]] | None, expected: list[tuple[str, str]]
) -> None:
    assert common_params(CONFIG.app, WEB_ID, extra) == expected


def test_babi_param_is_the_compact_json_of_section_2() -> None:
    assert babi_param("high_aes_general_v40") == (
        '{"scenario":"image_video_generation","feature_key":"aigc_to_image","feature_entrance":"to_image",'
        '"feature_entrance_detail":"to_image-high_aes_general_v40"}'
    )


def test_babi_param_is_single_encoded_on_the_wire() -> None:
    params = common_params(CONFIG.app, WEB_ID, [("babi_param", babi_param("high_aes_general_v40"))])
    url = requests.Request("POST", "https://jimeng.jianying.com/x", params=params).prepare().url
    assert "&babi_param=%7B%22scenario%22%3A%22image_video_generation%22%2C" in url
    decoded_once = parse_qs(urlsplit(url).query)["babi_param"][0]
    assert json.loads(decoded_once)["feature_entrance_detail"] == "to_image-high_aes_general_v40"


def test_signed_headers_carry_the_header_table_time_sign_and_cookie() -> None:
    headers = signed_headers(CONFIG, "/mweb/v1/aigc_draft/generate", device_time="1759132800", cookie="c=1")
    assert headers["Device-Time"] == "1759132800"
    assert headers["Sign"] == "0e4907053592c4e691d5adda57dae4e5"
    assert headers["Sign-Ver"] == "1"
    assert headers["Cookie"] == "c=1"
    assert headers["Referer"] == "https://jimeng.jianying.com"
    assert headers["Last-event-id"] == "undefined"
    assert {name: headers[name] for name in ("Appid", "Appvr", "Pf")} == {
        "Appid": "513695",
        "Appvr": "1.0.0",
        "Pf": "7",
    }
    assert set(CONFIG.headers) <= set(headers)


def test_signed_headers_override_the_referer_when_asked() -> None:
    headers = signed_headers(
        CONFIG, "/commerce/v1/benefits/user_credit", device_time="1759132800", cookie="", referer=CONFIG.credit_referer
    )
    assert headers["Referer"] == "https://jimeng.jianying.com/ai-tool/image/generate"
    assert headers["Sign"] == "2bd5d37cd2a564678a3764247a10afbb"


def test_signed_headers_send_the_version_they_signed_with() -> None:
    config = dataclasses.replace(CONFIG, sign=dataclasses.replace(CONFIG.sign, appvr="8.4.0"))
    headers = signed_headers(config, "/mweb/v1/aigc_draft/generate", device_time="1759132800", cookie="")
    assert headers["Appvr"] == "8.4.0"
    assert headers["Sign"] == "8dfddc9b8f1ed770feff43dde0343959"


def test_signed_headers_do_not_modify_the_shared_config() -> None:
    signed_headers(CONFIG, "/x", device_time="1", cookie="c", referer="r")
    assert "Cookie" not in CONFIG.headers
    assert CONFIG.headers["Referer"] == "https://jimeng.jianying.com"
