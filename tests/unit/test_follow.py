"""GenerationService.follow, the one loop behind waiting requests and streams, with a scripted watch and clock."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from typing import Any

import pytest

from app.domain.errors import (
    ClientGoneError,
    GenerationFailedError,
    GenerationTimeoutError,
    ServiceRestartingError,
    SessionExpiredError,
)
from app.domain.follow import CLIENT_CHECK_SECONDS, Finished, Gone, Idle, PartFinished, Progress
from app.domain.generation import GenerationService
from app.domain.jobs import Deadlines, Job, Part
from app.domain.models import GenerationKind, Phase, ResponseFormat, Snapshot
from app.domain.poller import PollEvent, PollOutcome
from app.domain.shutdown import Shutdown

JOB = Job(
    parts=(Part(history_id="h1", submit_id="s-1", count=4),), session_id="s1", kind=GenerationKind.IMAGE,
    model="jimeng-4.0", prompt="a cat", created=1, response_format=ResponseFormat.URL, input_images=0,
)  # fmt: skip
RUNNING = Snapshot(history_id="h1", phase=Phase.RUNNING, status=42, total=4)
DONE = Snapshot(history_id="h1", phase=Phase.SUCCEEDED, status=50, finished=4, total=4, image_urls=("u1", "u2"))


class ScriptedWatch:
    """Poll events at fixed times on a fake clock; waiting advances the clock instead of sleeping. An action
    (a SIGTERM) runs at its time, ending the wait there without an event."""

    def __init__(self, clock: list[float], script: list[tuple[float, PollEvent]]) -> None:
        self.clock, self.script, self.cancelled = clock, list(script), False
        self.actions: list[tuple[float, Callable[[], None]]] = []

    def next_event(self, timeout: float | None = None) -> PollEvent | None:
        assert timeout is not None
        if self.actions and self.actions[0][0] <= self.clock[0] + timeout:
            at, action = self.actions.pop(0)
            self.clock[0] = max(self.clock[0], at)
            action()
            return None
        if self.script and self.script[0][0] <= self.clock[0] + timeout:
            at, event = self.script.pop(0)
            self.clock[0] = max(self.clock[0], at)
            return event
        self.clock[0] += timeout
        return None

    def cancel(self) -> None:
        self.cancelled = True


class ScriptedPoller:
    def __init__(self, watch: ScriptedWatch) -> None:
        self.the_watch = watch

    def watch(self, *_: Any, **__: Any) -> ScriptedWatch:
        return self.the_watch


def service(
    script: list[tuple[float, PollEvent]], *, grace: float = 30.0
) -> tuple[GenerationService, ScriptedWatch, list[float]]:
    """The service on a fake clock; its shutdown notice has a graceful window of ``grace`` seconds."""
    clock = [0.0]
    watch = ScriptedWatch(clock, script)
    fake: Any = None
    svc = GenerationService(
        backend=fake, planner=fake, pool=fake, poller=ScriptedPoller(watch),  # type: ignore[arg-type]
        deadlines=Deadlines(image=600, video=1500), uploader=fake, loader=fake, monotonic=lambda: clock[0],
        shutdown=Shutdown(grace, clock=lambda: clock[0]),
    )  # fmt: skip
    return svc, watch, clock


def test_progress_idles_and_the_result_in_order_then_the_watch_is_cancelled() -> None:
    svc, watch, _ = service(
        [(1.0, PollEvent(PollOutcome.PROGRESS, RUNNING)), (3.2, PollEvent(PollOutcome.SUCCEEDED, DONE))]
    )
    events = list(svc.follow(JOB, idle_seconds=1.0))
    assert [type(e) for e in events] == [Progress, Idle, Idle, PartFinished, Finished]
    assert isinstance(events[-1], Finished) and events[-1].result.urls == ("u1", "u2")
    assert watch.cancelled


def test_without_an_idle_interval_nothing_but_news_is_yielded() -> None:
    svc, _, _ = service([(5.0, PollEvent(PollOutcome.SUCCEEDED, DONE))])
    assert [type(e) for e in svc.follow(JOB)] == [PartFinished, Finished]


def test_a_client_that_left_is_noticed_within_the_check_interval_and_polling_stops() -> None:
    svc, watch, clock = service([(60.0, PollEvent(PollOutcome.SUCCEEDED, DONE))])
    left_at = 2.0
    events = list(svc.follow(JOB, client_gone=lambda: clock[0] >= left_at))
    assert [type(e) for e in events] == [Gone]
    assert left_at <= clock[0] <= left_at + CLIENT_CHECK_SECONDS
    assert watch.cancelled


def test_closing_the_iterator_early_cancels_the_watch() -> None:
    svc, watch, _ = service([(1.0, PollEvent(PollOutcome.PROGRESS, RUNNING))])
    with closing(svc.follow(JOB)) as events:
        assert isinstance(next(events), Progress)
    assert watch.cancelled


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (PollEvent(PollOutcome.TIMEOUT, RUNNING), GenerationTimeoutError),
        (
            PollEvent(PollOutcome.FAILED, Snapshot(history_id="h1", phase=Phase.FAILED, status=30)),
            GenerationFailedError,
        ),
        (PollEvent(PollOutcome.FAILED, None, SessionExpiredError("logged out")), SessionExpiredError),
    ],
)
def test_failures_are_raised_with_the_history_id(event: PollEvent, error: type[Exception]) -> None:
    svc, watch, _ = service([(1.0, event)])
    with pytest.raises(error) as caught:
        list(svc.follow(JOB))
    assert caught.value.history_id == "h1"  # type: ignore[attr-defined]
    assert watch.cancelled


@pytest.mark.parametrize(
    ("gone", "outcome"),
    [(lambda: False, "result"), (lambda: True, "client_gone")],
)
def test_wait_is_follow_to_the_end(gone: Callable[[], bool], outcome: str) -> None:
    svc, _, _ = service([(3.0, PollEvent(PollOutcome.SUCCEEDED, DONE))])
    if outcome == "result":
        assert svc.wait(JOB, client_gone=gone).history_id == "h1"
    else:
        with pytest.raises(ClientGoneError) as caught:
            svc.wait(JOB, client_gone=gone)
        assert caught.value.history_id == "h1"


def test_when_every_part_of_a_job_fails_the_error_names_every_history_id() -> None:
    two_parts = replace(JOB, parts=(*JOB.parts, Part(history_id="h2", submit_id="s-2", count=2)))
    failed = PollEvent(PollOutcome.FAILED, Snapshot(history_id="h1", phase=Phase.FAILED, status=30))
    svc, _, _ = service([(1.0, failed), (2.0, failed)])
    refused = SessionExpiredError("part 3 refused")  # a later part Jimeng refused at submit: no id, nothing paid
    with pytest.raises(GenerationFailedError) as caught:
        list(svc.follow(replace(two_parts, refused=(refused,))))
    assert caught.value.history_id == "h1"  # an accepted part's id, never the refused part's None
    assert "h1, h2" in caught.value.message and str(caught.value) == caught.value.message


def test_each_part_reports_its_index_and_its_own_result_before_the_combined_one() -> None:
    """A shared scripted watch serves both parts in turn: part 0's events, then part 1's."""
    two_parts = replace(JOB, parts=(*JOB.parts, Part(history_id="h2", submit_id="s-2", count=2)))
    second = Snapshot(history_id="h2", phase=Phase.SUCCEEDED, status=50, finished=2, total=2, image_urls=("v1", "v2"))
    svc, _, _ = service(
        [
            (1.0, PollEvent(PollOutcome.PROGRESS, RUNNING)),
            (2.0, PollEvent(PollOutcome.SUCCEEDED, DONE)),
            (3.0, PollEvent(PollOutcome.PROGRESS, replace(RUNNING, history_id="h2"))),
            (4.0, PollEvent(PollOutcome.SUCCEEDED, second)),
        ]
    )
    events = list(svc.follow(two_parts))
    assert [(type(e).__name__, getattr(e, "part", None)) for e in events] == [
        ("Progress", 0), ("PartFinished", 0), ("Progress", 1), ("PartFinished", 1), ("Finished", None),
    ]  # fmt: skip
    assert isinstance(events[1], PartFinished) and events[1].result.urls == ("u1", "u2")
    assert isinstance(events[3], PartFinished) and events[3].result.urls == ("v1", "v2")
    assert isinstance(events[4], Finished) and events[4].result.urls == ("u1", "u2", "v1", "v2")


# -- SIGTERM: the worker has GRACEFUL_TIMEOUT_SECONDS; what still runs is answered ANSWER_MARGIN_SECONDS before


def sigterm_at(svc: GenerationService, watch: ScriptedWatch, at: float) -> None:
    watch.actions.append((at, svc.shutdown.begin))


def test_a_generation_still_running_near_the_end_of_the_window_is_answered_with_its_history_id() -> None:
    svc, watch, clock = service([(1.0, PollEvent(PollOutcome.PROGRESS, RUNNING)), (60.0, PollEvent(PollOutcome.SUCCEEDED, DONE))], grace=12.0)  # fmt: skip
    sigterm_at(svc, watch, 2.0)
    events: list[Any] = []
    with pytest.raises(ServiceRestartingError) as caught:
        for event in svc.follow(JOB, idle_seconds=1.0):
            events.append(event)
    answer_at = 2.0 + 12.0 - svc.shutdown.margin
    assert clock[0] == pytest.approx(answer_at)  # not a moment later (nor sooner: the job had until then)
    assert caught.value.history_id == "h1" and caught.value.code == "service_restarting"
    assert "GET /v1/tasks/h1" in caught.value.message
    assert isinstance(events[0], Progress) and Idle in {type(e) for e in events}  # the stream went on until then
    assert watch.cancelled


def test_a_generation_that_finishes_within_the_window_is_answered_as_usual() -> None:
    svc, watch, _ = service([(6.0, PollEvent(PollOutcome.SUCCEEDED, DONE))], grace=12.0)
    sigterm_at(svc, watch, 2.0)  # answered at 9 s at the latest; done at 6 s
    assert [type(e) for e in svc.follow(JOB)] == [PartFinished, Finished]


def test_a_result_already_there_wins_over_the_shutdown_answer() -> None:
    svc, _, _ = service([(0.0, PollEvent(PollOutcome.SUCCEEDED, DONE))], grace=1.0)  # shorter than the margin
    svc.shutdown.begin()  # due at once
    assert [type(e) for e in svc.follow(JOB)] == [PartFinished, Finished]


def test_a_window_shorter_than_the_margin_answers_at_once() -> None:
    svc, _, clock = service([(60.0, PollEvent(PollOutcome.SUCCEEDED, DONE))], grace=3.0)
    svc.shutdown.begin()
    with pytest.raises(ServiceRestartingError):
        list(svc.follow(JOB))
    assert clock[0] == 0.0


def test_a_waiting_request_gets_the_shutdown_error_with_its_history_id() -> None:
    svc, watch, _ = service([(60.0, PollEvent(PollOutcome.SUCCEEDED, DONE))], grace=8.0)
    sigterm_at(svc, watch, 1.0)
    with pytest.raises(ServiceRestartingError) as caught:
        svc.wait(JOB)
    assert caught.value.history_id == "h1"


def test_without_a_shutdown_notice_nothing_changes() -> None:
    svc, _, _ = service([(100.0, PollEvent(PollOutcome.SUCCEEDED, DONE))], grace=1.0)
    assert [type(e) for e in svc.follow(JOB)] == [PartFinished, Finished]
    assert svc.shutdown.seconds_left() is None


def test_the_first_notice_counts() -> None:
    clock = [0.0]
    shutdown = Shutdown(30.0, clock=lambda: clock[0])
    shutdown.begin()
    clock[0] = 10.0
    shutdown.begin()  # the master passes SIGTERM on after the platform sent it: the window is the first one
    assert shutdown.seconds_left() == pytest.approx(15.0)
    clock[0] = 26.0
    assert shutdown.seconds_left() == 0.0 and shutdown.due()
