from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError, fields

from app.domain import errors as domain
from app.domain.errors import InvalidJsonError, MissingSessionError, RequestTooLargeError, UnsupportedMediaTypeError
from app.errors import describe_exception, first_validation_message
from app.jimeng.errors import error_from_envelope


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
        (domain.InvalidParametersError("x"), 502, "upstream_error", "upstream_error"),
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


@pytest.mark.parametrize(
    ("ret", "cls"),
    [
        ("1015", domain.SessionExpiredError),
        ("5000", domain.InsufficientCreditsError),
        ("4001", domain.ContentFilteredError),
        ("4002", domain.InvalidParametersError),
        ("5001", domain.GenerationFailedError),
        ("5002", domain.GenerationFailedError),
        ("3018", domain.UpstreamUnavailableError),
        (1015, domain.SessionExpiredError),
    ],
)
def test_envelope_ret_codes_map_to_error_classes(ret: str, cls: type[Exception]) -> None:
    error = error_from_envelope(ret, "msg")
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
