"""The ledger's rules: one intent, one submit (keys, SDK retries, releases, unknown outcomes, races)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.domain.errors import (
    ClientGoneError,
    IdempotencyKeyReusedError,
    InsufficientCreditsError,
    NotFoundError,
    StateUnavailableError,
    SubmitOutcomeUnknownError,
)
from app.domain.jobs import Job, Part
from app.domain.ledger import Intent, Ledger, LedgerSettings, is_retry
from app.domain.models import GenerationKind, ResponseFormat
from app.domain.store import StateStore, StoreUnavailableError
from app.state.sqlite import SqliteStore

SETTINGS = LedgerSettings(key_ttl=60.0, retry_window=60.0, pending_ttl=5.0)
SESSIONS = ["session-aaaaaaaaaaaa", "session-bbbbbbbbbbbb"]


@pytest.fixture
def store() -> Iterator[StateStore]:
    store = SqliteStore(":memory:")
    yield store
    store.close()


class Submits:
    """A submit that counts its calls and makes a new job each time."""

    def __init__(self, delay: float = 0.0, error: Exception | None = None) -> None:
        self.calls = 0
        self.delay = delay
        self.error = error
        self._lock = threading.Lock()

    def __call__(self) -> Job:
        with self._lock:
            self.calls += 1
            number = self.calls
        time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return job(f"h{number}", session_id=SESSIONS[1])


def job(history_id: str, *, session_id: str = SESSIONS[0]) -> Job:
    return Job(
        parts=(Part(history_id=history_id, submit_id=f"s-{history_id}", count=4, forecast_seconds=7.5),),
        session_id=session_id, kind=GenerationKind.IMAGE, model="jimeng-4.5", prompt="a cat", created=1700000000,
        response_format=ResponseFormat.URL, input_images=0,
        refused=(InsufficientCreditsError("part 2 refused", ret="1006"),),
    )  # fmt: skip


def intent(*, key: str | None = None, retry: bool = False, body: str = "a cat", scope: str = "caller") -> Intent:
    return Intent(
        scope=scope, fingerprint=Intent.digest("/v1/images/generations", {"prompt": body}), key=key, retry=retry
    )


def test_a_job_survives_the_round_trip_through_the_store_without_its_session_id() -> None:
    original = job("h1", session_id=SESSIONS[1])
    record = original.to_record()
    assert SESSIONS[1] not in str(record)
    restored = Job.from_record(record, SESSIONS)
    assert restored.parts == original.parts and restored.session_id == SESSIONS[1]
    assert type(restored.refused[0]) is InsufficientCreditsError and restored.refused[0].ret == "1006"
    with pytest.raises(NotFoundError) as caught:
        Job.from_record(record, [SESSIONS[0]])
    assert caught.value.history_id == "h1"


def test_an_sdk_retry_resumes_the_generation_of_the_request_it_retries(store: StateStore) -> None:
    ledger, submit = Ledger(store, SETTINGS), Submits()
    first = ledger.start(intent(), SESSIONS, submit)
    again = ledger.start(intent(retry=True), SESSIONS, submit)
    assert submit.calls == 1 and again.history_id == first.history_id == "h1"
    assert again.session_id == SESSIONS[1] and again.parts == first.parts


def test_a_request_not_marked_as_a_retry_is_a_new_intent_even_with_the_same_body(store: StateStore) -> None:
    ledger, submit = Ledger(store, SETTINGS), Submits()
    ledger.start(intent(), SESSIONS, submit)
    second = ledger.start(intent(), SESSIONS, submit)
    assert submit.calls == 2
    assert ledger.start(intent(retry=True), SESSIONS, submit).history_id == second.history_id == "h2"


def test_retries_of_other_callers_or_other_bodies_do_not_meet(store: StateStore) -> None:
    ledger, submit = Ledger(store, SETTINGS), Submits()
    ledger.start(intent(), SESSIONS, submit)
    ledger.start(intent(retry=True, scope="someone else"), SESSIONS, submit)
    ledger.start(intent(retry=True, body="a dog"), SESSIONS, submit)
    assert submit.calls == 3


def test_retry_dedup_can_be_switched_off(store: StateStore) -> None:
    ledger, submit = Ledger(store, LedgerSettings(key_ttl=60, retry_window=0, pending_ttl=5)), Submits()
    ledger.start(intent(), SESSIONS, submit)
    ledger.start(intent(retry=True), SESSIONS, submit)
    assert submit.calls == 2
    ledger.start(intent(key="k"), SESSIONS, submit)
    ledger.start(intent(key="k"), SESSIONS, submit)
    assert submit.calls == 3  # keys still hold


def test_an_idempotency_key_replays_its_job_and_refuses_another_body(store: StateStore) -> None:
    ledger, submit = Ledger(store, SETTINGS), Submits()
    first = ledger.start(intent(key="k1"), SESSIONS, submit)
    assert ledger.start(intent(key="k1"), SESSIONS, submit).history_id == first.history_id
    assert ledger.start(intent(key="k1", retry=True), SESSIONS, submit).history_id == first.history_id
    with pytest.raises(IdempotencyKeyReusedError) as caught:
        ledger.start(intent(key="k1", body="a dog"), SESSIONS, submit)
    assert caught.value.code == "idempotency_key_reused" and caught.value.param == "Idempotency-Key"
    assert ledger.start(intent(key="k1", scope="another caller"), SESSIONS, submit).history_id == "h2"
    assert submit.calls == 2


def test_nothing_submitted_releases_the_claim_so_a_later_try_runs(store: StateStore) -> None:
    ledger = Ledger(store, SETTINGS)
    refused = Submits(error=InsufficientCreditsError("no credits"))
    with pytest.raises(InsufficientCreditsError):
        ledger.start(intent(key="k"), SESSIONS, refused)
    submit = Submits()
    assert ledger.start(intent(key="k"), SESSIONS, submit).history_id == "h1" and submit.calls == 1


def test_an_unknown_outcome_is_answered_again_never_submitted_again(store: StateStore) -> None:
    ledger = Ledger(store, SETTINGS)
    lost = SubmitOutcomeUnknownError("Jimeng did not say", task_id="submit-123")
    with pytest.raises(SubmitOutcomeUnknownError):
        ledger.start(intent(key="k"), SESSIONS, Submits(error=lost))
    submit = Submits()
    with pytest.raises(SubmitOutcomeUnknownError) as caught:
        ledger.start(intent(key="k"), SESSIONS, submit)
    assert submit.calls == 0 and caught.value.task_id == "submit-123"


def test_twenty_concurrent_requests_with_one_key_make_one_submit(store: StateStore) -> None:
    ledger, submit = Ledger(store, SETTINGS), Submits(delay=0.3)
    with ThreadPoolExecutor(20) as pool:
        jobs = list(pool.map(lambda _: ledger.start(intent(key="same"), SESSIONS, submit), range(20)))
    assert submit.calls == 1 and {j.history_id for j in jobs} == {"h1"}


def test_a_repeat_waiting_for_the_owner_stops_when_its_client_left(store: StateStore) -> None:
    ledger, slow = Ledger(store, SETTINGS), Submits(delay=0.5)
    owner = threading.Thread(target=ledger.start, args=(intent(key="k"), SESSIONS, slow))
    owner.start()
    time.sleep(0.05)
    with pytest.raises(ClientGoneError):
        ledger.start(intent(key="k"), SESSIONS, Submits(), client_gone=lambda: True)
    owner.join()
    assert slow.calls == 1


def test_a_claim_whose_owner_vanished_is_taken_over_after_its_lease(store: StateStore) -> None:
    ledger = Ledger(store, LedgerSettings(key_ttl=60, retry_window=60, pending_ttl=0.3))
    store.put(
        "idem:caller:" + Intent.digest("k"), json.dumps({"state": "pending", "fingerprint": intent().fingerprint}), 0.3
    )
    submit = Submits()
    assert ledger.start(intent(key="k"), SESSIONS, submit).history_id == "h1" and submit.calls == 1


class BrokenStore(SqliteStore):
    def create(self, key: str, value: str, ttl: float) -> bool:
        raise StoreUnavailableError("down")

    def put(self, key: str, value: str, ttl: float) -> None:
        raise StoreUnavailableError("down")


def test_without_the_store_a_key_is_refused_and_a_plain_request_still_runs() -> None:
    ledger, submit = Ledger(BrokenStore(":memory:"), SETTINGS), Submits()
    with pytest.raises(StateUnavailableError) as caught:
        ledger.start(intent(key="k"), SESSIONS, submit)
    assert caught.value.retry_after and submit.calls == 0
    assert ledger.start(intent(), SESSIONS, submit).history_id == "h1"


@pytest.mark.parametrize(("raw", "retry"), [(None, False), ("0", False), ("1", True), (" 2 ", True), ("x", False)])
def test_the_sdk_retry_header(raw: str | None, retry: bool) -> None:
    assert is_retry(raw) is retry


def test_a_new_intent_refused_before_its_submit_leaves_the_earlier_record_alone(store: StateStore) -> None:
    """Two identical requests, the second refused (say, the account's concurrency cap): the first one's SDK
    retry still finds the first generation."""
    ledger, submit = Ledger(store, SETTINGS), Submits()
    ledger.start(intent(), SESSIONS, submit)
    with pytest.raises(InsufficientCreditsError):
        ledger.start(intent(), SESSIONS, Submits(error=InsufficientCreditsError("busy")))
    assert ledger.start(intent(retry=True), SESSIONS, submit).history_id == "h1" and submit.calls == 1


def test_a_claim_is_held_while_the_request_is_prepared_and_released_if_it_never_submits(store: StateStore) -> None:
    ledger = Ledger(store, SETTINGS)
    claim = ledger.claim(intent(key="k"), SESSIONS)
    assert claim.job is None
    waiting = ThreadPoolExecutor(1).submit(ledger.start, intent(key="k"), SESSIONS, Submits())
    time.sleep(0.3)
    assert not waiting.done()  # the repeat waits for the owner, even before the owner submits
    claim.release()  # the owner's client left while its inputs were fetched: nothing was submitted
    assert waiting.result(timeout=5).history_id == "h1"  # the repeat submits, once
