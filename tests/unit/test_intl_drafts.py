"""International drafts and hosts (2026 9.1, 9.3): ``extend.workspace_id`` from ``workspace/list`` (looked up
once per account per TTL, before anything is submitted), the US image ``metrics_extra``, and the one retry of a
call answered ``1015`` on the region's other host, remembered per account."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.domain.errors import SessionExpiredError, UpstreamUnavailableError
from app.domain.tokens import Region
from app.jimeng.client import ClientConfig, JimengClient, RegionHosts
from app.jimeng.drafts import Abroad
from config.upstream import load_upstream
from tests.unit.test_drafts import SUBMIT_ID, blend_example, draft_of, generate_example
from tests.unit.test_submit import IMAGE, SESSION, FakeHttp, FakeTime, accepted, refused
from tests.unit.test_video_drafts import body_44

# 2026 9.3, verbatim, with <submit_id> filled in
US_METRICS = (
    '{"promptSource":"custom","generateCount":1,"enterFrom":"click","position":"page_bottom_box","isBoxSelect":false,'
    '"isCutout":false,"hasRejectedAudit":0,"generateId":"' + SUBMIT_ID + '","isRegenerate":false}'
)
US = Abroad(7123456789012345678, scene_options=False)
SG = Abroad(7000000000000000001)
WORKSPACES = {"ret": "0", "data": {"workspaces": [{"workspace_id": 7123456789012345678}, {"workspace_id": 1}]}}


def test_a_us_image_draft_carries_the_workspace_and_the_us_metrics_byte_for_byte() -> None:
    body = generate_example(abroad=US)
    assert body["extend"] == {"root_model": "high_aes_general_v50", "workspace_id": 7123456789012345678}
    assert body["metrics_extra"] == US_METRICS
    component = draft_of(body)["component_list"][0]
    assert "gen_type" not in component and "history_option" not in component["abilities"]["generate"]
    assert component["abilities"]["gen_option"]["gen_count"] == 1  # still sent (9.3: check the returned count)
    cn = generate_example()
    assert draft_of(body) == draft_of(cn)  # only extend and metrics_extra differ
    assert "m_image_commerce_info" not in json.dumps(body)


def test_an_sg_image_draft_keeps_scene_options_and_adds_the_workspace() -> None:
    body, cn = generate_example(abroad=SG), generate_example()
    assert body["extend"] == {"root_model": "high_aes_general_v50", "workspace_id": 7000000000000000001}
    assert body["metrics_extra"] == cn["metrics_extra"] and "sceneOptions" in body["metrics_extra"]
    assert cn["extend"] == {"root_model": "high_aes_general_v50"}


def test_blend_post_edit_and_video_drafts_abroad_carry_the_workspace() -> None:
    blend = blend_example(["tos-alisg-i-wopfjsm1ax-sg/a"], abroad=US)
    assert blend["extend"]["workspace_id"] == US.workspace_id
    assert json.loads(blend["metrics_extra"]) == json.loads(US_METRICS.replace(SUBMIT_ID, "submit-1"))
    video, cn_video = body_44(abroad=US), body_44()
    assert list(video["extend"]) == [
        "root_model",
        "workspace_id",
        "m_video_commerce_info",
        "m_video_commerce_info_list",
    ]
    assert {k: v for k, v in video["extend"].items() if k != "workspace_id"} == cn_video["extend"]
    assert video["metrics_extra"] == cn_video["metrics_extra"]


def us_client(script: list[Any], time: FakeTime | None = None, alt: bool = True) -> tuple[JimengClient, FakeHttp]:
    http = FakeHttp(script)
    time = time or FakeTime()
    hosts = RegionHosts("https://us.example", "https://commerce.us.example", "https://imagex.us.example",
                        *(("https://ttp2.example", "https://commerce-ttp2.example") if alt else ()))  # fmt: skip
    config = ClientConfig(
        base_url="https://jimeng.example", imagex_url="https://x", connect_timeout=1, read_timeout=1,
        submit_settle_seconds=10, regions={Region.US: hosts, Region.SG: hosts}, workspace_ttl=600,
    )  # fmt: skip
    jimeng = JimengClient(load_upstream(), config, http=http, clock=time.clock, sleep=time.sleep)  # type: ignore[arg-type]
    return jimeng, http


def test_the_workspace_is_looked_up_once_per_account_per_ttl() -> None:
    time = FakeTime()
    jimeng, http = us_client([WORKSPACES, accepted("1"), accepted("2"), WORKSPACES, accepted("3")], time)
    jimeng.submit(f"us-{SESSION}", IMAGE)
    jimeng.submit(f"us-{SESSION}", IMAGE)
    assert [http.path(i) for i in range(3)] == [
        "/mweb/v1/workspace/list", "/mweb/v1/aigc_draft/generate", "/mweb/v1/aigc_draft/generate",
    ]  # fmt: skip
    assert http.body(1)["extend"]["workspace_id"] == http.body(2)["extend"]["workspace_id"] == 7123456789012345678
    assert http.body(1)["metrics_extra"].count("sceneOptions") == 0
    time.now += 601
    jimeng.submit(f"us-{SESSION}", IMAGE)
    assert http.path(3) == "/mweb/v1/workspace/list" and len(http.calls) == 5


def test_a_cn_submit_looks_up_no_workspace() -> None:
    jimeng, http = us_client([accepted("1")])
    jimeng.submit(SESSION, IMAGE)
    assert len(http.calls) == 1 and "workspace_id" not in http.body(0)["extend"]


@pytest.mark.parametrize(
    "answers", [[{"ret": "0", "data": {"workspaces": []}}], [(502, b"bad gateway")] * 4]
)  # fmt: skip
def test_a_failed_workspace_look_up_is_an_error_before_any_submit(answers: list[Any]) -> None:
    jimeng, http = us_client(list(answers))
    with pytest.raises(UpstreamUnavailableError, match=r"workspace.*nothing was submitted"):
        jimeng.submit(f"sg-{SESSION}", IMAGE)
    assert all(http.path(i) == "/mweb/v1/workspace/list" for i in range(len(http.calls)))


def test_a_1015_on_the_us_host_is_tried_once_on_the_other_and_the_account_stays_there() -> None:
    jimeng, http = us_client([refused("1015"), WORKSPACES, accepted("9"), accepted("10")])
    assert jimeng.submit(f"us-{SESSION}", IMAGE).history_id == "9"
    assert jimeng.submit(f"us-{SESSION}", IMAGE).history_id == "10"
    hosts = [call["url"].split("/mweb")[0] for call in http.calls]
    assert hosts == ["https://us.example", *["https://ttp2.example"] * 3]


def test_a_submit_refused_1015_is_sent_once_to_the_other_host() -> None:
    jimeng, http = us_client([WORKSPACES, refused("1015"), accepted("9")])
    assert jimeng.submit(f"us-{SESSION}", IMAGE).history_id == "9"  # a refused submit created nothing
    hosts = [call["url"].split("/mweb")[0] for call in http.calls]
    assert hosts == ["https://us.example", "https://us.example", "https://ttp2.example"]
    assert http.body(1)["submit_id"] == http.body(2)["submit_id"]  # the same call, sent again


def test_the_commerce_host_follows_and_a_1015_on_both_hosts_is_the_sessions_error() -> None:
    credit = {"ret": "0", "response": json.dumps({"credit": {"gift_credit": 5}})}
    jimeng, http = us_client([refused("1015"), credit, refused("1015"), refused("1015")])
    assert jimeng.credits(f"us-{SESSION}").gift == 5
    assert [c["url"] for c in http.calls] == ["https://commerce.us.example/commerce/v1/benefits/user_credit",
                                              "https://commerce-ttp2.example/commerce/v1/benefits/user_credit"]  # fmt: skip
    with pytest.raises(SessionExpiredError):  # now on ttp2: refused there and back on the first host
        jimeng.credits(f"us-{SESSION}")
    assert http.calls[2]["url"].startswith("https://commerce-ttp2.example")
    assert http.calls[3]["url"].startswith("https://commerce.us.example")


def test_a_region_without_an_alternative_host_is_not_retried() -> None:
    jimeng, http = us_client([refused("1015")], alt=False)
    with pytest.raises(SessionExpiredError):
        jimeng.credits(f"us-{SESSION}")
    assert len(http.calls) == 1
