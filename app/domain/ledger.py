"""One user intent, one paid generation: Idempotency-Key and the de-duplication of SDK retries.

Every generating request names its intent: the caller (a digest of its credentials), what it asks for (a
digest of the endpoint and the body) and, optionally, the client's ``Idempotency-Key``. Before its inputs are
fetched and anything is submitted, the request claims the intent in the shared store (``StateStore``, so every
worker and replica sees the same claims):

- the first claimant owns the intent: it submits, and records the job Jimeng accepted (or releases the claim
  when nothing was submitted, so a later try may run);
- a repeat waits while the owner is still submitting, then resumes the recorded job (follows the same
  generation, waiting or streaming, in its own mode), during the generation and after it ended: the answer
  comes from the generation's record, never from a second submit;
- the same key with another body is a 422 ``idempotency_key_reused``.

Without a key, a request that says it is a retry (the official SDKs send ``x-stainless-retry-count`` >= 1)
resumes the latest request of the same caller with the same body within ``retry_window`` seconds; a request
that does not say so is a new intent (a user may well ask twice for the same picture): it claims the intent
only when nobody holds it, and records its job over an earlier one's once submitted, never removing it before.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

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


Deferred = TypeVar("Deferred")  # what a start answers instead of a job when it goes on after the answer


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


class Claim:
    """A request's hold on its intent: ``job`` when the intent already has one (resume it, submit nothing);
    else ``submit`` runs the one submit and records its job for the repeats. A claim that ends without a
    submit must be released (``release``, or leaving its ``with`` block), so a later try may run."""

    def __init__(
        self,
        ledger: Ledger,
        key: str | None = None,
        *,
        fingerprint: str = "",
        pending: str | None = None,
        job: Job | None = None,
        queued: str | None = None,
    ) -> None:
        self.job = job
        self.queued = queued  # an earlier async request's task, still waiting for a slot: answer with it
        self._ledger = ledger
        self._key = key
        self._fingerprint = fingerprint
        self._pending = pending  # the value this request wrote; only that value may be replaced
        self._settled = job is not None or queued is not None

    def submit(self, start: Callable[[], Job | Deferred]) -> Job | Deferred:
        """The intent's job: the one resumed, or the one ``start`` submits (once), recorded for its repeats.
        A start that answers with something else than a job (a deferred start's task, ``app/domain/deferred.py``)
        has taken the claim over (``defer``): it is returned as it is."""
        if self.job is not None:
            return self.job
        try:
            job = start()
        except SubmitOutcomeUnknownError as err:
            self._settle({"state": UNKNOWN, "error": error_record(err)})
            raise
        except BaseException:
            self.release()
            raise
        if not isinstance(job, Job):
            return job
        self._settle({"state": SUBMITTED, "job": job.to_record()})
        self.job = job
        return job

    def release(self) -> None:
        """Nothing was submitted: forget this request's claim (never a claim another request holds)."""
        if not self._settled:
            self._settle(None)

    def defer(self, task_id: str) -> None:
        """The request answers 202 with task ``task_id`` while its start waits for a slot in the background: the
        claim stays pending, naming the task (an async repeat answers with it), until ``conclude``."""
        self._settled = True  # leaving the request's ``with`` block keeps the claim
        if self._key is None or self._pending is None:
            return
        value = json.dumps({**json.loads(self._pending), "task": task_id})
        try:
            if self._ledger._store.swap(self._key, self._pending, value, self._ledger._settings.pending_ttl):
                self._pending = value
        except StoreUnavailableError as err:
            logger.warning("could not note a queued task in its claim: {}", err)

    def renew(self) -> None:
        """A deferred start still waits: keep its pending claim from running out (another request would take
        it over and submit the same intent)."""
        if self._key is not None and self._pending is not None:
            self._ledger._store.swap(self._key, self._pending, self._pending, self._ledger._settings.pending_ttl)

    def conclude(self, job: Job | None) -> None:
        """A deferred start ended: its job is recorded for the repeats, or (None: nothing was submitted) the
        claim is released so a later try may run."""
        if self._key is not None:
            value = None if job is None else json.dumps({"state": SUBMITTED, "job": job.to_record(),
                                                         "fingerprint": self._fingerprint})  # fmt: skip
            self._ledger._settle(self._key, self._pending, value)

    @contextmanager
    def releasing_on_error(self) -> Iterator[None]:
        """Release the claim when the block raises (a request refused while it was being prepared)."""
        try:
            yield
        except BaseException:
            self.release()
            raise

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def _settle(self, record: dict[str, Any] | None) -> None:
        self._settled = True
        if self._key is not None:
            value = None if record is None else json.dumps({**record, "fingerprint": self._fingerprint})
            self._ledger._settle(self._key, self._pending, value)


class Ledger:
    def __init__(
        self,
        store: StateStore,
        settings: LedgerSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._store = store
        self._settings = settings
        self._sleep = sleep

    def start(
        self,
        intent: Intent,
        sessions: list[str],
        submit: Callable[[], Job],
        *,
        client_gone: Callable[[], bool] | None = None,
    ) -> Job:
        """The job of this intent: the one already recorded for it (``submit`` is not called), or the one
        ``submit`` starts, claimed before it runs (so ``submit`` may fetch inputs: a repeat waits for it)."""
        with self.claim(intent, sessions, client_gone=client_gone) as claim:
            return claim.submit(submit)

    def claim(
        self,
        intent: Intent,
        sessions: list[str],
        *,
        client_gone: Callable[[], bool] | None = None,
        run_async: bool = False,
    ) -> Claim:
        """Hold this intent before anything is prepared or submitted: a repeat then waits for the owner instead
        of racing it (an async repeat of a request whose start waits for a slot gets its task at once:
        ``Claim.queued``). Raises what the intent's record refuses (a key reused with another body: 422; an
        unknown outcome: the same 502 again)."""
        key = self._key_of(intent)
        if key is None:
            return Claim(self)
        try:
            return self._claim(key, intent, sessions, client_gone, run_async)
        except StoreUnavailableError as err:
            if intent.key is not None:
                raise StateUnavailableError(
                    "Idempotency-Key cannot be honoured: the service's state store is unavailable; try again",
                    retry_after=5,
                ) from err
            logger.warning("state store unavailable ({}); retries of this request will not be recognised", err)
            return Claim(self)

    def _key_of(self, intent: Intent) -> str | None:
        """The store key of the intent; None when nothing is to be kept."""
        if intent.key is not None:
            return f"idem:{intent.scope}:{Intent.digest(intent.key)}"
        if self._settings.retry_window > 0:
            return f"recent:{intent.scope}:{intent.fingerprint}"
        return None

    def _claim(
        self,
        key: str,
        intent: Intent,
        sessions: list[str],
        client_gone: Callable[[], bool] | None,
        run_async: bool,
    ) -> Claim:
        pending = json.dumps({"state": PENDING, "fingerprint": intent.fingerprint, "owner": uuid.uuid4().hex})
        while True:
            if self._store.create(key, pending, self._settings.pending_ttl):
                return Claim(self, key, fingerprint=intent.fingerprint, pending=pending)
            raw = self._store.get(key)
            if raw is None:
                continue  # expired or released between the two calls: try to create it again
            if intent.key is None and not intent.retry:
                # a new intent with the body of an earlier one: it holds nothing now and records its job over
                # the earlier one's once submitted (the latest request is what retries resume)
                return Claim(self, key, fingerprint=intent.fingerprint)
            record = _parse(raw)
            self._refuse_mismatch(record, intent)
            if record.get("state") == SUBMITTED:
                job = Job.from_record(record["job"], sessions)
                logger.info("request resumes generation {} of an earlier request with its intent", job.history_id)
                return Claim(self, key, job=job)
            if run_async and record.get("state") == PENDING and isinstance(record.get("task"), str):
                logger.info("async request answers with task {} of an earlier request", record["task"])
                return Claim(self, key, queued=record["task"])
            if client_gone is not None and client_gone():
                raise ClientGoneError("client left while an earlier request with the same intent was submitting")
            self._sleep(WAIT_STEP)

    @staticmethod
    def _refuse_mismatch(record: dict[str, Any], intent: Intent) -> None:
        if intent.key is not None and record.get("fingerprint") != intent.fingerprint:
            raise IdempotencyKeyReusedError(
                "This Idempotency-Key was used with a different request body; use a new key for a new request",
                param="Idempotency-Key",
            )
        if record.get("state") == UNKNOWN:
            raise restore_error(record["error"])

    def _settle(self, key: str, pending: str | None, value: str | None) -> None:
        """Replace the pending claim ``pending`` of ``key`` by ``value`` (None: delete it), never a claim another
        request took over since; a request that held no claim records its outcome over what is there (and
        removes nothing). An outcome is remembered for the key's whole time from now."""
        ttl = self._settings.key_ttl if key.startswith("idem:") else self._settings.retry_window
        try:
            if pending is None:
                if value is not None:
                    self._store.put(key, value, ttl)
                return
            if not self._store.swap(key, pending, value, ttl):
                logger.info("claim {} was taken over before it settled", key.split(":")[0])
        except StoreUnavailableError as err:
            logger.warning("could not record a claim's outcome in the state store: {}", err)


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
