"""What can go wrong upstream, as one exception tree.

    JimengError
     +-- SessionExpiredError        ret 1015: the sessionid is not (or no longer) logged in
     +-- InsufficientCreditsError   ret 5000: the account cannot pay for the draft
     +-- ContentFilteredError       ret 4001, or fail_code 2038 on a finished record
     +-- RateLimitedError           HTTP 429 / throttling that outlived our retries
     +-- InvalidParametersError     ret 4002: Jimeng refused the draft we built
     +-- GenerationFailedError      status 30 (with its fail_code), ret 5001 / 5002
     +-- UpstreamUnavailableError   transport errors, 5xx, malformed answers (after retries)
          +-- SubmitOutcomeUnknownError  a submit's answer was lost and no look-up could tell its fate

Only ``app/errors.py`` turns these into HTTP answers. ``history_id`` is set once Jimeng accepted a draft,
so every later failure can still name the paid generation.
"""

from __future__ import annotations


class JimengError(Exception):
    """Base of everything the upstream said, or failed to say."""

    def __init__(self, message: str, *, ret: str | None = None, history_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.ret = ret
        self.history_id = history_id


class SessionExpiredError(JimengError):
    pass


class InsufficientCreditsError(JimengError):
    def __init__(self, message: str, *, available: int | None = None, needed: int | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.available = available
        self.needed = needed


class ContentFilteredError(JimengError):
    pass


class RateLimitedError(JimengError):
    pass


class InvalidParametersError(JimengError):
    pass


class GenerationFailedError(JimengError):
    def __init__(self, message: str, *, fail_code: str | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.fail_code = fail_code


class UpstreamUnavailableError(JimengError):
    pass


class SubmitOutcomeUnknownError(UpstreamUnavailableError):
    pass


_BY_RET: dict[str, type[JimengError]] = {
    "1015": SessionExpiredError,
    "5000": InsufficientCreditsError,
    "4001": ContentFilteredError,
    "4002": InvalidParametersError,
    "5001": GenerationFailedError,
    "5002": GenerationFailedError,
}

_MESSAGES: dict[type[JimengError], str] = {
    SessionExpiredError: "Jimeng session is not logged in or has expired; sign in again and copy a new sessionid",
    InsufficientCreditsError: "Not enough Jimeng credits for this generation",
    ContentFilteredError: "Jimeng's moderation refused the prompt or an input image",
    InvalidParametersError: "Jimeng refused the request parameters",
    GenerationFailedError: "Jimeng could not generate the result",
}


def error_from_envelope(ret: str, errmsg: str) -> JimengError:
    """Map a non-zero ``ret`` (always compared as a string) to the matching error."""
    ret = str(ret)
    cls = _BY_RET.get(ret, UpstreamUnavailableError)
    base = _MESSAGES.get(cls, "Jimeng answered with an error")
    detail = f" (ret {ret}: {errmsg})" if errmsg else f" (ret {ret})"
    return cls(base + detail, ret=ret)
