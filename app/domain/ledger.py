"""One user intent, one paid generation: Idempotency-Key and the de-duplication of SDK retries.

Every generating request names its intent: the caller (a digest of its credentials), what it asks for (a
digest of the endpoint and the body) and, optionally, the client's ``Idempotency-Key``. Before anything is
submitted the request claims the intent in the shared store (``StateStore``, so every worker and replica sees
the same claims):

- the first claimant owns the intent: it submits, and records the job Jimeng accepted (or releases the claim
  when nothing was submitted, so a later try may run);
- a repeat waits while the owner is still submitting, then resumes the recorded job (follows the same
  generation, waiting or streaming, in its own mode), during the generation and after it ended: the answer
  comes from the generation's record, never from a second submit;
- the same key with another body is a 422 ``idempotency_key_reused``.

Without a key, a request that says it is a retry (the official SDKs send ``x-stainless-retry-count`` >= 1)
resumes the latest request of the same caller with the same body within ``retry_window`` seconds; a request
that does not say so is a new intent (a user may well ask twice for the same picture).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from loguru import logger

from app.domain.errors import (
    ClientGoneError,
    IdempotencyKeyReusedError,
    StateUnavailableError,
    SubmitOutcomeUnknownError,
    error_record,
    restore_error,
)
from app.domain.jobs import Job
from app.domain.store import StateStore, StoreUnavailableError

PENDING = "pending"  # the owner is uploading or submitting
SUBMITTED = "submitted"  # Jimeng accepted the job: repeats follow it
UNKNOWN = "unknown"  # the submit's fate could not be told: repeats get the same answer (with the submit id)
WAIT_STEP = 0.25  # seconds between looks at a claim whose owner is still submitting


@dataclass(frozen=True, kw_only=True)
class Intent:
    """What one request asks for, and who asks: enough to recognise its repeats."""

    scope: str  # digest of the caller's credentials: keys of one caller never meet another's
    fingerprint: str  # digest of the endpoint and the request body
    key: str | None = None  # the client's Idempotency-Key
    retry: bool = False  # the client says this is a retry of an earlier request

    @staticmethod
    def digest(*parts: object) -> str:
        """A stable digest of JSON-able parts (dict keys sorted, so key order does not matter)."""
        text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


@dataclass(frozen=True, kw_only=True)
class LedgerSettings:
    key_ttl: float  # how long an Idempotency-Key is remembered (IDEMPOTENCY_TTL_SECONDS)
    retry_window: float  # how long a request's retries are recognised (RETRY_DEDUP_SECONDS; 0: never)
    pending_ttl: float  # how long a claim may stay unsubmitted before another request may take it over


@dataclass(frozen=True)
class _Claim:
    """A claim this request owns: the store key and the value it wrote (only that value may be replaced)."""

    key: str
    value: str
    ttl: float


class Ledger:
    def __init__(
        self,
        store: StateStore,
        settings: LedgerSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._settings = settings
        self._sleep = sleep
        self._monotonic = monotonic

    def start(
        self,
        intent: Intent,
        sessions: list[str],
        submit: Callable[[], Job],
        *,
        client_gone: Callable[[], bool] | None = None,
    ) -> Job:
        """The job of this intent: the one already recorded for it (no submit), or the one ``submit`` starts."""
        key, ttl = self._place(intent)
        if key is None:
            return submit()
        try:
            claim, record = self._claim(key, ttl, intent, client_gone)
        except StoreUnavailableError as err:
            if intent.key is not None:
                raise StateUnavailableError(
                    "Idempotency-Key cannot be honoured: the service's state store is unavailable; try again",
                    retry_after=5,
                ) from err
            logger.warning("state store unavailable ({}); retries of this request will not be recognised", err)
            return submit()
        if record is not None:
            return self._resume(record, sessions)
        return self._run(claim, submit)

    def check(self, intent: Intent) -> None:
        """Refuse now what ``start`` would refuse (a key reused with another body, an unknown outcome), for a
        stream that must answer such errors as plain HTTP errors before its first byte. One store read."""
        key, _ = self._place(intent)
        if key is None or intent.key is None:
            return
        try:
            raw = self._store.get(key)
        except StoreUnavailableError:
            return  # start() decides
        if raw is not None:
            self._refuse_mismatch(_parse(raw), intent)

    def _refuse_mismatch(self, record: dict[str, Any], intent: Intent) -> None:
        if intent.key is not None and record.get("fingerprint") != intent.fingerprint:
            raise IdempotencyKeyReusedError(
                "This Idempotency-Key was used with a different request body; use a new key for a new request",
                param="Idempotency-Key",
            )
        if record.get("state") == UNKNOWN:
            raise restore_error(record["error"])

    # -- where an intent is kept ------------------------------------------------------------------------

    def _place(self, intent: Intent) -> tuple[str | None, float]:
        """The store key of the intent and how long it is remembered; None when nothing is to be kept."""
        if intent.key is not None:
            key_digest = Intent.digest(intent.key)
            return f"idem:{intent.scope}:{key_digest}", self._settings.key_ttl
        if self._settings.retry_window > 0:
            return f"recent:{intent.scope}:{intent.fingerprint}", self._settings.retry_window
        return None, 0.0

    # -- claiming ---------------------------------------------------------------------------------------

    def _claim(
        self, key: str, ttl: float, intent: Intent, client_gone: Callable[[], bool] | None
    ) -> tuple[_Claim | None, dict[str, Any] | None]:
        """Own the intent (a claim), or find the job recorded for it (a record); waits while another request
        is still submitting it."""
        pending = json.dumps({"state": PENDING, "fingerprint": intent.fingerprint, "owner": uuid.uuid4().hex})
        claim = _Claim(key, pending, self._settings.pending_ttl)
        if intent.key is None and not intent.retry:
            self._store.put(key, pending, claim.ttl)  # a new intent: the latest one is what its retries resume
            return claim, None
        while True:
            if self._store.create(key, pending, claim.ttl):
                return claim, None
            raw = self._store.get(key)
            if raw is None:
                continue  # expired or released between the two calls: try to create it again
            record = _parse(raw)
            self._refuse_mismatch(record, intent)
            if record.get("state") == SUBMITTED:
                return None, record
            if client_gone is not None and client_gone():
                raise ClientGoneError("client left while an earlier request with the same intent was submitting")
            self._sleep(WAIT_STEP)

    # -- owning -----------------------------------------------------------------------------------------

    def _run(self, claim: _Claim | None, submit: Callable[[], Job]) -> Job:
        assert claim is not None
        fingerprint = _parse(claim.value)["fingerprint"]
        try:
            job = submit()
        except SubmitOutcomeUnknownError as err:
            record = {"state": UNKNOWN, "fingerprint": fingerprint, "error": error_record(err)}
            self._settle(claim, record)
            raise
        except BaseException:
            self._settle(claim, None)  # nothing was submitted: a later try may run
            raise
        self._settle(claim, {"state": SUBMITTED, "fingerprint": fingerprint, "job": job.to_record()})
        return job

    def _settle(self, claim: _Claim, record: dict[str, Any] | None) -> None:
        """Replace this request's own pending claim (never a claim another request took over since); an
        outcome is remembered for the key's full time from now."""
        ttl = self._settings.key_ttl if claim.key.startswith("idem:") else self._settings.retry_window
        value = json.dumps(record) if record is not None else None
        try:
            if not self._store.swap(claim.key, claim.value, value, ttl):
                logger.info("claim {} was taken over before it settled", claim.key.split(":")[0])
        except StoreUnavailableError as err:
            logger.warning("could not record a claim's outcome in the state store: {}", err)

    # -- resuming ---------------------------------------------------------------------------------------

    @staticmethod
    def _resume(record: dict[str, Any], sessions: list[str]) -> Job:
        job = Job.from_record(record["job"], sessions)
        logger.info("request resumes generation {} of an earlier request with the same intent", job.history_id)
        return job


def _parse(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def is_retry(retry_count: str | None) -> bool:
    """Whether an ``x-stainless-retry-count`` value marks a retry (a number of at least one)."""
    try:
        return retry_count is not None and int(retry_count.strip()) >= 1
    except ValueError:
        return False
