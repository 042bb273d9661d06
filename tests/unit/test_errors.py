from __future__ import annotations

import json

import pytest
from marshmallow import Schema, ValidationError, fields

from app.domain import errors as domain
from app.domain.errors import InvalidJsonError, MissingSessionError, RequestTooLargeError, UnsupportedMediaTypeError
from app.errors import describe_exception, first_validation_message
from app.jimeng.errors import error_from_envelope, error_from_fail_code


@pytest.mark.parametrize(
    ("error", "status", "type_", "code"),
    [
        (InvalidJsonError("bad"), 400, "invalid_request_error", "invalid_json"),
        (MissingSessionError("none"), 401, "authentication_error", "missing_session"),
        (RequestTooLargeError("big"), 413, "invalid_request_error", "request_too_large"),
        (UnsupportedMediaTypeError("xml"), 415, "invalid_request_error", "unsupported_media_type"),
        (domain.InvalidRequestError("m", code="model_not_found"), 400, "invalid_request_error", "model_not_found"),
        (domain.GenerationTimeoutError("late", history_id="1"), 504, "timeout", "generation_timeout"),
        (domain.NotFoundError("gone"), 404, "invalid_request_error", "not_found"),
        (domain.SessionExpiredError("x"), 401, "authentication_error", "session_expired"),
        (domain.InsufficientCreditsError("x"), 402, "insufficient_quota", "insufficient_credits"),
        (domain.ContentFilteredError("x"), 400, "invalid_request_error", "content_filtered"),
        (domain.RateLimitedError("x"), 429, "rate_limit_exceeded", "upstream_rate_limited"),
        (domain.GenerationFailedError("x"), 502, "upstream_error", "generation_failed"),
        (domain.UpstreamUnavailableError("x"), 502, "upstream_error", "upstream_error"),
        (domain.UpstreamBadRequestError("x"), 502, "upstream_error", "upstream_bad_request"),
        (domain.RiskControlError("x"), 403, "permission_error", "risk_control"),
        (domain.ConcurrencyLimitError("x"), 429, "rate_limit_exceeded", "concurrency_limit"),
        (domain.UpstreamModelUnavailableError("x"), 400, "invalid_request_error", "model_unavailable"),
    ],
)
def test_each_error_class_has_the_contract_status_type_and_code(
    error: Exception, status: int, type_: str, code: str
) -> None:
    got_status, body = describe_exception(error)
    assert got_status == status
    assert set(body["error"]) == {"message", "type", "param", "code", "history_id"}
    assert (body["error"]["type"], body["error"]["code"]) == (type_, code)


def test_history_id_travels_with_upstream_errors() -> None:
    _, body = describe_exception(domain.GenerationFailedError("failed 1234", history_id="4721606420748"))
    assert body["error"]["history_id"] == "4721606420748"


# Protocol section 6: every ret Jimeng is known to answer, with the status and code the service gives it.
RET_TABLE = [
    ("1", 429, "upstream_rate_limited"),
    ("1000", 502, "upstream_bad_request"),
    ("1001", 502, "upstream_bad_request"),
    ("1002", 502, "upstream_bad_request"),
    ("1006", 402, "insufficient_credits"),
    ("1010", 429, "concurrency_limit"),
    ("1014", 502, "upstream_incompatible"),
    ("1015", 401, "session_expired"),
    ("1017", 403, "model_not_permitted"),
    ("1018", 403, "account_restricted"),
    ("1019", 403, "risk_control"),
    ("1021", 403, "risk_control"),
    ("1057", 429, "upstream_rate_limited"),
    ("1063", 400, "content_filtered"),
    ("1159", 400, "content_filtered"),
    ("1161", 400, "invalid_prompt"),
    ("1162", 400, "invalid_prompt"),
    ("2002", 502, "generation_failed"),
    ("2003", 400, "content_filtered"),
    ("2004", 400, "content_filtered"),
    ("2005", 400, "content_filtered"),
    ("2014", 429, "upstream_rate_limited"),
    ("2020", 429, "upstream_rate_limited"),
    ("2035", 403, "risk_control"),
    ("2038", 400, "content_filtered"),
    ("2039", 400, "content_filtered"),
    ("2041", 400, "content_filtered"),
    ("2042", 400, "content_filtered"),
    ("2043", 400, "content_filtered"),
    ("2047", 400, "content_filtered"),
    ("2048", 400, "content_filtered"),
    ("2050", 400, "content_filtered"),
    ("2052", 400, "content_filtered"),
    ("2061", 400, "model_unavailable"),
    ("3000", 403, "region_not_allowed"),
    ("3018", 502, "upstream_incompatible"),
    ("3021", 502, "upstream_incompatible"),
    ("4001", 402, "insufficient_credits"),
    ("4003", 403, "model_not_permitted"),
    ("4010", 403, "compliance_required"),
    ("4013", 403, "risk_control"),
    ("5000", 402, "insufficient_credits"),
    ("5001", 402, "insufficient_credits"),
    ("5002", 502, "generation_failed"),
    ("10020", 429, "upstream_rate_limited"),
    ("121101", 429, "daily_limit"),
    ("34010100", 502, "upstream_bad_request"),
    ("-4", 403, "risk_control"),
    ("-6", 403, "risk_control"),
    ("99999", 502, "upstream_error"),
]


@pytest.mark.parametrize(("ret", "status", "code"), RET_TABLE)
def test_every_known_ret_has_its_status_and_code(ret: str, status: int, code: str) -> None:
    error = error_from_envelope(ret, "msg", now=lambda: 1_790_000_000.0)
    got_status, body = describe_exception(error)  # type: ignore[misc]
    assert (got_status, body["error"]["code"]) == (status, code)
    assert f"ret {ret}: msg" in body["error"]["message"]
    waits = code in ("upstream_rate_limited", "concurrency_limit", "daily_limit")
    assert (error.retry_after is not None) is waits


def test_ret_3018_with_fail_code_1017_is_a_model_the_account_may_not_use() -> None:
    assert error_from_envelope("3018", "permission denied", fail_code="1017").code == "model_not_permitted"


def test_the_daily_limit_lasts_until_midnight_in_shanghai() -> None:
    noon_in_shanghai = 1_790_000_000 - (1_790_000_000 + 8 * 3600) % 86400 + 12 * 3600
    assert error_from_envelope("121101", "", now=lambda: noon_in_shanghai).retry_after == 12 * 3600


def test_a_finished_record_s_fail_code_maps_through_the_same_table() -> None:
    filtered = error_from_fail_code("7", "2038", "你输入的文字不符合平台规则")
    assert (type(filtered), filtered.history_id, filtered.fail_code) == (domain.ContentFilteredError, "7", "2038")
    assert "不符合" in filtered.message
    assert type(error_from_fail_code("7", "4013")) is domain.RiskControlError
    assert type(error_from_fail_code("7", "1180")) is domain.GenerationFailedError
    assert type(error_from_fail_code("7", "1000")) is domain.GenerationFailedError  # not a request error here


class _Nested(Schema):
    url = fields.Url(required=True)


class _Sample(Schema):
    prompt = fields.String(required=True)
    images = fields.List(fields.Nested(_Nested))


def test_validation_error_names_the_first_failing_field() -> None:
    with pytest.raises(ValidationError) as caught:
        _Sample().load({})
    status, body = describe_exception(caught.value)
    assert status == 400
    assert body["error"]["param"] == "prompt"
    assert body["error"]["code"] == "missing_field"


def test_validation_paths_index_list_items() -> None:
    messages = {"images": {3: {"url": ["Not a valid URL."]}}}
    assert first_validation_message(messages) == ("images[3].url", "Not a valid URL.")


def test_an_unknown_exception_is_not_described_so_it_surfaces_as_a_bug() -> None:
    assert describe_exception(KeyError("history_id")) is None
    assert describe_exception(LookupError("x")) is None


def test_errors_cannot_be_changed_after_creation() -> None:
    error = domain.SessionExpiredError("logged out", ret="1015")
    with pytest.raises(AttributeError):
        error.history_id = "1"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        error.message = "other"  # type: ignore[misc]


def test_for_generation_is_a_copy_with_the_id_and_leaves_the_original_alone() -> None:
    shared = domain.GenerationFailedError("failed", fail_code="1180", ret="5001")
    first, second = shared.for_generation("111"), shared.for_generation("222")
    assert (first.history_id, second.history_id, shared.history_id) == ("111", "222", None)
    assert type(first) is domain.GenerationFailedError
    assert (first.fail_code, first.ret, first.message, str(first)) == ("1180", "5001", "failed", "failed")
    assert first.for_generation("111") is first


def test_an_instance_code_overrides_the_class_code() -> None:
    assert domain.InvalidRequestError("x", code="too_many_images").code == "too_many_images"
    assert domain.InvalidRequestError("x").code == "invalid_value"


def test_an_unknown_submit_outcome_is_502_with_the_submit_id_as_task_id() -> None:
    error = domain.SubmitOutcomeUnknownError("no answer", task_id="0b6c7a52-submit")
    status, body = describe_exception(error)  # type: ignore[misc]
    assert status == 502
    assert body["error"]["code"] == "submit_outcome_unknown"
    assert (body["error"]["task_id"], body["error"]["history_id"]) == ("0b6c7a52-submit", None)


def test_task_id_is_in_the_body_only_when_the_error_has_one() -> None:
    _, body = describe_exception(domain.UpstreamUnavailableError("down"))  # type: ignore[misc]
    assert "task_id" not in body["error"]


def test_the_stream_error_event_carries_the_task_id() -> None:
    from app.api.sse import ChatOptions, ProgressMode, _ChatStream
    from app.domain.chat import ChunkHeader

    options = ChatOptions(progress=ProgressMode.REASONING, messages=[])
    stream = _ChatStream(None, lambda: None, ChunkHeader("c", 0, "m"), options, 1.0, lambda: False, "r")  # type: ignore[arg-type]
    text, line = stream._error(domain.SubmitOutcomeUnknownError("no answer", task_id="0b6c7a52-submit"))
    error = json.loads(line.removeprefix("data: "))["error"]
    assert (error["code"], error["task_id"], error["history_id"]) == ("submit_outcome_unknown", "0b6c7a52-submit", None)
    delta = json.loads(text.removeprefix("data: "))["choices"][0]["delta"]
    assert delta == {"content": "Error: no answer"}  # shown by clients that drop events without choices
