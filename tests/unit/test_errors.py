from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError, fields

from app.domain import errors as domain
from app.errors import (
    InvalidJsonError,
    MissingSessionError,
    RequestTooLargeError,
    UnsupportedMediaTypeError,
    describe_exception,
    first_validation_message,
)
from app.jimeng import errors as jimeng


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
        (jimeng.SessionExpiredError("x"), 401, "authentication_error", "session_expired"),
        (jimeng.InsufficientCreditsError("x"), 402, "insufficient_quota", "insufficient_credits"),
        (jimeng.ContentFilteredError("x"), 400, "invalid_request_error", "content_filtered"),
        (jimeng.RateLimitedError("x"), 429, "rate_limit_exceeded", "upstream_rate_limited"),
        (jimeng.GenerationFailedError("x"), 502, "upstream_error", "generation_failed"),
        (jimeng.UpstreamUnavailableError("x"), 502, "upstream_error", "upstream_error"),
        (jimeng.InvalidParametersError("x"), 502, "upstream_error", "upstream_error"),
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
    _, body = describe_exception(jimeng.GenerationFailedError("failed 1234", history_id="4721606420748"))
    assert body["error"]["history_id"] == "4721606420748"


@pytest.mark.parametrize(
    ("ret", "cls"),
    [
        ("1015", jimeng.SessionExpiredError),
        ("5000", jimeng.InsufficientCreditsError),
        ("4001", jimeng.ContentFilteredError),
        ("4002", jimeng.InvalidParametersError),
        ("5001", jimeng.GenerationFailedError),
        ("5002", jimeng.GenerationFailedError),
        ("3018", jimeng.UpstreamUnavailableError),
        (1015, jimeng.SessionExpiredError),
    ],
)
def test_envelope_ret_codes_map_to_error_classes(ret: str, cls: type[Exception]) -> None:
    error = jimeng.error_from_envelope(ret, "msg")
    assert type(error) is cls
    assert f"ret {ret}" in str(error)


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
