"""The one place where exceptions become HTTP answers in OpenAI's error shape.

Every error body is ``{"error": {"message", "type", "param", "code", "history_id"}}``, plus ``task_id`` when
a submit's fate is unknown (its submit id, which ``GET /v1/tasks/{id}`` resolves). The error classes and
their codes are the domain's (``app/domain/errors.py``); their HTTP status and ``type`` are decided here and
nowhere else, so a new error class needs one line in ``_TRANSLATIONS``.

Retry hints for clients (the official OpenAI SDKs obey both): an error about a generation that exists or may
exist (it carries a ``history_id`` or a ``task_id``) says ``x-should-retry: false``, since a retry would be a
second paid generation; a 429 or 503 says ``Retry-After``, since waiting helps there.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, jsonify, request
from loguru import logger
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from app.domain import errors as domain


@dataclass(frozen=True)
class Translation:
    status: int
    type: str


_INVALID = "invalid_request_error"
# Most specific first: the first class an error is an instance of decides its status and type.
_TRANSLATIONS: tuple[tuple[type[domain.DomainError], Translation], ...] = (
    (domain.ImageTooLargeError, Translation(413, _INVALID)),
    (domain.RequestTooLargeError, Translation(413, _INVALID)),
    (domain.RequestTimeoutError, Translation(408, _INVALID)),
    (domain.UnsupportedMediaTypeError, Translation(415, _INVALID)),
    (domain.IdempotencyKeyReusedError, Translation(422, _INVALID)),
    (domain.InvalidRequestError, Translation(400, _INVALID)),
    (domain.AuthenticationError, Translation(401, "authentication_error")),
    (domain.NotFoundError, Translation(404, _INVALID)),
    (domain.ClientGoneError, Translation(499, _INVALID)),
    (domain.GenerationTimeoutError, Translation(504, "timeout")),
    (domain.StateUnavailableError, Translation(503, "service_unavailable")),
    (domain.ServiceRestartingError, Translation(503, "service_unavailable")),
    (domain.SessionExpiredError, Translation(401, "authentication_error")),
    (domain.InsufficientCreditsError, Translation(402, "insufficient_quota")),
    (domain.ContentFilteredError, Translation(400, _INVALID)),
    (domain.InvalidPromptError, Translation(400, _INVALID)),
    (domain.UpstreamModelUnavailableError, Translation(400, _INVALID)),
    (domain.PermissionRefusedError, Translation(403, "permission_error")),
    (domain.RateLimitedError, Translation(429, "rate_limit_exceeded")),
    (domain.JimengError, Translation(502, "upstream_error")),
)

DEFAULT_RETRY_AFTER_SECONDS = 10.0  # a 429 or 503 whose error does not know better
_UNCLASSIFIED = Translation(500, "server_error")  # a bare DomainError: a bug, but still in the contract's shape

_HTTP_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    417: "expectation_failed",
    431: "request_header_fields_too_large",
    500: "internal_error",
    501: "not_implemented",
}
# Statuses werkzeug has no reason phrase for (its status line would say UNKNOWN)
_REASONS = {499: "Client Closed Request"}
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
    task_id: str | None = None,
) -> dict[str, Any]:
    """The contract's error object; also used inside SSE error events. ``task_id`` only when there is one."""
    error = {"message": message, "type": type, "param": param, "code": code, "history_id": history_id}
    if task_id is not None:
        error["task_id"] = task_id
    return {"error": error}


def describe(err: domain.DomainError) -> tuple[int, dict[str, Any]]:
    """(status, body) of a domain error."""
    translation = next((tr for cls, tr in _TRANSLATIONS if isinstance(err, cls)), _UNCLASSIFIED)
    body = error_body(
        err.message, type=translation.type, code=err.code, param=err.param, history_id=err.history_id,
        task_id=getattr(err, "task_id", None),
    )  # fmt: skip
    return translation.status, body


def describe_exception(err: BaseException) -> tuple[int, dict[str, Any]] | None:
    """(status, body) for a domain or validation error; None for anything else (a bug: the caller's 500)."""
    if isinstance(err, domain.DomainError):
        return describe(err)
    if isinstance(err, ValidationError):
        param, message = first_validation_message(err.normalized_messages())
        code = "missing_field" if message == "Missing data for required field." else "invalid_value"
        return 400, error_body(f"{param}: {message}" if param else message, type=_INVALID, code=code, param=param)
    return None


def stream_error_body(err: BaseException, *, request_id: str, history_id: str | None) -> dict[str, Any]:
    """The error object of an in-stream error event (the headers are gone): a known error's body, else an
    internal error naming the request id (logged with its traceback); ``history_id`` when the error has none."""
    described = describe_exception(err)
    if described is None:
        logger.opt(exception=err).error("stream failed [request {}]", request_id)
        body = error_body(f"internal error (request id {request_id})", type="server_error", code="internal_error")
    else:
        body = described[1]
    body["error"]["history_id"] = body["error"].get("history_id") or history_id
    return body


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


def protocol_error(status: int, message: str) -> bytes:
    """The JSON body of an answer the HTTP server gives before the app sees the request (gunicorn's 400 for a
    bad request line, 431 for headers too large ...: ``app/gunicorn_worker.py``)."""
    type_ = "server_error" if status >= 500 else _INVALID
    return json.dumps(error_body(message, type=type_, code=_HTTP_CODES.get(status, "http_error"))).encode()


def _render(status: int, body: dict[str, Any], retry_after: float | None = None) -> Response:
    response = jsonify(body)
    response.status = f"{status} {_REASONS[status]}" if status in _REASONS else str(status)
    error = body.get("error", {})
    if error.get("history_id") or error.get("task_id"):  # a generation exists or may: a retry pays again
        response.headers["x-should-retry"] = "false"
    elif retry_after is not None or status in (429, 503):  # waiting helps: say how long
        seconds = DEFAULT_RETRY_AFTER_SECONDS if retry_after is None else retry_after
        response.headers["Retry-After"] = str(max(1, math.ceil(seconds)))  # RFC 9110: whole seconds
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
    described = describe_exception(err)
    if described is None:
        return _handle_unexpected(err)
    status, body = described
    if status >= 500:
        logger.warning("request failed: {} {} ({})", status, body["error"]["code"], body["error"]["message"])
    return _render(status, body, getattr(err, "retry_after", None))


def _handle_unexpected(err: Exception) -> Response:
    request_id = g.get("request_id") or uuid.uuid4().hex
    logger.opt(exception=err).error("unhandled error in {} {} [request {}]", request.method, request.path, request_id)
    message = f"internal error (request id {request_id})"
    return _render(500, error_body(message, type="server_error", code="internal_error"))


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _handle_http)
    for cls in (ValidationError, domain.DomainError):
        app.register_error_handler(cls, _handle_known)
    app.register_error_handler(Exception, _handle_unexpected)
