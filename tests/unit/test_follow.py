"""GenerationService.follow, the one loop behind waiting requests and streams, with a scripted watch and clock."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from typing import Any

import pytest

from app.domain.errors import ClientGoneError, GenerationFailedError, GenerationTimeoutError, SessionExpiredError
from app.domain.follow import CLIENT_CHECK_SECONDS, Finished, Gone, Idle, Progress
from app.domain.generation import GenerationService
from app.domain.jobs import Deadlines, Job, Part
from app.domain.models import GenerationKind, Phase, ResponseFormat, Snapshot
from app.domain.poller import PollEvent, PollOutcome

JOB = Job(
    parts=(Part(history_id="h1", submit_id="s-1", count=4),), session_id="s1", kind=GenerationKind.IMAGE,
    model="jimeng-4.0", prompt="a cat", created=1, response_format=ResponseFormat.URL, input_images=0,
)  # fmt: skip
RUNNING = Snapshot(history_id="h1", phase=Phase.RUNNING, status=42, total=4)
DONE = Snapshot(history_id="h1", phase=Phase.SUCCEEDED, status=50, finished=4, total=4, image_urls=("u1", "u2"))


class ScriptedWatch:
    """Poll events at fixed times on a fake clock; waiting advances the clock instead of sleeping."""

    def __init__(self, clock: list[float], script: list[tuple[float, PollEvent]]) -> None:
        self.clock, self.script, self.cancelled = clock, list(script), False

    def next_event(self, timeout: float | None = None) -> PollEvent | None:
        assert timeout is not None
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


def service(script: list[tuple[float, PollEvent]]) -> tuple[GenerationService, ScriptedWatch, list[float]]:
    clock = [0.0]
    watch = ScriptedWatch(clock, script)
    fake: Any = None
    svc = GenerationService(
        backend=fake, planner=fake, pool=fake, poller=ScriptedPoller(watch),  # type: ignore[arg-type]
        deadlines=Deadlines(image=600, video=1500), uploader=fake, loader=fake, monotonic=lambda: clock[0],
    )  # fmt: skip
    return svc, watch, clock


def test_progress_idles_and_the_result_in_order_then_the_watch_is_cancelled() -> None:
    svc, watch, _ = service(
        [(1.0, PollEvent(PollOutcome.PROGRESS, RUNNING)), (3.2, PollEvent(PollOutcome.SUCCEEDED, DONE))]
    )
    events = list(svc.follow(JOB, idle_seconds=1.0))
    assert [type(e) for e in events] == [Progress, Idle, Idle, Finished]
    assert isinstance(events[-1], Finished) and events[-1].result.urls == ("u1", "u2")
    assert watch.cancelled


def test_without_an_idle_interval_nothing_but_news_is_yielded() -> None:
    svc, _, _ = service([(5.0, PollEvent(PollOutcome.SUCCEEDED, DONE))])
    assert [type(e) for e in svc.follow(JOB)] == [Finished]


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
