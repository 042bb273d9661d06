"""HTTP plumbing of the upstream client: one pooled ``requests.Session`` per worker, and the retry rules.

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
    """A call whose answer was lost or unusable; ``maybe_processed`` when the upstream may have acted on it."""

    def __init__(self, reason: str, *, status: int | None = None, maybe_processed: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.maybe_processed = maybe_processed

    def final(self) -> JimengError:
        if self.status == 429:
            return RateLimitedError(f"Jimeng is throttling requests ({self.reason})")
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


def send(session: requests.Session, method: str, url: str, *, timeout: tuple[float, float], **kw: Any) -> Any:
    """One HTTP exchange -> parsed JSON; TransientError for anything that is not a usable JSON answer."""
    try:
        response = session.request(method, url, timeout=timeout, **kw)
        with response:
            content = response.content
    except requests.exceptions.ConnectTimeout as err:
        raise TransientError(f"connect timeout ({type(err).__name__})", maybe_processed=False) from err
    except requests.exceptions.ConnectionError as err:
        never_sent = _is_connect_failure(err)
        raise TransientError(f"connection error ({_short(err)})", maybe_processed=not never_sent) from err
    except requests.exceptions.RequestException as err:  # read timeout, chunked encoding, decoding
        raise TransientError(f"{type(err).__name__}") from err
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientError(f"HTTP {response.status_code}", status=response.status_code)
    try:
        return json.loads(content)
    except ValueError as err:
        raise TransientError(f"malformed JSON (HTTP {response.status_code}, {len(content)} bytes)") from err


def with_retries(
    call: Callable[[], T],
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
            return call()
        except TransientError as err:
            if attempt == attempts - 1:
                raise err.final() from err
            sleep(backoff.delay(attempt, err.status, rng))
    raise AssertionError("unreachable")


def _is_connect_failure(err: requests.exceptions.ConnectionError) -> bool:
    text = repr(err)
    return any(marker in text for marker in ("NewConnectionError", "Connection refused", "Failed to resolve"))


def _short(err: Exception) -> str:
    text = str(err)
    return text if len(text) <= 160 else text[:157] + "..."
