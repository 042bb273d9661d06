"""Jimeng's refusals in the domain's error vocabulary: ``ret`` codes of envelopes and ``fail_code``s of
finished records (the same numbers, protocol section 6) to error classes.

The classes live in ``app/domain/errors.py`` (and their HTTP statuses in ``app/errors.py``); this module owns
only the upstream's numbers, the words we put around them, and how long a client should wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from loguru import logger

from app.domain.days import seconds_to_shanghai_midnight
from app.domain.errors import (
    AccountRestrictedError,
    ComplianceRequiredError,
    ConcurrencyLimitError,
    ContentFilteredError,
    DailyLimitError,
    GenerationFailedError,
    InsufficientCreditsError,
    InvalidPromptError,
    JimengError,
    ModelNotPermittedError,
    RateLimitedError,
    RegionNotAllowedError,
    RiskControlError,
    SessionExpiredError,
    UpstreamBadRequestError,
    UpstreamIncompatibleError,
    UpstreamModelUnavailableError,
    UpstreamUnavailableError,
)

RATE_LIMIT_RETRY_SECONDS = 10.0  # a throttled account: worth another try after a short pause
CONCURRENCY_RETRY_SECONDS = 30.0  # until one of the account's running jobs ends (images take ~10-60 s)
STALE_CONSTANTS = "3018"
TRANSIENT_RETS = frozenset({"2008"})  # "get history failed": the same call again usually works
NO_MODEL_PERMISSION = "1017"  # a fail_code: with ret 3018 it means "this account may not use the model"

_CLASSES: dict[type[JimengError], tuple[str, ...]] = {
    RateLimitedError: ("1", "1057", "2014", "2020", "10020"),
    UpstreamBadRequestError: ("1000", "1001", "1002", "4002", "34010100"),
    InsufficientCreditsError: ("1006", "4001", "5000", "5001"),
    ConcurrencyLimitError: ("1010",),
    UpstreamIncompatibleError: ("1014", "3018", "3021"),
    SessionExpiredError: ("1015",),
    ModelNotPermittedError: ("1017", "4003"),
    AccountRestrictedError: ("1018",),
    RiskControlError: ("1019", "1021", "2035", "4013", "-4", "-6"),
    ContentFilteredError: tuple(
        ["1063", "1159", "2003", "2004", "2005", "2038", "2039", "2041", "2042", "2043", "2047", "2048", "2050", "2052"]
    ),
    InvalidPromptError: ("1161", "1162"),
    GenerationFailedError: ("2002", "5002"),
    UpstreamModelUnavailableError: ("2061",),
    RegionNotAllowedError: ("3000",),
    ComplianceRequiredError: ("4010",),
    DailyLimitError: ("121101",),
}
BY_CODE: dict[str, type[JimengError]] = {code: cls for cls, codes in _CLASSES.items() for code in codes}

_MESSAGES: dict[type[JimengError], str] = {
    RateLimitedError: "Jimeng is throttling this account; try again shortly",
    UpstreamBadRequestError: "Jimeng did not accept the request the service built",
    InsufficientCreditsError: "Not enough Jimeng credits (or the account lacks this model's benefit)",
    ConcurrencyLimitError: "This Jimeng account already runs as many generations as it may; retry when one ends",
    UpstreamIncompatibleError: "Jimeng refused the service's protocol constants; the operator must update "
    "config/upstream.yml",
    SessionExpiredError: "Jimeng session is not logged in or has expired; sign in again and copy a new sessionid",
    ModelNotPermittedError: "This Jimeng account may not use this model",
    AccountRestrictedError: "Jimeng has temporarily barred this account from generating",
    RiskControlError: "Jimeng's risk control refused the request; let the account rest, or use it in the web app once",
    ContentFilteredError: "Jimeng's moderation refused the prompt, an input image or the result",
    InvalidPromptError: "Jimeng refused the prompt's language (e.g. mixed Chinese and English)",
    GenerationFailedError: "Jimeng could not generate the result",
    UpstreamModelUnavailableError: "Jimeng says this model is no longer available; GET /v1/models lists the "
    "current ones",
    RegionNotAllowedError: "Jimeng does not allow this account or region to generate",
    ComplianceRequiredError: "Open the Jimeng/Dreamina web app with this account, confirm the AIGC compliance "
    "notice, then retry",
    DailyLimitError: "This Jimeng account reached its daily generation limit",
}


SHARK_RETS = frozenset({"-4", "-6"})  # Dreamina's anti-bot ("shark") refusals of writes [2026 10.2]
_SHARK_MESSAGE = (
    "Dreamina's anti-bot check refused the request: it accepts generations only with the signatures its web "
    "page's security script adds (X-Bogus, X-Gnarly), which no browser-free client is known to produce; "
    "reads still work, and waiting does not help"
)


def error_from_envelope(
    ret: str, errmsg: str, *, fail_code: str = "", now: Callable[[], float] = time.time
) -> JimengError:
    """The error of a refused call: ``ret`` (compared as a string), refined by the envelope's ``fail_code``."""
    ret = str(ret)
    if ret == STALE_CONSTANTS and str(fail_code) == NO_MODEL_PERMISSION:
        cls: type[JimengError] = ModelNotPermittedError
    else:
        cls = BY_CODE.get(ret, UpstreamUnavailableError)
    if cls is UpstreamIncompatibleError:
        _alert_operator_once(ret, errmsg)
    base = _SHARK_MESSAGE if ret in SHARK_RETS else _MESSAGES.get(cls, "Jimeng answered with an error")
    detail = f" (ret {ret}: {errmsg})" if errmsg else f" (ret {ret})"
    return cls(base + detail, ret=ret, retry_after=retry_after(cls, now()))


# A finished record's fail_code keeps these classes; any other code is a failed generation.
_KEPT_ON_RECORDS = (
    ContentFilteredError, InsufficientCreditsError, ModelNotPermittedError, RiskControlError, AccountRestrictedError,
)  # fmt: skip


def error_from_fail_code(history_id: str, fail_code: str, message: str = "") -> JimengError:
    """The error of a record that finished failed: its ``fail_code`` through the same table as ``ret``
    (moderation, money and permission keep their classes), with Jimeng's own words when it gave some."""
    cls = BY_CODE.get(str(fail_code), GenerationFailedError)
    if not issubclass(cls, _KEPT_ON_RECORDS):
        cls = GenerationFailedError
    why = f"fail code {fail_code}" + (f": {message}" if message else "") if fail_code else message
    what = "Jimeng's moderation refused" if cls is ContentFilteredError else "Jimeng failed"
    return cls(f"{what} generation {history_id}" + (f" ({why})" if why else ""), history_id=history_id,
               fail_code=fail_code or None)  # fmt: skip


def content_refused(history_id: str, stage: str, message: str = "") -> ContentFilteredError:
    """Status 10 (refused before generating) or 40 (the output refused): moderation, whatever the fail_code."""
    why = f"{stage}" + (f": {message}" if message else "")
    return ContentFilteredError(f"Jimeng's moderation refused generation {history_id} ({why})", history_id=history_id)


def retry_after(cls: type[JimengError], now: float) -> float | None:
    """Seconds a client should wait before the same request can succeed; None when waiting does not help."""
    if issubclass(cls, DailyLimitError):
        return seconds_to_shanghai_midnight(now)
    if issubclass(cls, ConcurrencyLimitError):
        return CONCURRENCY_RETRY_SECONDS
    if issubclass(cls, RateLimitedError):
        return RATE_LIMIT_RETRY_SECONDS
    return None


_alerted: set[str] = set()


def _alert_operator_once(ret: str, errmsg: str) -> None:
    """Stale constants fail every request until an operator acts: say so loudly, once per process."""
    if ret not in _alerted:
        _alerted.add(ret)
        logger.error(
            "OPERATOR ALERT: Jimeng answered ret {} ({}): upstream constants are stale: update config/upstream.yml",
            ret,
            errmsg or "no message",
        )
