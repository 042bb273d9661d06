"""International regions and per-token proxies against the emulator (which serves its US and SG clusters under
the path prefixes /us and /sg), with a real forward proxy on loopback (tests/forward_proxy.py)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from app.emulator import EmulatorServer
from tests.e2e.conftest import Api, assert_error
from tests.forward_proxy import closed_port, forward_proxy
from tests.images import PNG

PNG_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()


def intl_settings(emu: EmulatorServer) -> dict[str, Any]:
    """Every international site pointed at the emulator's cluster for it."""
    settings: dict[str, Any] = {}
    for region, cluster in (("us", "us"), ("hk", "sg"), ("jp", "sg"), ("sg", "sg")):
        for kind in ("base", "commerce", "imagex"):
            settings[f"jimeng_{region}_{kind}_url"] = f"{emu.url}/{cluster}"
    for kind in ("base", "commerce"):  # the US alternative host (2026 9.1)
        settings[f"jimeng_us_alt_{kind}_url"] = f"{emu.url}/us-ttp2"
    return settings


@pytest.fixture
def intl_api(start_api: Callable[..., Api], emu: EmulatorServer) -> Api:
    return start_api(**intl_settings(emu))


def bare() -> str:
    return f"sess-{uuid.uuid4().hex}"


def site(api: Api, name: str) -> dict[str, Any]:
    return dict(api.stats().get("sites", {}).get(name, {}))


def test_a_us_token_generates_through_the_us_host_with_the_us_constants(intl_api: Api) -> None:
    session = bare()
    token = f"us-{session}"
    response = intl_api.post("/v1/images/compositions", {"prompt": "a cat", "images": [PNG_URI]}, token=token)
    assert response.status_code == 200, response.text
    us = site(intl_api, "us")
    assert us["by_path"]["/mweb/v1/aigc_draft/generate"] == 1
    assert us["aid"] == {"513641": us["aid"]["513641"]} and us["appid"] == {"513641": us["appid"]["513641"]}
    assert set(us["loc"]) == {"US"} and set(us["region"]) == {"US"} and set(us["store_country_code"]) == {"us"}
    assert us["imagex_region"] == {"us-east-1": 2}  # ApplyImageUpload and CommitImageUpload
    assert set(us["by_session"]) == {session}  # the bare session id in the cookie, never the prefix
    assert "cn" not in intl_api.stats()["sites"] or session not in site(intl_api, "cn").get("by_session", {})
    assert intl_api.stats()["refusals"] == {}, intl_api.stats()["recent_refusals"]


def test_a_pool_of_cn_and_sg_tokens_uses_each_with_its_own_region(intl_api: Api) -> None:
    cn, sg = bare(), bare()
    pool = f"{cn},sg-{sg}"
    for _ in range(4):
        response = intl_api.post("/v1/images/generations", {"prompt": "a dog", "n": 1}, token=pool)
        assert response.status_code == 200, response.text
    stats = intl_api.stats()
    assert set(site(intl_api, "cn")["by_session"]) == {cn}
    assert set(site(intl_api, "sg")["by_session"]) == {sg}
    assert set(site(intl_api, "sg")["region"]) == {"SG"} and set(site(intl_api, "sg")["aid"]) == {"513641"}
    assert "cluster_mismatch" not in stats["refusals"] and "aid_invalid" not in stats["refusals"]


def test_models_differ_by_region(intl_api: Api) -> None:
    cn = {m["id"] for m in intl_api.get("/v1/models", token=bare()).json()["data"]}
    us = {m["id"] for m in intl_api.get("/v1/models", token=f"us-{bare()}").json()["data"]}
    sg = {m["id"] for m in intl_api.get("/v1/models", token=f"sg-{bare()}").json()["data"]}
    assert us != cn and sg != cn and us != sg
    assert "jimeng-5.0" in us and "jimeng-4.7" not in us and "jimeng-4.7" in sg and "jimeng-3.1" not in sg


def test_a_model_not_offered_in_the_region_is_a_400_naming_it(intl_api: Api) -> None:
    token = f"us-{bare()}"
    intl_api.get("/v1/models", token=token)  # the region's tables, cached
    response = intl_api.post("/v1/images/generations", {"prompt": "x", "model": "jimeng-4.7"}, token=token)
    error = assert_error(response, 400, "model_not_found")
    assert "US" in error["message"] and error["param"] == "model"
    assert intl_api.submits() == 0


def test_a_proxied_tokens_calls_all_pass_through_the_proxy(intl_api: Api) -> None:
    session = bare()
    with forward_proxy(("proxyuser", "proxy-secret-pass")) as proxy:
        token = f"{proxy.url()}@us-{session}"
        body = {"prompt": "a cat", "images": [PNG_URI], "response_format": "b64_json"}
        response = intl_api.post("/v1/images/compositions", body, token=token)
        assert response.status_code == 200, response.text
        stats = intl_api.stats()
        us = site(intl_api, "us")
        via = stats["requests"]["via"]
        assert via["by_session"] == {session: us["by_session"][session]}  # every cookie-API call came through it
        assert sum(via["by_path"].values()) == sum(us["by_path"].values()) + stats["requests"]["by_path"]["/upload/v1"]
        assert any(path.startswith("/media/") for path in proxy.relayed)  # the result download too
        assert proxy.refused == 0
    assert "proxy-secret-pass" not in response.text


def test_jimeng_proxy_carries_sessions_without_their_own(start_api: Callable[..., Api], emu: EmulatorServer) -> None:
    with forward_proxy() as proxy:
        api = start_api(jimeng_proxy=proxy.url())
        session = bare()
        response = api.post("/v1/images/generations", {"prompt": "a cat", "n": 1}, token=session)
        assert response.status_code == 200, response.text
        stats = api.stats()
        assert stats["requests"]["via"]["by_session"][session] == stats["requests"]["by_session"][session]


def test_a_bad_proxy_is_a_502_naming_it_masked(intl_api: Api) -> None:
    port = closed_port()
    token = f"http://proxyuser:proxy-secret-pass@127.0.0.1:{port}@{bare()}"
    response = intl_api.post("/v1/images/generations", {"prompt": "a cat", "n": 1}, token=token)
    error = assert_error(response, 502, "upstream_error")
    assert f"127.0.0.1:{port}" in error["message"] and "proxy" in error["message"]
    assert "proxy-secret-pass" not in response.text and "proxyuser" not in response.text
    assert intl_api.submits() == 0


def test_a_token_with_an_unusable_proxy_is_a_401(intl_api: Api) -> None:
    response = intl_api.post("/v1/images/generations", {"prompt": "x"}, token=f"ftp://h:1@{bare()}")
    assert_error(response, 401, "missing_session")


def test_an_international_anti_bot_refusal_is_403_risk_control(intl_api: Api, emu: EmulatorServer) -> None:
    emu.configure(intl_shark=True)
    response = intl_api.post("/v1/images/generations", {"prompt": "a cat", "n": 1}, token=f"sg-{bare()}")
    error = assert_error(response, 403, "risk_control")
    assert "anti-bot" in error["message"] and "-6" in error["message"]
    assert intl_api.stats()["refusals"] == {"risk_intl_shark": 1}


WORKSPACES = "/mweb/v1/workspace/list"
GENERATE = "/mweb/v1/aigc_draft/generate"


def test_a_us_generation_sends_the_accounts_workspace_and_the_us_metrics(intl_api: Api, emu: EmulatorServer) -> None:
    assert emu.configure()["strict"]  # the emulator checks workspace_id, m_image_commerce_info and metrics_extra (9.3)
    session = bare()
    for _ in range(2):
        response = intl_api.post("/v1/images/generations", {"prompt": "a cat", "n": 1}, token=f"us-{session}")
        assert response.status_code == 200, response.text
    us = site(intl_api, "us")
    assert us["by_path"][GENERATE] == 2 and us["by_path"][WORKSPACES] == 1  # looked up once, then cached
    assert intl_api.stats()["refusals"] == {}, intl_api.stats()["recent_refusals"]


def test_a_session_of_the_alternative_us_host_generates_after_one_1015(intl_api: Api) -> None:
    session = f"ttp2-{bare()}"

    def generate() -> list[dict[str, Any]]:
        response = intl_api.post("/v1/images/generations", {"prompt": "a cat", "n": 1}, token=f"us-{session}")
        assert response.status_code == 200, response.text
        return list(intl_api.stats()["recent_refusals"])

    first = generate()
    assert {r["reason"] for r in first} == {"cluster_mismatch"}
    paths = [r["path"] for r in first]  # calls made before the host was learnt (the tables load alongside)
    assert len(paths) == len(set(paths)) and GENERATE not in paths  # each tried once on the US host
    assert generate() == first  # then remembered: no more 1015s
    alt = site(intl_api, "us-ttp2")
    assert alt["by_path"][GENERATE] == 2 and alt["by_path"][WORKSPACES] == 1 and set(alt["served"]) == {session}
    assert "served" not in site(intl_api, "us")
