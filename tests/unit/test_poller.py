"""The poller with a fake clock and a fake history source: batching, intervals, deadline, cancel."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from app.domain.errors import SessionExpiredError, UpstreamUnavailableError
from app.domain.models import Phase, Snapshot
from app.domain.poller import Poller, PollOutcome
from app.domain.schedule import DurationEstimator, Estimate, PollTiming, combine, next_delay

TIMING = PollTiming(first_image=4.0, first_video=15.0, min_interval=0.4, max_interval=10.0, stall_seconds=60.0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeSource:
    """Generations that finish at given times; records every call."""

    clock: FakeClock
    ready_at: dict[str, float] = field(default_factory=dict)
    fail: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    error: Exception | None = None

    def histories(self, session_id: str, history_ids: list[str]) -> dict[str, Snapshot]:
        self.calls.append((session_id, tuple(history_ids)))
        if self.error is not None:
            raise self.error
        return {hid: self._snapshot(hid) for hid in history_ids if hid in self.ready_at}

    def _snapshot(self, hid: str) -> Snapshot:
        done = self.clock.now >= self.ready_at[hid]
        if done and hid in self.fail:
            return Snapshot(history_id=hid, phase=Phase.FAILED, status=30, fail_code=self.fail[hid])
        if done:
            return Snapshot(
                history_id=hid,
                phase=Phase.SUCCEEDED,
                status=50,
                finished=4,
                total=4,
                image_urls=("u1", "u2", "u3", "u4"),
            )
        return Snapshot(history_id=hid, phase=Phase.QUEUED, status=20, total=4)


def make(clock: FakeClock, source: FakeSource) -> Poller:
    return Poller(source, TIMING, clock=clock, autostart=False)


def run_until_quiet(poller: Poller, clock: FakeClock, limit: float = 3600.0) -> None:
    """Advance the fake clock from due time to due time, polling, until no job is left."""
    while (due := poller.next_due()) is not None and clock.now < 1000.0 + limit:
        clock.now = max(clock.now, due)
        poller.poll_due()


@pytest.mark.parametrize(
    ("elapsed", "expected_duration", "spread", "delay"),
    [
        (0.0, 8.0, 0.0, 6.0),  # first look three quarters of the way
        (6.0, 8.0, 0.0, 1.5),  # then three quarters of the remaining way
        (7.5, 8.0, 0.0, 0.4),  # never shorter than the minimum
        (0.0, 120.0, 0.0, 10.0),  # never longer than the maximum
        (8.3, 8.0, 0.0, 0.4),  # just late: the minimum
        (11.0, 8.0, 0.0, 1.5),  # late: half the lateness
        (99.0, 8.0, 0.0, 10.0),  # up to the maximum
        (0.0, 30.0, 4.0, 10.0),  # an uncertain estimate: approach the start of its band
        (24.0, 30.0, 4.0, 1.5),
        (27.0, 30.0, 4.0, 0.4),  # inside the band: the minimum
        (33.9, 30.0, 4.0, 0.4),
        (38.0, 30.0, 4.0, 2.0),  # late past the band: half the lateness past it
        (5.0, 7.5, 7.5, 0.75),  # a very wide band (a first look that already found it done): 1/10 of it
    ],
)
def test_next_delay_table(elapsed: float, expected_duration: float, spread: float, delay: float) -> None:
    assert next_delay(elapsed, Estimate(expected_duration, spread), TIMING) == pytest.approx(delay)


def test_an_8s_generation_takes_few_polls_and_is_seen_soon_after_ready() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 1008.0})
    poller = make(clock, source)
    watch = poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600)
    run_until_quiet(poller, clock)
    event = watch.next_event(timeout=0)
    while event is not None and not event.terminal:
        event = watch.next_event(timeout=0)
    assert event is not None and event.outcome == "succeeded"
    assert len(source.calls) <= 9  # a cold start: nothing learned about this model yet
    assert clock.now - 1008.0 <= 0.4 + 1e-9


def test_no_poll_before_the_first_estimate() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 1008.0})
    poller = make(clock, source)
    poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600)
    assert poller.poll_due() == 0
    assert poller.next_due() == pytest.approx(1000.0 + TIMING.first_image)


def test_the_learned_duration_shapes_later_jobs() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 1030.0})
    poller = make(clock, source)
    poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600)
    run_until_quiet(poller, clock)
    first_calls = len(source.calls)
    learned = poller.estimator.estimate("image", "m")
    assert learned.expected - learned.spread <= 30.0 <= learned.expected + learned.spread
    for name, within in (("h2", 0.5), ("h3", 0.4)):  # h2 covers the wide band h1 taught at spread / 10
        source.calls.clear()
        start = clock.now
        source.ready_at[name] = start + 30.0
        poller.watch("s1", name, poll_id=name, kind="image", model="m", timeout=600)
        run_until_quiet(poller, clock)
        assert clock.now - (start + 30.0) <= within + 1e-9
    assert len(source.calls) < first_calls
    assert len(source.calls) <= 9


def test_jobs_of_one_session_share_a_call_and_sessions_do_not() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"a1": 1008.0, "a2": 1008.0, "b1": 1008.0})
    poller = make(clock, source)
    for session, hid in (("A", "a1"), ("A", "a2"), ("B", "b1")):
        poller.watch(session, hid, poll_id=hid, kind="image", model="m", timeout=600)
    clock.now = 1006.0
    poller.poll_due()
    assert sorted(source.calls) == [("A", ("a1", "a2")), ("B", ("b1",))]


def test_jobs_due_soon_ride_along_and_far_ones_wait() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"early": 1100.0, "soon": 1100.0, "late": 1100.0})
    poller = make(clock, source)
    poller.watch("A", "early", poll_id="early", kind="image", model="m", timeout=600)
    clock.now = 1000.5
    poller.watch("A", "soon", poll_id="soon", kind="image", model="m", timeout=600)
    clock.now = 1003.0
    poller.watch("A", "late", poll_id="late", kind="image", model="m", timeout=600)
    clock.now = 1004.0
    poller.poll_due()
    assert source.calls == [("A", ("early", "soon"))]


def test_deadline_ends_the_job_with_a_timeout_event() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 5000.0})
    poller = make(clock, source)
    watch = poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=20)
    run_until_quiet(poller, clock)
    events = list(iter(lambda: watch.next_event(timeout=0), None))
    assert events[-1].outcome == "timeout"
    assert clock.now == pytest.approx(1020.0)
    assert poller.in_flight == 0


def test_cancelled_job_is_never_polled_again() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 1100.0})
    poller = make(clock, source)
    watch = poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600)
    clock.now = 1006.0
    poller.poll_due()
    watch.cancel()
    run_until_quiet(poller, clock)
    assert len(source.calls) == 1
    assert poller.next_due() is None


def test_transient_poll_errors_never_fail_a_job_before_its_deadline() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 1010.0}, error=UpstreamUnavailableError("HTTP 502"))
    poller = make(clock, source)
    watch = poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600)
    for _ in range(5):
        clock.now = poller.next_due() or clock.now
        poller.poll_due()
    assert watch.next_event(timeout=0) is None
    source.error = None
    run_until_quiet(poller, clock)
    events = list(iter(lambda: watch.next_event(timeout=0), None))
    assert events[-1].outcome == "succeeded"


def test_an_expired_session_during_polling_fails_with_the_history_id() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 1010.0}, error=SessionExpiredError("logged out"))
    poller = make(clock, source)
    watch = poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600)
    run_until_quiet(poller, clock)
    event = watch.next_event(timeout=0)
    assert event is not None and event.outcome == "failed"
    assert isinstance(event.error, SessionExpiredError)
    assert event.error.history_id == "h1"


def test_jobs_failed_by_one_batched_poll_each_get_their_own_history_id() -> None:
    """One error fails a whole batch; no waiter may see another generation's id (another user's, in a pool)."""
    clock = FakeClock()
    shared = SessionExpiredError("logged out")
    source = FakeSource(clock, ready_at={"h1": 1010.0, "h2": 1010.0, "h3": 1010.0}, error=shared)
    poller = make(clock, source)
    watches = [poller.watch("s1", hid, poll_id=hid, kind="image", model="m", timeout=600) for hid in ("h1", "h2", "h3")]
    run_until_quiet(poller, clock)
    assert len(source.calls) == 1  # one batched poll failed all three
    errors = [w.next_event(timeout=0).error for w in watches]  # type: ignore[union-attr]
    assert [e.history_id for e in errors] == ["h1", "h2", "h3"]  # type: ignore[union-attr]
    assert shared.history_id is None


def test_failed_generation_is_a_failed_event_with_its_snapshot() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 1002.0}, fail={"h1": "2038"})
    poller = make(clock, source)
    watch = poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600)
    run_until_quiet(poller, clock)
    events = list(iter(lambda: watch.next_event(timeout=0), None))
    assert events[-1].outcome == "failed"
    assert events[-1].snapshot is not None and events[-1].snapshot.fail_code == "2038"


def test_progress_events_are_sent_only_when_something_changed() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 1030.0})
    poller = make(clock, source)
    watch = poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600)
    run_until_quiet(poller, clock)
    kinds = [event.outcome for event in iter(lambda: watch.next_event(timeout=0), None)]
    assert kinds == ["progress", "succeeded"]


def test_estimator_uses_the_median_of_recent_precise_durations() -> None:
    estimator = DurationEstimator(TIMING, window=5)
    assert estimator.estimate("video", "m") == Estimate(TIMING.first_video / 0.75, 0.0)
    for duration in (8.0, 8.2, 100.0, 7.9, 8.1):
        estimator.record("image", "m", duration - 0.2, duration + 0.2)
    assert estimator.estimate("image", "m").expected == pytest.approx(8.1)


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ([(31.5, 4.7)], Estimate(31.5, 4.7)),  # only an imprecise sample: its whole band
        ([(31.5, 4.7), (30.1, 0.2)], Estimate(30.1, 0.2)),  # a precise sample wins at once
        ([(30.0, 0.2), (30.4, 0.2), (29.0, 0.2)], Estimate(30.0, 0.4)),  # spread of the precise ones
    ],
)
def test_combine_prefers_precise_samples(samples: list[tuple[float, float]], expected: Estimate) -> None:
    result = combine(samples, precise_width=0.8)
    assert result.expected == pytest.approx(expected.expected)
    assert result.spread == pytest.approx(expected.spread)


def test_a_job_after_a_badly_timed_one_is_still_found_promptly() -> None:
    """The first job of a model found 6 s late teaches a wide band; the next one is covered densely."""
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 1030.0})
    poller = make(clock, source)
    poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600)
    run_until_quiet(poller, clock)
    start = clock.now
    source.ready_at["h2"] = start + 30.0
    poller.watch("s1", "h2", poll_id="h2", kind="image", model="m", timeout=600)
    run_until_quiet(poller, clock)
    assert clock.now - (start + 30.0) <= 0.5 + 1e-9  # a tenth of the band h1 taught


@dataclass
class ScriptedSource:
    """Hands out the snapshots of a script, one per poll, repeating the last."""

    script: list[Snapshot]
    calls: int = 0

    def histories(self, session_id: str, submit_ids: list[str]) -> dict[str, Snapshot]:
        snapshot = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        return {submit_ids[0]: snapshot}


def test_a_record_that_must_progress_and_stands_still_fails_after_the_stall_timeout() -> None:
    clock = FakeClock()
    arriving = Snapshot(history_id="h1", phase=Phase.RUNNING, status=45, finished=1, total=4, must_progress=True)
    poller = make(clock, ScriptedSource([arriving]))  # type: ignore[arg-type]
    watch = poller.watch("s1", "h1", poll_id="sub-1", kind="image", model="m", timeout=600)
    run_until_quiet(poller, clock)
    events = list(iter(lambda: watch.next_event(timeout=0), None))
    assert events[-1].outcome == "failed" and events[-1].error is not None
    assert events[-1].error.history_id == "h1" and "no progress" in events[-1].error.message
    assert 1000.0 + TIMING.stall_seconds <= clock.now <= 1000.0 + TIMING.stall_seconds + TIMING.max_interval


def test_a_long_running_record_that_need_not_progress_only_ends_at_its_deadline() -> None:
    clock = FakeClock()
    running = Snapshot(history_id="h1", phase=Phase.RUNNING, status=42, total=1)
    poller = make(clock, ScriptedSource([running]))  # type: ignore[arg-type]
    watch = poller.watch("s1", "h1", poll_id="sub-1", kind="video", model="m", timeout=300)
    run_until_quiet(poller, clock)
    assert [e.outcome for e in iter(lambda: watch.next_event(timeout=0), None)][-1] == "timeout"


def test_jimeng_s_forecast_places_the_first_look_before_anything_is_learned() -> None:
    clock = FakeClock()
    poller = make(clock, FakeSource(clock))
    poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600, forecast=12.0)
    band_start = 12.0 * (1 - 0.25)  # a quarter either side of the forecast
    assert poller.next_due() == pytest.approx(1000.0 + band_start * 0.75)  # not the default first look (4 s)


def test_a_new_queue_position_is_progress() -> None:
    clock = FakeClock()
    queued = [
        Snapshot(history_id="h1", phase=Phase.QUEUED, status=20, queue_position=3, queue_length=9),
        Snapshot(history_id="h1", phase=Phase.QUEUED, status=20, queue_position=2, queue_length=9),
        Snapshot(history_id="h1", phase=Phase.SUCCEEDED, status=50, image_urls=("u",)),
    ]
    poller = make(clock, ScriptedSource(queued))  # type: ignore[arg-type]
    watch = poller.watch("s1", "h1", poll_id="sub-1", kind="image", model="m", timeout=600)
    run_until_quiet(poller, clock)
    events = list(iter(lambda: watch.next_event(timeout=0), None))
    assert [e.snapshot.queue_position for e in events if e.outcome == "progress"] == [3, 2]  # type: ignore[union-attr]


def test_a_resumed_generation_is_looked_at_at_once_and_teaches_nothing() -> None:
    """A repeat (Idempotency-Key, SDK retry) resumes a generation submitted earlier: it may be done already."""
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 995.0})  # finished 5 s ago
    poller = make(clock, source)
    watch = poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600, age=8.0)
    assert poller.poll_due() == 1  # no waiting for a first estimate
    event = watch.next_event(timeout=0)
    assert event is not None and event.outcome is PollOutcome.SUCCEEDED
    assert poller.estimator.estimate("image", "m") == TIMING.default_estimate("image")  # when it ended is unknown


def test_a_resumed_generation_still_running_is_scheduled_from_its_submit() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 1001.0})  # submitted 8 s ago, ready in 1 s
    poller = make(clock, source)
    watch = poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600, age=8.0)
    run_until_quiet(poller, clock)
    event = watch.next_event(timeout=0)
    while event is not None and event.outcome is PollOutcome.PROGRESS:
        event = watch.next_event(timeout=0)
    assert event is not None and event.outcome is PollOutcome.SUCCEEDED
    assert clock.now - 1001.0 <= 1.0  # seen soon after it was ready (a new job's first look is at 4 s)
