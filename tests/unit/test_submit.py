"""JimengClient on a recording fake transport: what each call sends (query set, Referer, cookie), the submit's
recovery of a lost answer by submit id over a settle period, and the one retry of a video refused for its benefit name (2026 4.2)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from app.domain.errors import (
    InsufficientCreditsError,
    SubmitOutcomeUnknownError,
    UpstreamBadRequestError,
    UpstreamModelUnavailableError,
    UpstreamUnavailableError,
)
from app.domain.models import DraftKind, DraftSpec
from app.jimeng.client import ClientConfig, JimengClient
from app.jimeng.signing import web_id_for
from config.upstream import load_upstream
from tests import fake_http

SESSION = "0123456789abcdef0123456789abcdef"
VIDEO = DraftSpec(
    kind=DraftKind.VIDEO, model_key="dreamina_seedance_40_mini", prompt="waves", width=1280, height=720,
    ratio="16:9", resolution="720p", duration_s=5, benefit_type="seedance_20_mini_720p_output",
    benefit_fallback="seedance_20_mini_720p_output_5s",
)  # fmt: skip
IMAGE = DraftSpec(
    kind=DraftKind.GENERATE, model_key="high_aes_general_v50", prompt="cat", width=2048, height=2048, ratio="1:1",
    resolution="2k", count=4,
)  # fmt: skip


def accepted(history_id: str) -> dict[str, Any]:
    return {"ret": "0", "errmsg": "success", "data": {"aigc_data": {"history_record_id": history_id}}}


def refused(ret: str, errmsg: str = "refused") -> dict[str, Any]:
    empty = {"aigc_data": None, "fail_code": "", "fail_starling_key": "", "fail_starling_message": ""}
    return {"ret": ret, "errmsg": errmsg, "data": empty}


class FakeHttp(fake_http.FakeHttp):
    def benefit(self, index: int) -> str:
        return str(self.body(index)["extend"]["m_video_commerce_info"]["benefit_type"])


@dataclass
class FakeTime:
    """A clock that only moves when the client sleeps; remembers every pause."""

    now: float = 1790000000.123
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


SETTLE = 10.0


def client(script: list[Any], time: FakeTime | None = None, settle: float = SETTLE) -> tuple[JimengClient, FakeHttp]:
    http = FakeHttp(script)
    time = time or FakeTime()
    config = ClientConfig(
        base_url="https://jimeng.example", imagex_url="https://x", connect_timeout=1, read_timeout=1,
        submit_settle_seconds=settle,
    )  # fmt: skip
    jimeng = JimengClient(load_upstream(), config, http=http, clock=time.clock, sleep=time.sleep)  # type: ignore[arg-type]
    return jimeng, http


# --- what each call sends -----------------------------------------------------------------------------------


def test_a_video_submit_sends_the_video_query_set_referer_cookie_and_sign() -> None:
    jimeng, http = client([accepted("100")])
    assert jimeng.submit(SESSION, VIDEO).history_id == "100"
    call = http.calls[0]
    params = dict(call["params"])
    assert (http.path(0), params["commerce_with_input_video"], params["os"], params["webId"]) == (
        "/mweb/v1/aigc_draft/generate", "1", "mac", web_id_for(SESSION),
    )  # fmt: skip
    headers = call["headers"]
    assert headers["Referer"] == "https://jimeng.jianying.com/ai-tool/generate?type=video"
    assert (headers["Device-Time"], headers["Sign"]) == ("1790000000", "3f74a15553f9c99c1e6746750c692cb5")
    assert f"sessionid={SESSION}" in headers["Cookie"] and f"_tea_web_id={web_id_for(SESSION)}" in headers["Cookie"]
    assert http.benefit(0) == "seedance_20_mini_720p_output"


def test_an_image_submit_sends_the_image_query_set_and_its_count() -> None:
    jimeng, http = client([accepted("100")])
    jimeng.submit(SESSION, IMAGE)
    assert "commerce_with_input_video" not in dict(http.calls[0]["params"])
    assert http.calls[0]["headers"]["Referer"].endswith("?type=image")
    draft = json.loads(http.body(0)["draft_content"])
    assert draft["component_list"][0]["abilities"]["gen_option"]["gen_count"] == 4


def test_credits_are_read_without_a_query_string_and_with_the_image_referer() -> None:
    answer = {"ret": "0", "data": {"credit": {"gift_credit": 1, "purchase_credit": 2, "vip_credit": 3}}}
    jimeng, http = client([answer, {"ret": "0", "data": {"receive_quota": 5, "cur_total_credits": 11}}])
    assert jimeng.credits(SESSION).total == 6
    assert jimeng.receive_credits(SESSION).received == 5
    for index, referer in enumerate(("/ai-tool/image/generate", "/ai-tool/home")):
        url = requests.Request("POST", http.calls[index]["url"], params=http.calls[index]["params"]).prepare().url
        assert url is not None and urlsplit(url).query == ""
        assert http.calls[index]["headers"]["Referer"] == "https://jimeng.jianying.com" + referer


# --- the benefit retry (2026 4.2) ---------------------------------------------------------------------------


@pytest.mark.parametrize("ret", ["5001", "1000"])
def test_a_video_refused_for_its_benefit_is_sent_once_more_with_the_fallback(ret: str) -> None:
    jimeng, http = client([refused(ret, "credit prededuct failed"), accepted("200")])
    submitted = jimeng.submit(SESSION, VIDEO)
    assert submitted.history_id == "200"
    assert [http.benefit(0), http.benefit(1)] == ["seedance_20_mini_720p_output", "seedance_20_mini_720p_output_5s"]
    assert http.body(0)["submit_id"] != http.body(1)["submit_id"] == submitted.submit_id
    assert len(http.calls) == 2


def test_the_fallback_is_tried_once_only() -> None:
    jimeng, http = client([refused("5001"), refused("5001")])
    with pytest.raises(InsufficientCreditsError) as caught:
        jimeng.submit(SESSION, VIDEO)
    assert caught.value.ret == "5001"
    assert len(http.calls) == 2


@pytest.mark.parametrize(
    ("spec", "ret", "error"),
    [
        (replace(VIDEO, benefit_fallback=""), "5001", InsufficientCreditsError),
        (VIDEO, "5000", InsufficientCreditsError),
        (IMAGE, "5001", InsufficientCreditsError),
        (VIDEO, "2061", UpstreamModelUnavailableError),
    ],
)
def test_other_refusals_are_not_retried(spec: DraftSpec, ret: str, error: type[Exception]) -> None:
    jimeng, http = client([refused(ret)])
    with pytest.raises(error):
        jimeng.submit(SESSION, spec)
    assert len(http.calls) == 1


def test_the_retry_rets_are_configuration() -> None:
    jimeng, http = client([refused("1000")])
    jimeng.upstream = replace(jimeng.upstream, video=replace(jimeng.upstream.video, benefit_retry_rets=("5001",)))
    with pytest.raises(UpstreamBadRequestError):
        jimeng.submit(SESSION, VIDEO)
    assert len(http.calls) == 1


# --- a lost answer is looked up, never paid twice -----------------------------------------------------------


def test_a_lost_answer_is_found_by_its_submit_id_without_a_second_submit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.jimeng.client.new_uuid", lambda: "submit-1")
    found = {"ret": "0", "data": {"submit-1": {"history_record_id": "300", "status": 20}}}
    jimeng, http = client([requests.exceptions.ReadTimeout("read timed out"), found])
    submitted = jimeng.submit(SESSION, IMAGE)
    assert (submitted.history_id, submitted.submit_id) == ("300", "submit-1")
    assert [http.path(0), http.path(1)] == ["/mweb/v1/aigc_draft/generate", "/mweb/v1/get_history_by_ids"]
    assert (http.body(0)["submit_id"], http.body(1)["submit_ids"], len(http.calls)) == ("submit-1", ["submit-1"], 2)


LOST = requests.exceptions.ReadTimeout("read timed out")
NONE: dict[str, Any] = {"ret": "0", "data": {}}
SUBMIT, LOOKUP = "/mweb/v1/aigc_draft/generate", "/mweb/v1/get_history_by_ids"


def found(submit_id: str, history_id: str) -> dict[str, Any]:
    return {"ret": "0", "data": {submit_id: {"history_record_id": history_id, "status": 20}}}


def test_a_submit_jimeng_records_late_is_found_during_the_settle_period(monkeypatch: pytest.MonkeyPatch) -> None:
    """The slow upstream: the first look-ups come before Jimeng recorded the draft, a later one finds it."""
    monkeypatch.setattr("app.jimeng.client.new_uuid", lambda: "submit-1")
    time = FakeTime()
    jimeng, http = client([LOST, NONE, NONE, NONE, found("submit-1", "500")], time)
    submitted = jimeng.submit(SESSION, IMAGE)
    assert (submitted.history_id, submitted.submit_id) == ("500", "submit-1")
    assert [http.path(i) for i in range(len(http.calls))] == [SUBMIT, LOOKUP, LOOKUP, LOOKUP, LOOKUP]
    assert time.sleeps == [0.5, 1.0, 2.0]  # growing intervals; no second submit


def test_look_ups_grow_to_a_cap_and_run_until_the_settle_period_ends() -> None:
    time = FakeTime()
    jimeng, http = client([LOST, *[NONE] * 8, accepted("600")], time, settle=20.0)
    assert jimeng.submit(SESSION, IMAGE).history_id == "600"
    assert time.sleeps == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 2.5]  # capped; the last pause ends with the period
    assert sum(time.sleeps) == 20.0
    assert [http.path(i) for i in range(10)] == [SUBMIT, *[LOOKUP] * 8, SUBMIT]


def test_a_submit_never_found_is_sent_again_under_a_new_submit_id() -> None:
    time = FakeTime()
    jimeng, http = client([LOST, *[NONE] * 6, accepted("400")], time)
    submitted = jimeng.submit(SESSION, IMAGE)
    assert submitted.history_id == "400"
    assert http.path(7) == SUBMIT and len(http.calls) == 8
    first, second = http.body(0)["submit_id"], http.body(7)["submit_id"]
    assert first != second == submitted.submit_id  # two records never share one submit id
    assert all(http.body(i)["submit_ids"] == [first] for i in range(1, 7))
    assert time.now - FakeTime().now >= SETTLE  # nothing was sent again before the period passed


def test_look_ups_that_never_answer_leave_the_outcome_unknown_with_the_submit_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("app.jimeng.client.new_uuid", lambda: "submit-9")
    down = (502, b"<html>bad gateway</html>")
    jimeng, http = client([LOST, *[down] * 40])
    with pytest.raises(SubmitOutcomeUnknownError) as caught:
        jimeng.submit(SESSION, IMAGE)
    assert caught.value.task_id == "submit-9"
    assert (caught.value.code, caught.value.history_id) == ("submit_outcome_unknown", None)
    assert "submit-9" in caught.value.message
    assert [http.path(i) for i in range(len(http.calls))].count(SUBMIT) == 1  # never submitted again


def test_a_none_before_failing_look_ups_proves_nothing() -> None:
    """Only a look-up after the settle period may conclude "none": earlier answers may precede the record."""
    down = (502, b"<html>bad gateway</html>")
    jimeng, http = client([LOST, NONE, NONE, *[down] * 40])
    with pytest.raises(SubmitOutcomeUnknownError):
        jimeng.submit(SESSION, IMAGE)
    assert [http.path(i) for i in range(len(http.calls))].count(SUBMIT) == 1


def test_failing_look_ups_then_a_late_none_allow_one_more_submit() -> None:
    down = (502, b"<html>bad gateway</html>")
    jimeng, http = client([LOST, *[down] * 5, NONE, accepted("700")])
    assert jimeng.submit(SESSION, IMAGE).history_id == "700"
    assert [http.path(i) for i in range(len(http.calls))].count(SUBMIT) == 2


@pytest.mark.parametrize(
    "refusal",
    [requests.exceptions.ConnectionError("Connection refused"), (429, b"slow down")],
    ids=["not-connected", "throttled"],
)
def test_a_submit_refused_before_processing_is_sent_again_without_look_ups(refusal: Any) -> None:
    time = FakeTime()
    jimeng, http = client([refusal, accepted("800")], time)
    assert jimeng.submit(SESSION, IMAGE).history_id == "800"
    assert [http.path(0), http.path(1)] == [SUBMIT, SUBMIT]
    assert sum(time.sleeps) < 5  # a short backoff, no settle period


def test_the_last_attempt_is_settled_too_and_a_proven_none_is_a_plain_upstream_error() -> None:
    jimeng, http = client([*([LOST, *[NONE] * 6] * 5)])
    with pytest.raises(UpstreamUnavailableError) as caught:
        jimeng.submit(SESSION, IMAGE)
    assert not isinstance(caught.value, SubmitOutcomeUnknownError)
    assert [http.path(i) for i in range(len(http.calls))].count(SUBMIT) == 5
    assert http.script == []


@pytest.mark.parametrize(
    ("answer", "period"),
    [
        ((502, b"<html>bad gateway</html>"), 3.0),  # answered at once: a short settle
        ((503, b"busy"), 3.0),
        ({"ret": "2008", "errmsg": "get history failed", "data": None}, 3.0),
        ((504, b"gateway timeout"), SETTLE),  # the gateway gave up waiting: Jimeng may still be at it
        (requests.exceptions.ReadTimeout("read timed out"), SETTLE),  # late: the whole settle period
    ],
    ids=["502", "503", "ret-2008", "504", "read-timeout"],
)
def test_an_answered_refusal_settles_briefly_a_late_answer_for_the_whole_period(answer: Any, period: float) -> None:
    time = FakeTime()
    lookups = 4 if period == 3.0 else 6  # at 0, 0.5, 1.5 (3.5, 7.5) s, and one when the period ended
    jimeng, http = client([answer, *[NONE] * lookups, accepted("900")], time)
    assert jimeng.submit(SESSION, IMAGE).history_id == "900"
    assert sum(time.sleeps) == period
    assert [http.path(i) for i in range(len(http.calls))] == [SUBMIT, *[LOOKUP] * lookups, SUBMIT]
