"""Bearer tokens ``[proxy@][region-]sessionid`` (2026 notes 9; baseline 14.3) and what the client sends per region."""

from __future__ import annotations

import pytest

from app.domain.errors import MissingSessionError
from app.domain.tokens import Region, parse_token, shown_proxy
from app.jimeng import signing
from app.secrets import token_secrets
from config.upstream import load_upstream


@pytest.mark.parametrize(
    ("token", "session", "region", "proxy"),
    [
        ("abc123", "abc123", Region.CN, ""),
        ("us-abc123", "abc123", Region.US, ""),
        ("SG-abc123", "abc123", Region.SG, ""),
        ("hk-abc", "abc", Region.HK, ""),
        ("jp-abc", "abc", Region.JP, ""),
        ("http://u:p@127.0.0.1:8080@us-abc123", "abc123", Region.US, "http://u:p@127.0.0.1:8080"),
        ("socks5://10.0.0.1:1080@abc123", "abc123", Region.CN, "socks5://10.0.0.1:1080"),
        ("socks://10.0.0.1:1080@abc123", "abc123", Region.CN, "socks5://10.0.0.1:1080"),
        ("a@b", "a@b", Region.CN, ""),  # no scheme before the last @: the whole token is the session id
    ],
)
def test_a_token_splits_at_the_last_at_into_proxy_region_and_session(
    token: str, session: str, region: Region, proxy: str
) -> None:
    credential = parse_token(token)
    assert (credential.session_id, credential.region, credential.proxy) == (session, region, proxy)


@pytest.mark.parametrize(
    "token", ["ftp://h:1@abc", "http://nohostport@abc", "http://h:1@", "us-", "http://h:notaport@abc"]
)
def test_an_unusable_token_is_401_without_echoing_it(token: str) -> None:
    with pytest.raises(MissingSessionError) as caught:
        parse_token(token)
    assert "nohostport" not in caught.value.message and "notaport" not in caught.value.message


def test_a_proxy_is_shown_masked_and_every_part_is_a_secret() -> None:
    url = "http://proxyuser:sup3rsecretpass@127.0.0.1:3128"
    shown = shown_proxy(url)
    assert "sup3rsecretpass" not in shown and "proxyuser" not in shown and "127.0.0.1:3128" in shown
    secrets = token_secrets(url + "@us-abcdef123456")
    assert {url, "sup3rsecretpass", "us-abcdef123456"} <= secrets


def test_international_calls_carry_the_site_constants() -> None:
    config = load_upstream()
    us = config.regions["us"]
    call = config.calls.image_generate
    params = dict(signing.query_params(config, call, "7123", region=us))
    assert params["aid"] == "513641" and params["region"] == "US" and "webId" not in params
    headers = signing.signed_headers(config, call, device_time="1790000000", cookie="c", region=us, web_id="7123")
    assert headers["Appid"] == "513641" and headers["Loc"] == "US" and headers["Lan"] == "en"
    assert headers["store-country-code"] == "us" and headers["did"] == "7123"
    assert headers["Origin"] == "https://dreamina.capcut.com"
    assert headers["Referer"] == "https://dreamina.capcut.com/ai-tool/generate?type=image"
    assert headers["Sign"] == "3f74a15553f9c99c1e6746750c692cb5"  # the same recipe on every site (2.2)


def test_cn_calls_are_unchanged_by_the_cn_region_entry() -> None:
    config = load_upstream()
    cn = config.regions["cn"]
    call = config.calls.history
    assert signing.query_params(config, call, "7123", region=cn) == signing.query_params(config, call, "7123")
    with_region = signing.signed_headers(config, call, device_time="1", cookie="c", region=cn, web_id="7")
    assert with_region == signing.signed_headers(config, call, device_time="1", cookie="c")
