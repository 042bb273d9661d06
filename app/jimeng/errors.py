"""Jimeng's refusals in the domain's error vocabulary: the ``ret`` code of an envelope to its error class.

The classes themselves live in ``app/domain/errors.py``; this module owns only the upstream's codes.
"""

from __future__ import annotations

from app.domain.errors import (
    ContentFilteredError,
    GenerationFailedError,
    InsufficientCreditsError,
    InvalidParametersError,
    JimengError,
    SessionExpiredError,
    UpstreamUnavailableError,
)

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
