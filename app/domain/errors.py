"""The service's one error vocabulary: what can go wrong with a request or its generation.

    DomainError                         base; immutable once created
     +-- InvalidRequestError            400: input no upstream call could fix; ``param`` names the field
     |    +-- IdempotencyKeyReusedError 422: an Idempotency-Key already used with another request body
     |    +-- ModelUnavailableError     400: a model Jimeng no longer serves (the message names its successor)
     |    +-- InvalidJsonError          400: the body is not a JSON object
     |    +-- TooManySessionsError      400: more session ids in Authorization than MAX_SESSIONS_PER_REQUEST
     |    +-- ImageTooLargeError        413: one input image is over MAX_IMAGE_BYTES
     |    +-- RequestTooLargeError      413: the whole body is over MAX_BODY_BYTES
     |    +-- RequestTimeoutError       408: the body did not arrive in time (BODY_READ_TIMEOUT_SECONDS, floor)
     |    +-- UnsupportedMediaTypeError 415: a content type the endpoint does not read
     +-- AuthenticationError            401: no usable Authorization
     |    +-- MissingSessionError
     |    +-- InvalidApiKeyError
     +-- NotFoundError                  404: a task id, model or route nobody knows
     +-- ClientGoneError                499: the client hung up while its generation ran
     +-- GenerationTimeoutError         504: the deadline passed; the generation may still finish upstream
     +-- StateUnavailableError          503: the shared store that makes Idempotency-Key safe cannot be reached
     +-- ServiceRestartingError         503: this worker is shutting down (SIGTERM); with a history id the
     |                                  generation runs on (GET /v1/tasks/{id}), without one nothing was submitted
     +-- JimengError                    what Jimeng said, or failed to say (``ret`` when it said it)
          +-- SessionExpiredError        401 the sessionid is not (or no longer) logged in
          +-- InsufficientCreditsError   402 the account cannot pay for the draft (or lacks the model's benefit)
          +-- ContentFilteredError       400 moderation refused the prompt, an input or the output
          +-- InvalidPromptError         400 Jimeng refuses the prompt's language
          +-- UpstreamModelUnavailableError  400 Jimeng says the model is retired (ret 2061)
          +-- PermissionRefusedError     403 the account may not do this
          |    +-- ModelNotPermittedError, AccountRestrictedError, RegionNotAllowedError,
          |        ComplianceRequiredError, RiskControlError
          +-- RateLimitedError           429 throttling that outlived our retries (``retry_after``)
          |    +-- ConcurrencyLimitError  too many running jobs on the account
          |    +-- DailyLimitError        the account's daily generation cap
          +-- GenerationFailedError      502 the generation failed (``fail_code``)
          +-- UpstreamBadRequestError    502 Jimeng did not accept the request we built
          +-- UpstreamIncompatibleError  502 our protocol constants are stale (ret 3018, 1014)
          +-- UpstreamUnavailableError   502 transport errors, 5xx, malformed answers (after retries)
               +-- SubmitOutcomeUnknownError  a submit's answer was lost and no look-up could tell its fate
                                              (``task_id``: the submit id)

Each class owns its OpenAI error ``code``; ``app/errors.py`` owns the HTTP status and ``type`` of each class.
An error is never changed after it is raised: many waiters may hold the same one (a batched poll fails every
job of a session at once), so ``for_generation`` returns a copy carrying one generation's history id.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self


class DomainError(Exception):
    """Base of every error the service answers with; fields are read-only after ``__init__``.

    Subclasses declare their extra fields (``ret``, ``fail_code`` ...) with class-level defaults; the keyword
    arguments of ``__init__`` set them on the instance.
    """

    code: ClassVar[str] = "error"
    message: str
    param: str | None
    history_id: str | None
    retry_after: float | None = None  # seconds a client should wait before the same request can succeed

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        history_id: str | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        fields = self.__dict__
        fields.update(details, message=message, param=param, history_id=history_id)
        if code is not None:
            fields["code"] = code

    def __setattr__(self, name: str, value: object) -> None:
        if name.startswith("__"):  # Python's own (__traceback__, __cause__, __notes__ ...)
            super().__setattr__(name, value)
            return
        raise AttributeError(f"{type(self).__name__} is immutable; use for_generation() for a copy with an id")

    def for_generation(self, history_id: str | None) -> Self:
        """This error as seen by one generation: a copy carrying its history id (self when it already does)."""
        if history_id is None or history_id == self.history_id:
            return self
        return self._copy(history_id=history_id)

    def noting(self, note: str) -> Self:
        """A copy whose message ends with ``note`` (what the caller must also know, such as more ids)."""
        message = f"{self.message}{note}"
        return self._copy(message=message, args=(message,))

    def _copy(self, *, args: tuple[object, ...] | None = None, **fields: object) -> Self:
        twin = type(self).__new__(type(self), *(self.args if args is None else args))
        twin.__dict__.update(self.__dict__, **fields)
        return twin


# -- the request ------------------------------------------------------------------------------------------


class InvalidRequestError(DomainError):
    """400; ``code`` is one of the contract's invalid_request_error codes (invalid_value by default)."""

    code = "invalid_value"


class ModelUnavailableError(InvalidRequestError):
    """A public model id Jimeng retired (its ret 2061), refused before any upstream call."""

    code = "model_unavailable"


class IdempotencyKeyReusedError(InvalidRequestError):
    """The key names an earlier request with a different body: replaying it would answer the wrong question."""

    code = "idempotency_key_reused"


class InvalidJsonError(InvalidRequestError):
    code = "invalid_json"


class TooManySessionsError(InvalidRequestError):
    """More session ids in one Authorization than the service asks Jimeng about for one request."""

    code = "too_many_sessions"


class ImageTooLargeError(InvalidRequestError):
    """413: one input image over its limit (the contract's 413, not a 400)."""

    code = "request_too_large"


class RequestTooLargeError(InvalidRequestError):
    code = "request_too_large"


class RequestTimeoutError(InvalidRequestError):
    """408: the body arrived too slowly (its deadline or its floor rate); the connection is closed."""

    code = "request_timeout"


class UnsupportedMediaTypeError(InvalidRequestError):
    code = "unsupported_media_type"


class AuthenticationError(DomainError):
    code = "missing_session"


class MissingSessionError(AuthenticationError):
    code = "missing_session"


class InvalidApiKeyError(AuthenticationError):
    code = "invalid_api_key"


class NotFoundError(DomainError):
    """404 for a task id the account does not know (or a model or route that does not exist)."""

    code = "not_found"


class ClientGoneError(DomainError):
    """The client hung up while its generation ran; nobody is left to answer (logged as 499)."""

    code = "client_closed_request"


class GenerationTimeoutError(DomainError):
    code = "generation_timeout"


class StateUnavailableError(DomainError):
    """The shared store is down: a request with an Idempotency-Key is refused rather than risk paying twice."""

    code = "state_unavailable"


class ServiceRestartingError(DomainError):
    """The worker is shutting down (a deploy, a restart) before the generation ended. With a history id the
    generation runs on at Jimeng and ``GET /v1/tasks/{history_id}`` fetches it; without one nothing was
    submitted and the same request may be sent again."""

    code = "service_restarting"


# -- the upstream ----------------------------------------------------------------------------------------


class JimengError(DomainError):
    """Base of everything Jimeng said, or failed to say; ``ret`` is its envelope code when it said it."""

    code = "upstream_error"
    ret: str | None = None


class SessionExpiredError(JimengError):
    code = "session_expired"


class InsufficientCreditsError(JimengError):
    code = "insufficient_credits"
    available: int | None = None
    needed: int | None = None


class ContentFilteredError(JimengError):
    code = "content_filtered"


class InvalidPromptError(JimengError):
    code = "invalid_prompt"


class UpstreamModelUnavailableError(JimengError):
    """Jimeng refused the model itself (retired or switched off): the model tables are refreshed."""

    code = "model_unavailable"


class PermissionRefusedError(JimengError):
    code = "permission_denied"


class ModelNotPermittedError(PermissionRefusedError):
    code = "model_not_permitted"


class AccountRestrictedError(PermissionRefusedError):
    code = "account_restricted"


class RegionNotAllowedError(PermissionRefusedError):
    code = "region_not_allowed"


class ComplianceRequiredError(PermissionRefusedError):
    code = "compliance_required"


class RiskControlError(PermissionRefusedError):
    code = "risk_control"


class RateLimitedError(JimengError):
    code = "upstream_rate_limited"


class ConcurrencyLimitError(RateLimitedError):
    code = "concurrency_limit"


class DailyLimitError(RateLimitedError):
    code = "daily_limit"


class GenerationFailedError(JimengError):
    code = "generation_failed"
    fail_code: str | None = None


class UpstreamBadRequestError(JimengError):
    code = "upstream_bad_request"


class UpstreamIncompatibleError(JimengError):
    code = "upstream_incompatible"


class UpstreamUnavailableError(JimengError):
    pass


class SubmitOutcomeUnknownError(UpstreamUnavailableError):
    """A submit's answer was lost and no look-up could tell whether it created a generation; ``task_id`` is its
    submit id, by which the generation (if any) can be fetched later."""

    code = "submit_outcome_unknown"
    task_id: str | None = None


# -- errors kept in the shared store ---------------------------------------------------------------------


def _subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _subclasses(child))]


def error_record(err: DomainError) -> dict[str, Any]:
    """A JSON-able record of an error (its class by name and its fields), for another process to restore."""
    fields = {k: v for k, v in err.__dict__.items() if isinstance(v, str | int | float | bool | None)}
    return {"class": type(err).__name__, "fields": fields}


def restore_error(record: dict[str, Any]) -> DomainError:
    """The error an ``error_record`` describes; an unknown class (an older or newer release) restores as the
    nearest thing every client understands, an upstream error."""
    by_name = {cls.__name__: cls for cls in _subclasses(DomainError)}
    cls = by_name.get(str(record.get("class")), JimengError)
    fields = dict(record.get("fields") or {})
    message = str(fields.pop("message", "upstream error"))
    return cls(message, **fields)
