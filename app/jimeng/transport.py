"""HTTP plumbing of the upstream client: one pooled ``requests.Session`` per worker, which answers count as
lost (``call``: the one exchange of ``app.http`` seen from the upstream's side), and the retry rules.

The session keeps connections, never cookies: every call carries its own account's ``Cookie`` header, so a
jar shared by concurrent jobs of different users must stay empty. Retries are ours, not urllib3's, because
what is safe to retry depends on the call (a poll is; a submit is not) and on more than the status (a 200 with
a truncated JSON body is as lost as a 502).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import Any, TypeVar
from urllib.parse import urlsplit

import msgspec
import requests
from requests.adapters import HTTPAdapter

from app.domain.errors import JimengError, RateLimitedError, UpstreamUnavailableError
from app.domain.observe import Observer
from app.http import Reply, WireError, exchange
from app.jimeng.errors import RATE_LIMIT_RETRY_SECONDS

Decode = Callable[[bytes], Any]  # an answer's bytes -> its value; ValueError when they are not JSON
T = TypeVar("T")
POOL_SIZE = 256  # connections kept per host; bursts above it open short-lived extra connections
READ_ATTEMPTS = 4


class _RejectAllCookies(DefaultCookiePolicy):
    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False


API_PREFIXES = ("/mweb/", "/commerce/", "/passport/")


def upstream_path(url: str, params: Any = None) -> str:
    """A bounded metrics label for an upstream URL: Jimeng's API paths as they are, ImageX's actions by name
    (``/?Action=ApplyImageUpload``), uploads and result files as one label each (their paths are per file)."""
    path = urlsplit(url).path or "/"
    for api in API_PREFIXES:  # a site may serve them under a prefix of its own
        if (at := path.find(api)) >= 0:
            return path[at : at + 80]
    if path == "/":
        action = dict(params).get("Action") if isinstance(params, list | tuple | dict) else None
        return f"/?Action={action}" if isinstance(action, str) and action.isalnum() else "/"
    if path.startswith("/upload/"):
        return "/upload/*"
    return "result file"


class ObservedSession(requests.Session):
    """A requests session that tells an Observer about every exchange (path label and outcome)."""

    def __init__(self, observer: Observer) -> None:
        super().__init__()
        self.observer = observer

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kw: Any) -> requests.Response:
        path = upstream_path(url if isinstance(url, str) else url.decode("latin-1"), kw.get("params"))
        try:
            response = super().request(method, url, *args, **kw)  # type: ignore[arg-type]
        except requests.RequestException:
            self.observer.upstream_call(path, "error")
            raise
        status = response.status_code
        self.observer.upstream_call(path, "ok" if 200 <= status < 300 else f"http_{status}")
        return response


def new_http_session(observer: Observer | None = None) -> requests.Session:
    """A pooled session that keeps no cookies; with ``observer``, every exchange is reported to it."""
    session = ObservedSession(observer) if observer is not None else requests.Session()
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


def call_json(session: requests.Session, method: str, url: str, *, decode: Decode | None = None, **kw: Any) -> Any:
    """One upstream exchange -> parsed JSON; TransientError for anything that is not a usable JSON answer.

    Parsed by msgspec (the same values as ``json.loads``, strict JSON in UTF-8 only, about twice as fast): a poll
    of 100 generations answers 100 records, and at 1,000 in flight reading them was a quarter of the worker's
    time (issue 17). ``decode`` replaces the plain decoding (polls keep their records raw: ``RecordMemo``); it
    raises ValueError for what is not JSON."""
    reply = call(session, method, url, **kw)
    try:
        return (decode or msgspec.json.decode)(reply.body)
    except ValueError as err:  # msgspec.DecodeError is one
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
