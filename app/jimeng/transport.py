"""HTTP plumbing of the upstream client: one pooled ``requests.Session`` per worker, which answers count as
lost (``call``: the one exchange of ``app.http`` seen from the upstream's side), and the retry rules.

The session keeps connections, never cookies: every call carries its own account's ``Cookie`` header, so a
jar shared by concurrent jobs of different users must stay empty. Retries are ours, not urllib3's, because
what is safe to retry depends on the call (a poll is; a submit is not) and on more than the status (a 200 with
a truncated JSON body is as lost as a 502).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from app.domain.errors import JimengError, RateLimitedError, UpstreamUnavailableError
from app.http import Reply, WireError, exchange
from app.jimeng.errors import RATE_LIMIT_RETRY_SECONDS

T = TypeVar("T")
POOL_SIZE = 256  # connections kept per host; bursts above it open short-lived extra connections
READ_ATTEMPTS = 4


class _RejectAllCookies(DefaultCookiePolicy):
    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False


def new_http_session() -> requests.Session:
    session = requests.Session()
    session.cookies.set_policy(_RejectAllCookies())
    adapter = HTTPAdapter(pool_connections=8, pool_maxsize=POOL_SIZE, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class TransientError(Exception):
    """A call whose answer was lost or unusable; ``maybe_processed`` when the upstream may have acted on it
    (false only when no connection was made or the answer was a 429, a throttle's refusal: a submit then
    cannot have created a generation). A 5xx may come from a gateway after the service behind it acted."""

    def __init__(
        self, reason: str, *, status: int | None = None, maybe_processed: bool = True, answered: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.answered = answered or status is not None  # an answer came at once (a status, a refusing envelope)
        self.maybe_processed = maybe_processed

    def final(self) -> JimengError:
        if self.status == 429:
            return RateLimitedError(
                f"Jimeng is throttling requests ({self.reason})", retry_after=RATE_LIMIT_RETRY_SECONDS
            )
        return UpstreamUnavailableError(f"Jimeng did not answer usably: {self.reason}")


@dataclass(frozen=True)
class Backoff:
    base: float = 0.25
    cap: float = 2.0
    throttled_base: float = 1.0

    def delay(self, attempt: int, status: int | None, rng: random.Random) -> float:
        """Full jitter (a random delay up to the exponential bound) so retries of many jobs spread out."""
        base = self.throttled_base if status == 429 else self.base
        return rng.uniform(0, min(self.cap * (4 if status == 429 else 1), base * 2**attempt))


def call(session: requests.Session, method: str, url: str, *, prefix: str = "", **kw: Any) -> Reply:
    """One upstream exchange (``app.http.exchange``); a lost answer, 429 or 5xx as TransientError.

    ``prefix`` starts every reason ("ImageX upload: "). BodyTooLargeError passes through: what a cap means is
    the caller's to say.
    """
    try:
        reply = exchange(session.request, method, url, **kw)
    except WireError as err:
        raise TransientError(prefix + err.reason, maybe_processed=err.sent) from err
    if reply.status == 429 or reply.status >= 500:
        raise TransientError(f"{prefix}HTTP {reply.status}", status=reply.status, maybe_processed=reply.status != 429)
    return reply


def call_json(session: requests.Session, method: str, url: str, **kw: Any) -> Any:
    """One upstream exchange -> parsed JSON; TransientError for anything that is not a usable JSON answer."""
    reply = call(session, method, url, **kw)
    try:
        return json.loads(reply.body)
    except ValueError as err:
        raise TransientError(f"malformed JSON (HTTP {reply.status}, {len(reply.body)} bytes)") from err


def with_retries(
    operation: Callable[[], T],
    *,
    attempts: int = READ_ATTEMPTS,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """Run an idempotent call, retrying transient failures with jittered exponential backoff."""
    rng = rng or random.Random()
    for attempt in range(attempts):
        try:
            return operation()
        except TransientError as err:
            if attempt == attempts - 1:
                raise err.final() from err
            sleep(backoff.delay(attempt, err.status, rng))
    raise AssertionError("unreachable")
