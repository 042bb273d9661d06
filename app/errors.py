"""The one place where exceptions become HTTP answers in OpenAI's error shape.

Every error body is ``{"error": {"message", "type", "param", "code", "history_id"}}`` with the status of the
contract's error table. Upstream (``JimengError``) and domain errors are translated here and nowhere else, so
a new error class needs one line in ``_TRANSLATIONS`` and the contract stays in one file.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, jsonify, request
from loguru import logger
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from app.domain import errors as domain
from app.jimeng import errors as jimeng


class ApiError(Exception):
    """An error the HTTP layer raises itself; subclasses fix status, type and code."""

    status_code = 400
    type = "invalid_request_error"
    code = "invalid_value"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        history_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.history_id = history_id
        if code:
            self.code = code


class InvalidJsonError(ApiError):
    code = "invalid_json"


class MissingSessionError(ApiError):
    status_code = 401
    type = "authentication_error"
    code = "missing_session"


class InvalidApiKeyError(ApiError):
    status_code = 401
    type = "authentication_error"
    code = "invalid_api_key"


class NotFoundApiError(ApiError):
    status_code = 404
    code = "not_found"


class RequestTooLargeError(ApiError):
    status_code = 413
    code = "request_too_large"


class UnsupportedMediaTypeError(ApiError):
    status_code = 415
    code = "unsupported_media_type"


@dataclass(frozen=True)
class Translation:
    status: int
    type: str
    code: str


_INVALID = "invalid_request_error"
_TRANSLATIONS: list[tuple[type[Exception], Translation]] = [
    (jimeng.SessionExpiredError, Translation(401, "authentication_error", "session_expired")),
    (jimeng.InsufficientCreditsError, Translation(402, "insufficient_quota", "insufficient_credits")),
    (jimeng.ContentFilteredError, Translation(400, _INVALID, "content_filtered")),
    (jimeng.RateLimitedError, Translation(429, "rate_limit_exceeded", "upstream_rate_limited")),
    (jimeng.GenerationFailedError, Translation(502, "upstream_error", "generation_failed")),
    (jimeng.JimengError, Translation(502, "upstream_error", "upstream_error")),
    (domain.GenerationTimeoutError, Translation(504, "timeout", "generation_timeout")),
    (domain.NotFoundError, Translation(404, _INVALID, "not_found")),
    (domain.ClientGoneError, Translation(499, _INVALID, "client_closed_request")),
    (domain.ImageTooLargeError, Translation(413, _INVALID, "request_too_large")),
]

_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
}
_HTTP_MESSAGES = {
    404: "Unknown route {method} {path}",
    405: "Method {method} is not allowed on {path}",
    413: "Request body is larger than the limit",
    415: "Unsupported content type; send application/json (or multipart/form-data where documented)",
}


def error_body(
    message: str,
    *,
    type: str,
    code: str,
    param: str | None = None,
    history_id: str | None = None,
) -> dict[str, Any]:
    """The contract's error object; also used inside SSE error events."""
    return {"error": {"message": message, "type": type, "param": param, "code": code, "history_id": history_id}}


def describe_exception(err: Exception) -> tuple[int, dict[str, Any]]:
    """(status, body) for any known exception; unknown ones are the caller's 500."""
    if isinstance(err, ApiError):
        return err.status_code, error_body(
            err.message, type=err.type, code=err.code, param=err.param, history_id=err.history_id
        )
    if isinstance(err, domain.InvalidRequestError):  # the table may override 400 (ImageTooLargeError: 413)
        tr = next((tr for cls, tr in _TRANSLATIONS if isinstance(err, cls)), Translation(400, _INVALID, err.code))
        return tr.status, error_body(err.message, type=tr.type, code=tr.code, param=err.param)
    if isinstance(err, ValidationError):
        param, message = first_validation_message(err.normalized_messages())
        code = "missing_field" if message == "Missing data for required field." else "invalid_value"
        return 400, error_body(f"{param}: {message}" if param else message, type=_INVALID, code=code, param=param)
    for cls, tr in _TRANSLATIONS:
        if isinstance(err, cls):
            history_id = getattr(err, "history_id", None)
            return tr.status, error_body(str(err), type=tr.type, code=tr.code, history_id=history_id)
    raise LookupError(type(err).__name__)


def first_validation_message(messages: Any, prefix: str = "") -> tuple[str | None, str]:
    """The first failing field as a dotted/indexed path (``images[3]``) and its first message."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                return first_validation_message(value, prefix)
            name = f"{prefix}[{key}]" if isinstance(key, int) else (f"{prefix}.{key}" if prefix else str(key))
            return first_validation_message(value, name)
    if isinstance(messages, list) and messages:
        return first_validation_message(messages[0], prefix)
    return (prefix or None), str(messages)


def _render(status: int, body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def _handle_http(err: HTTPException) -> Response:
    status = err.code or 500
    if status >= 500:
        return _handle_unexpected(getattr(err, "original_exception", None) or err)
    code = _HTTP_CODES.get(status, "http_error")
    template = _HTTP_MESSAGES.get(status)
    message = template.format(method=request.method, path=request.path) if template else err.description
    response = _render(status, error_body(message or "HTTP error", type=_INVALID, code=code))
    if status == 405 and err.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(err.valid_methods)  # type: ignore[attr-defined]
    return response


def _handle_known(err: Exception) -> Response:
    try:
        status, body = describe_exception(err)
    except LookupError:
        return _handle_unexpected(err)
    if status >= 500:
        logger.warning("request failed: {} {} ({})", status, body["error"]["code"], body["error"]["message"])
    return _render(status, body)


def _handle_unexpected(err: Exception) -> Response:
    request_id = g.get("request_id") or uuid.uuid4().hex
    logger.opt(exception=err).error("unhandled error in {} {} [request {}]", request.method, request.path, request_id)
    message = f"internal error (request id {request_id})"
    return _render(500, error_body(message, type="server_error", code="internal_error"))


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _handle_http)
    for cls in (ApiError, ValidationError, domain.DomainError, jimeng.JimengError):
        app.register_error_handler(cls, _handle_known)
    app.register_error_handler(Exception, _handle_unexpected)
