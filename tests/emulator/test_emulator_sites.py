"""The international clusters (2026 notes 9; checklist 21, 23, 33): path prefixes /us and /sg."""

from __future__ import annotations

import json
import uuid

import requests

from app.emulator import EmulatorServer
from tests.emulator.emulator_client import QUERY_A, Wire


def intl_params(region: str) -> list[tuple[str, str]]:
    """Set A with the international aid and region and no webId (9.1)."""
    values = {"aid": "513641", "region": region}
    return [(name, values.get(name, value)) for name, value in QUERY_A if name != "webId"]


def test_us_commerce_answers_carry_the_payload_as_a_json_string(
    emulator: EmulatorServer, http: requests.Session
) -> None:
    wire = Wire(emulator.url + "/us", uuid.uuid4().hex, http)
    answer = wire.call("/commerce/v1/benefits/user_credit", {}, headers={"Appid": "513641", "Loc": "US"}).json()
    assert answer["ret"] == "0" and "data" not in answer
    assert set(json.loads(answer["response"])["credit"]) == {"gift_credit", "purchase_credit", "vip_credit"}
    assert emulator.stats()["sites"]["us"]["loc"] == {"US": 1}


def test_an_international_cluster_wants_its_aid_and_region(emulator: EmulatorServer, http: requests.Session) -> None:
    wire = Wire(emulator.url + "/sg", uuid.uuid4().hex, http)
    path = "/mweb/v1/get_common_config"
    assert wire.call(path, {}, params=intl_params("SG")).json()["ret"] == "0"
    assert wire.call(path, {}, params=intl_params("US")).json()["ret"] == "1000"  # US is not on the SG cluster
    assert wire.call(path, {}).json()["ret"] == "1000"  # the CN aid
    assert emulator.stats()["refusals"] == {"region_invalid": 1, "aid_invalid": 1}


def test_each_cluster_lists_its_own_models(emulator: EmulatorServer, http: requests.Session) -> None:
    def keys(prefix: str, region: str) -> set[str]:
        wire = Wire(emulator.url + prefix, uuid.uuid4().hex, http)
        params = intl_params(region) if prefix else None
        data = wire.call("/mweb/v1/get_common_config", {}, params=params).json()["data"]
        return {model["model_req_key"] for model in data["model_list"]}

    cn, us, sg = keys("", "cn"), keys("/us", "US"), keys("/sg", "SG")
    assert us < cn and sg < cn and "high_aes_general_v43" in sg - us
    assert "high_aes_general_v30l_art_fangzhou:general_v3.0_18b" not in sg  # no _fangzhou abroad (9.4)


def test_a_session_is_bound_to_the_cluster_it_called_first(emulator: EmulatorServer, http: requests.Session) -> None:
    session = uuid.uuid4().hex
    assert Wire(emulator.url + "/us", session, http).call("/commerce/v1/benefits/user_credit", {}).json()["ret"] == "0"
    answer = Wire(emulator.url, session, http).call("/commerce/v1/benefits/user_credit", {}).json()
    assert answer["ret"] == "1015" and emulator.stats()["refusals"] == {"cluster_mismatch": 1}
