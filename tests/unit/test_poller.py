"""The poller with a fake clock and a fake history source: the lateness bound for cold, warm and drifted jobs,
calls, batching, the reference policy, deadline, cancel, errors."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import pytest

from app.domain.errors import SessionExpiredError, UpstreamUnavailableError
from app.domain.models import Phase, Snapshot
from app.domain.poller import Poller, PollOutcome, Watch
from app.domain.schedule import JobClass, PollPolicy, PollTiming, Sample, prior_window

TIMING = PollTiming(max_late_image=1.0, max_late_video=2.0, min_interval=0.25, max_interval=10.0, stall_seconds=60)
IMAGE_BOUND = TIMING.tail_spacing("image")  # 0.8 s: a look's round trip is the rest of the 1 s
VIDEO_BOUND = TIMING.tail_spacing("video")
EPSILON = 1e-6


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
    seen_at: dict[str, float] = field(default_factory=dict)

    def histories(self, session_id: str, history_ids: list[str]) -> dict[str, Snapshot]:
        self.calls.append((session_id, tuple(history_ids)))
        if self.error is not None:
            raise self.error
        return {hid: self._snapshot(hid) for hid in history_ids if hid in self.ready_at}

    def _snapshot(self, hid: str) -> Snapshot:
        done = self.clock.now >= self.ready_at[hid]
        if done:
            self.seen_at.setdefault(hid, self.clock.now)
        if done and hid in self.fail:
            return Snapshot(history_id=hid, phase=Phase.FAILED, status=30, fail_code=self.fail[hid])
        if done:
            return Snapshot(history_id=hid, phase=Phase.SUCCEEDED, status=50, finished=4, total=4,
                            image_urls=("u1", "u2", "u3", "u4"))  # fmt: skip
        return Snapshot(history_id=hid, phase=Phase.RUNNING, status=20, total=4)

    def lateness(self, hid: str) -> float:
        return self.seen_at[hid] - self.ready_at[hid]


def make(clock: FakeClock, source: object, timing: PollTiming = TIMING) -> Poller:
    return Poller(source, timing, clock=clock, autostart=False)  # type: ignore[arg-type]


def run_until_quiet(poller: Poller, clock: FakeClock, limit: float = 3600.0) -> None:
    """Advance the fake clock from due time to due time, polling, until no job is left."""
    end = clock.now + limit
    while (due := poller.next_due()) is not None and clock.now < end:
        clock.now = max(clock.now, due)
        poller.poll_due()


def events(watch: Watch) -> list[PollOutcome]:
    return [event.outcome for event in iter(lambda: watch.next_event(timeout=0), None)]


def one_job(
    poller: Poller,
    source: FakeSource,
    clock: FakeClock,
    hid: str,
    seconds: float,
    *,
    forecast: float | None = None,
    kind: str = "image",
    model: str = "m",
) -> tuple[float, int]:
    """One generation of ``seconds`` alone on its session: (lateness, calls)."""
    calls = len(source.calls)
    source.ready_at[hid] = clock.now + seconds
    watch = poller.watch("s1", hid, poll_id=hid, kind=kind, model=model, timeout=3600, forecast=forecast)
    run_until_quiet(poller, clock)
    assert events(watch)[-1] is PollOutcome.SUCCEEDED
    return source.lateness(hid), len(source.calls) - calls


def jittered(seconds: float, rng: random.Random, share: float = 0.15) -> float:
    return seconds * rng.uniform(1 - share, 1 + share)


# -- the bound: cold, warm, drifted ---------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [0.5, 3.0, 8.0, 30.0, 90.0])
@pytest.mark.parametrize("forecast_share", [None, 0.5, 1.0, 2.0])
def test_the_first_job_of_a_fresh_worker_is_seen_within_the_bound(seconds: float, forecast_share: float | None) -> None:
    """Cold: nothing learned; Jimeng's forecast missing, right, or off by 2x either way."""
    clock = FakeClock()
    source = FakeSource(clock)
    poller = make(clock, source)
    forecast = None if forecast_share is None else seconds * forecast_share
    lateness, _ = one_job(poller, source, clock, "h1", seconds, forecast=forecast)
    assert lateness <= IMAGE_BOUND + EPSILON


def test_a_30s_job_after_ten_5s_jobs_is_seen_within_the_bound() -> None:
    """The regime shift of issue 17: the old band poller saw it 9 s late."""
    clock, rng = FakeClock(), random.Random(5)
    source = FakeSource(clock)
    poller = make(clock, source)
    for i in range(10):
        one_job(poller, source, clock, f"five-{i}", 5.0, forecast=jittered(5.0, rng))
    late = [one_job(poller, source, clock, f"thirty-{i}", 30.0, forecast=jittered(30.0, rng))[0] for i in range(10)]
    assert max(late) <= IMAGE_BOUND + EPSILON
    assert sorted(late)[5] <= 0.4  # the median, once the new durations are learned


def test_a_30s_job_after_5s_jobs_without_forecasts_is_still_seen_within_the_bound() -> None:
    clock = FakeClock()
    source = FakeSource(clock)
    poller = make(clock, source)
    for i in range(10):
        one_job(poller, source, clock, f"five-{i}", 5.0)
    lateness, _ = one_job(poller, source, clock, "thirty", 30.0)
    assert lateness <= IMAGE_BOUND + EPSILON


def test_videos_that_run_half_their_forecast_are_seen_within_the_bound_and_learned() -> None:
    clock, rng = FakeClock(), random.Random(7)
    source = FakeSource(clock)
    poller = make(clock, source)
    late = [
        one_job(poller, source, clock, f"v{i}", 20.0, forecast=2 * jittered(20.0, rng), kind="video")[0]
        for i in range(5)
    ]
    assert max(late) <= VIDEO_BOUND + EPSILON
    assert max(late[1:]) <= 0.4  # learned: the forecast's bias is corrected from the second on


@pytest.mark.parametrize("forecast_tracks", [True, False])
def test_lognormal_durations_eight_at_once_are_each_seen_within_the_bound(forecast_tracks: bool) -> None:
    """Durations vary widely (median 20 s, sigma 0.6); the forecast either knows each job's or only the median."""
    clock, rng = FakeClock(), random.Random(11)
    source = FakeSource(clock)
    poller = make(clock, source)
    durations = [20.0 * math.exp(rng.gauss(0.0, 0.6)) for _ in range(40)]
    started, watches = 0, []
    while started < len(durations) or poller.in_flight:
        while poller.in_flight < 8 and started < len(durations):
            hid, seconds = f"h{started}", durations[started]
            source.ready_at[hid] = clock.now + seconds
            forecast = jittered(seconds if forecast_tracks else 20.0, rng)
            watches.append(poller.watch("s1", hid, poll_id=hid, kind="image", model="m", timeout=3600,
                                        forecast=forecast))  # fmt: skip
            started += 1
        due = poller.next_due()
        assert due is not None
        clock.now = max(clock.now, due)
        poller.poll_due()
    late = sorted(source.lateness(f"h{i}") for i in range(len(durations)))
    assert late[-1] <= IMAGE_BOUND + EPSILON
    assert late[len(late) // 2] <= 0.4
    assert len(source.calls) / len(durations) <= 0.5 * (sum(durations) / len(durations))  # once a second: ~D


def test_stationary_8s_jobs_cost_few_calls_each_and_are_seen_soon() -> None:
    clock, rng = FakeClock(), random.Random(3)
    source = FakeSource(clock)
    poller = make(clock, source)
    results = [one_job(poller, source, clock, f"h{i}", 8.0, forecast=jittered(8.0, rng)) for i in range(20)]
    late, calls = [lateness for lateness, _ in results], [count for _, count in results]
    assert max(late) <= IMAGE_BOUND + EPSILON
    assert sorted(late)[10] <= 0.3
    assert sum(calls[1:]) / 19 <= 5  # warm: the reference looks 8 times at an 8 s job
    assert calls[0] <= 12  # the cold first one


def test_a_job_faster_than_everything_learned_resets_its_class() -> None:
    """Jobs suddenly much faster, without a forecast to tell: the first is found at its window's start (late),
    the ones after it are looked at from early on again."""
    clock = FakeClock()
    source = FakeSource(clock)
    poller = make(clock, source)
    for i in range(5):
        one_job(poller, source, clock, f"slow-{i}", 30.0)
    first, _ = one_job(poller, source, clock, "fast-0", 5.0)
    assert first > IMAGE_BOUND  # nothing could tell: the one miss a missing forecast allows
    assert poller.learner.samples(JobClass("image", "m")) == (Sample(0.0, first + 5.0, None),)
    assert all(one_job(poller, source, clock, f"fast-{i}", 5.0)[0] <= IMAGE_BOUND + EPSILON for i in (1, 2, 3))


def test_a_job_seen_still_queued_is_not_looked_at_densely_before_its_generation_could_have_run() -> None:
    clock = FakeClock()
    queued = Snapshot(history_id="h1", phase=Phase.QUEUED, status=0, queue_position=5, forecast_seconds=10.0,
                      forecast_generate_seconds=100.0)  # fmt: skip
    source = ScriptedSource([queued])
    poller = make(clock, source)
    poller.watch("s1", "h1", poll_id="sub-1", kind="image", model="m", timeout=600)  # nothing known: dense
    clock.now = poller.next_due() or 0.0
    poller.poll_due()
    assert poller.next_due() == pytest.approx(clock.now + 10.0)  # at least 30 s of generation still ahead


# -- calls --------------------------------------------------------------------------------------------------


def test_jobs_of_one_session_share_a_call_and_sessions_do_not() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"a1": 1008.0, "a2": 1008.0, "b1": 1008.0})
    poller = make(clock, source)
    for session, hid in (("A", "a1"), ("A", "a2"), ("B", "b1")):
        poller.watch(session, hid, poll_id=hid, kind="image", model="m", timeout=600)
    clock.now = 1000.8
    poller.poll_due()
    assert sorted(source.calls) == [("A", ("a1", "a2")), ("B", ("b1",))]


def test_jobs_due_soon_ride_along_and_far_ones_wait() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"early": 1100.0, "soon": 1100.0, "late": 1100.0})
    poller = make(clock, source)
    poller.watch("A", "early", poll_id="early", kind="image", model="m", timeout=600, forecast=40.0)  # 6 s, 12 s
    clock.now = 1000.5
    poller.watch("A", "soon", poll_id="soon", kind="image", model="m", timeout=600, forecast=40.0)
    clock.now = 1003.0
    poller.watch("A", "late", poll_id="late", kind="image", model="m", timeout=600, forecast=40.0)
    clock.now = 1006.0
    poller.poll_due()
    assert source.calls == [("A", ("early", "soon"))]


def test_a_ride_along_looks_at_a_job_at_most_twice_as_often_as_its_schedule() -> None:
    """A session polled every POLL_MIN_SECONDS for jobs in their core took its other jobs along on every look
    (due within BATCH_AHEAD): 17 looks per generation at 1,000 in flight (issue 17)."""
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"dense": 1030.0, "sparse": 1030.0})
    poller = make(clock, source)
    poller.watch("A", "dense", poll_id="dense", kind="image", model="m", timeout=600)  # nothing known: 0.8 s apart
    poller.watch("A", "sparse", poll_id="sparse", kind="image", model="m", timeout=600)
    poller.poll_due()  # both looked at now, next at 1000.8
    poller._jobs[next(k for k, j in poller._jobs.items() if j.history_id == "dense")].next_poll = 1000.2
    clock.now = 1000.2
    poller.poll_due()
    assert source.calls[-1] == ("A", ("dense",))  # "sparse" is 0.2 s into its 0.8 s: it waits
    poller._jobs[next(k for k, j in poller._jobs.items() if j.history_id == "dense")].next_poll = 1000.5
    clock.now = 1000.5
    poller.poll_due()
    assert source.calls[-1] == ("A", ("dense", "sparse"))  # past half of its spacing: it rides along


def test_many_jobs_of_a_session_in_their_core_are_looked_at_densely_in_one_call() -> None:
    clock = FakeClock()
    source = FakeSource(clock)
    poller = make(clock, source)
    for i in range(50):
        source.ready_at[f"h{i}"] = 1000.0 + 9.0 + i * 0.05  # inside the prior core of a 10 s forecast
        poller.watch("s1", f"h{i}", poll_id=f"h{i}", kind="image", model="m", timeout=600, forecast=10.0)
    run_until_quiet(poller, clock)
    assert {len(ids) for _, ids in source.calls[:3]} == {50}  # every look is one call for all of them
    assert max(source.lateness(f"h{i}") for i in range(50)) <= 0.4
    assert len(source.calls) <= 20


def test_the_reference_policy_looks_at_each_job_every_second_from_its_submit() -> None:
    reference = PollTiming(
        max_late_image=1.0, max_late_video=2.0, min_interval=0.25, max_interval=10.0, stall_seconds=60,
        policy=PollPolicy.EVERY_SECOND,
    )  # fmt: skip
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"a": 1005.5, "b": 1005.8})
    poller = make(clock, source, reference)
    poller.watch("s1", "a", poll_id="a", kind="image", model="m", timeout=600, forecast=5.0)
    clock.now = 1000.3
    poller.watch("s1", "b", poll_id="b", kind="image", model="m", timeout=600, forecast=5.0)
    run_until_quiet(poller, clock)
    assert [ids for _, ids in source.calls] == [("a",), ("b",)] * 6  # no ride-along: one call per look
    assert (source.seen_at["a"], source.seen_at["b"]) == pytest.approx((1006.0, 1006.3))


# -- deadline, cancel, errors, progress ---------------------------------------------------------------------


def test_deadline_ends_the_job_with_a_timeout_event() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 5000.0})
    poller = make(clock, source)
    watch = poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=20)
    run_until_quiet(poller, clock)
    assert events(watch)[-1] == "timeout"
    assert clock.now == pytest.approx(1020.0)
    assert poller.in_flight == 0


def test_cancelled_job_is_never_polled_again() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 1100.0})
    poller = make(clock, source)
    watch = poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600)
    clock.now = poller.next_due() or 0.0
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
    assert events(watch)[-1] == "succeeded"


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
    last = list(iter(lambda: watch.next_event(timeout=0), None))[-1]
    assert last.outcome == "failed"
    assert last.snapshot is not None and last.snapshot.fail_code == "2038"


def test_progress_events_are_sent_only_when_something_changed() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 1030.0})
    poller = make(clock, source)
    watch = poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600)
    run_until_quiet(poller, clock)
    assert events(watch) == ["progress", "succeeded"]


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
    poller = make(clock, ScriptedSource([arriving]))
    watch = poller.watch("s1", "h1", poll_id="sub-1", kind="image", model="m", timeout=600)
    run_until_quiet(poller, clock)
    last = list(iter(lambda: watch.next_event(timeout=0), None))[-1]
    assert last.outcome == "failed" and last.error is not None
    assert last.error.history_id == "h1" and "no progress" in last.error.message
    assert 1000.0 + TIMING.stall_seconds <= clock.now <= 1000.0 + TIMING.stall_seconds + 2 * IMAGE_BOUND


def test_a_long_running_record_that_need_not_progress_only_ends_at_its_deadline() -> None:
    clock = FakeClock()
    running = Snapshot(history_id="h1", phase=Phase.RUNNING, status=42, total=1)
    poller = make(clock, ScriptedSource([running]))
    watch = poller.watch("s1", "h1", poll_id="sub-1", kind="video", model="m", timeout=300)
    run_until_quiet(poller, clock)
    assert events(watch)[-1] == "timeout"


def test_jimeng_s_forecast_places_the_first_look_before_anything_is_learned() -> None:
    clock = FakeClock()
    poller = make(clock, FakeSource(clock))
    poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600, forecast=12.0)
    assert poller.next_due() == pytest.approx(1000.0 + prior_window(12.0).start)


def test_a_new_queue_position_is_progress() -> None:
    clock = FakeClock()
    queued = [
        Snapshot(history_id="h1", phase=Phase.QUEUED, status=20, queue_position=3, queue_length=9),
        Snapshot(history_id="h1", phase=Phase.QUEUED, status=20, queue_position=2, queue_length=9),
        Snapshot(history_id="h1", phase=Phase.SUCCEEDED, status=50, image_urls=("u",)),
    ]
    poller = make(clock, ScriptedSource(queued))
    watch = poller.watch("s1", "h1", poll_id="sub-1", kind="image", model="m", timeout=600)
    run_until_quiet(poller, clock)
    progress = [e for e in iter(lambda: watch.next_event(timeout=0), None) if e.outcome == "progress"]
    assert [e.snapshot.queue_position for e in progress] == [3, 2]  # type: ignore[union-attr]


def test_a_resumed_generation_is_looked_at_at_once_and_teaches_nothing() -> None:
    """A repeat (Idempotency-Key, SDK retry) resumes a generation submitted earlier: it may be done already."""
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 995.0})  # finished 5 s ago
    poller = make(clock, source)
    watch = poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600, age=8.0)
    assert poller.poll_due() == 1  # no waiting for a first estimate
    event = watch.next_event(timeout=0)
    assert event is not None and event.outcome is PollOutcome.SUCCEEDED
    assert poller.learner.samples(JobClass("image", "m")) == ()  # when it ended is unknown


def test_a_resumed_generation_still_running_is_scheduled_from_its_submit() -> None:
    clock = FakeClock()
    source = FakeSource(clock, ready_at={"h1": 1001.0})  # submitted 8 s ago, ready in 1 s
    poller = make(clock, source)
    watch = poller.watch("s1", "h1", poll_id="h1", kind="image", model="m", timeout=600, age=8.0, forecast=9.0)
    run_until_quiet(poller, clock)
    assert events(watch)[-1] is PollOutcome.SUCCEEDED
    assert source.lateness("h1") <= IMAGE_BOUND + EPSILON
