"""The international clusters (2026 notes 9; checklist 21, 23, 33): path prefixes /us and /sg."""

from __future__ import annotations

import json
import uuid
from typing import Any

import requests

from app.emulator import EmulatorServer
from tests.emulator.emulator_client import GENERATE, GENERATE_EXTRA, QUERY_A, Wire, image_body

WORKSPACES = "/mweb/v1/workspace/list"


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


def us_headers() -> dict[str, str]:
    return {"Appid": "513641", "Loc": "US", "Lan": "en"}


def workspace(wire: Wire, region: str = "US") -> int:
    answer = wire.call(WORKSPACES, {}, params=intl_params(region), headers=us_headers()).json()
    assert answer["ret"] == "0", answer
    value = answer["data"]["workspaces"][0]["workspace_id"]
    assert type(value) is int
    return value


def us_image_body(workspace_id: int | None, **changes: Any) -> dict[str, Any]:
    """A text-to-image body as the working US capture (9.3): extend with the workspace, the US metrics_extra."""
    body = image_body("a cat", count=1)
    body["http_common_info"] = {"aid": 513641}
    if workspace_id is not None:
        body["extend"]["workspace_id"] = workspace_id
    metrics = json.loads(body["metrics_extra"])
    metrics = {**metrics, "hasRejectedAudit": 0, **changes.pop("metrics", {})}
    body["metrics_extra"] = json.dumps(metrics)
    body["extend"].update(changes.pop("extend", {}))
    return body


def us_generate(wire: Wire, body: dict[str, Any]) -> dict[str, Any]:
    params = intl_params("US") + GENERATE_EXTRA
    return wire.call(GENERATE, body, params=params, headers=us_headers()).json()


def test_workspace_list_names_one_workspace_per_account_and_cluster(
    emulator: EmulatorServer, http: requests.Session
) -> None:
    us, sg = Wire(emulator.url + "/us", uuid.uuid4().hex, http), Wire(emulator.url + "/sg", uuid.uuid4().hex, http)
    first = workspace(us)
    assert workspace(us) == first and workspace(sg, "SG") != first
    assert workspace(Wire(emulator.url + "/us", uuid.uuid4().hex, http)) != first


def test_a_us_draft_must_carry_the_accounts_workspace_and_the_us_metrics(
    emulator: EmulatorServer, http: requests.Session
) -> None:
    wire = Wire(emulator.url + "/us", uuid.uuid4().hex, http)
    own = workspace(wire)
    assert us_generate(wire, us_image_body(own))["ret"] == "0"
    refused = {
        "workspace_missing": us_image_body(None),
        "workspace_invalid": us_image_body(own + 1),
    }
    for reason, body in refused.items():
        answer = us_generate(wire, body)
        assert answer["ret"] == "1000" and "workspace_id" in answer["errmsg"], (reason, answer)
    for body in (
        us_image_body(own, extend={"m_image_commerce_info": {"benefit_type": "image_basic_v5_2k"}}),
        us_image_body(own, metrics={"sceneOptions": "[]"}),
        us_image_body(own, metrics={"generateId": "another"}),
    ):
        assert us_generate(wire, body)["ret"] == "1000"
    no_audit = us_image_body(own)
    no_audit["metrics_extra"] = json.dumps({k: v for k, v in json.loads(no_audit["metrics_extra"]).items()
                                            if k != "hasRejectedAudit"})  # fmt: skip
    assert "hasRejectedAudit" in us_generate(wire, no_audit)["errmsg"]
    assert emulator.stats()["refusals"] == {"workspace_missing": 1, "workspace_invalid": 1, "intl_draft": 4}


def test_lenient_mode_does_not_check_international_drafts(emulator: EmulatorServer, http: requests.Session) -> None:
    emulator.configure(strict=False)
    wire = Wire(emulator.url + "/us", uuid.uuid4().hex, http)
    answer = us_generate(wire, us_image_body(None, metrics={"sceneOptions": "[]"}))
    assert answer["ret"] == "0", answer


def test_an_account_of_the_alternative_us_host_is_refused_1015_on_the_primary(
    emulator: EmulatorServer, http: requests.Session
) -> None:
    session = f"ttp2-{uuid.uuid4().hex}"
    primary, alternative = Wire(emulator.url + "/us", session, http), Wire(emulator.url + "/us-ttp2", session, http)
    assert primary.call("/commerce/v1/benefits/user_credit", {}, headers=us_headers()).json()["ret"] == "1015"
    answer = alternative.call("/commerce/v1/benefits/user_credit", {}, headers=us_headers()).json()
    assert answer["ret"] == "0" and "response" in answer
    assert us_generate(alternative, us_image_body(workspace(alternative)))["ret"] == "0"
    stats = emulator.stats()
    assert stats["refusals"] == {"cluster_mismatch": 1}
    assert stats["sites"]["us-ttp2"]["served"] == {session: 3} and "served" not in stats["sites"]["us"]
    assert stats["sites"]["us-ttp2"]["region"] == {"US": 2}


def test_an_ordinary_us_account_is_refused_on_the_alternative_host(
    emulator: EmulatorServer, http: requests.Session
) -> None:
    session = uuid.uuid4().hex
    assert workspace(Wire(emulator.url + "/us", session, http))
    answer = Wire(emulator.url + "/us-ttp2", session, http).call(WORKSPACES, {}, params=intl_params("US")).json()
    assert answer["ret"] == "1015"
    assert emulator.stats()["sites"]["us"]["served"] == {session: 1}
