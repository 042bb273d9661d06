"""The schedule's pure functions: windows from samples and forecasts, and the spacing of looks in each zone."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest

from app.domain import schedule
from app.domain.schedule import (
    CORE_MAX_SPACING,
    DENSITY,
    JobClass,
    Learner,
    PollPolicy,
    PollTiming,
    Sample,
    Window,
    Zone,
    every_second,
    next_delay,
    plan_window,
    prior_window,
    zone,
)

TIMING = PollTiming(max_late_image=1.0, max_late_video=2.0, min_interval=0.25, max_interval=10.0, stall_seconds=60)


def test_the_tail_spacing_keeps_a_look_s_round_trip_inside_the_bound() -> None:
    assert TIMING.tail_spacing("image") == pytest.approx(0.8)
    assert TIMING.tail_spacing("video") == pytest.approx(1.8)
    tight = PollTiming(max_late_image=0.2, max_late_video=0.2, min_interval=0.05, max_interval=0.5, stall_seconds=60)
    assert tight.tail_spacing("image") == pytest.approx(0.15)  # a quarter of a small bound
    capped = PollTiming(max_late_image=1.0, max_late_video=2.0, min_interval=0.05, max_interval=0.3, stall_seconds=60)
    assert capped.tail_spacing("video") == pytest.approx(0.3)  # never longer than POLL_MAX_SECONDS


def test_the_core_is_denser_when_narrow_or_shared_and_never_sparser_than_its_cap() -> None:
    assert TIMING.core_spacing("image", 0.3) == pytest.approx(0.25)  # a tight core: the densest spacing
    assert TIMING.core_spacing("image", 40.0) == pytest.approx(CORE_MAX_SPACING)  # wide: the cap, for the median
    wide_alone = TIMING.core_spacing("video", 1.0)
    assert TIMING.core_spacing("video", 1.0, sharing=4) < wide_alone  # one call serves four jobs
    assert TIMING.core_spacing("image", 3.0, sharing=100) == pytest.approx(TIMING.min_interval)


@pytest.mark.parametrize(
    ("elapsed", "window", "delay"),
    [
        (0.0, Window(7.0, 7.8, 8.2), 7.0),  # nothing can have happened before 7 s: one look, on the start
        (0.0, Window(18.0, 20.0, 21.0), 9.0),  # evenly spaced, at most POLL_MAX_SECONDS apart
        (9.0, Window(18.0, 20.0, 21.0), 9.0),
        (0.0, Window(95.0, 100.0, 110.0), 9.5),
        (7.0, Window(7.0, 7.8, 8.2), 0.8),  # could be done: at most the tail spacing, approaching the core
        (7.6, Window(7.0, 7.8, 8.1), 0.25),  # alone: looks on a grid ending on the core's end (7.85, 8.1)
        (7.85, Window(7.0, 7.8, 8.1), 0.25),  # inside the core: dense
        (7.9, Window(7.0, 7.8, 8.1), 0.2),  # ... and the last look on its end
        (8.2, Window(7.0, 7.8, 8.2), DENSITY * 0.4**0.5),  # later than the core: sparser and sparser ...
        (8.6, Window(7.0, 7.8, 8.2), DENSITY * 0.4**0.5 + 0.2),
        (9.4, Window(7.0, 7.8, 8.2), 0.8),  # ... up to the tail spacing, forever
        (300.0, Window(7.0, 7.8, 8.2), 0.8),
        (0.0, Window(), 0.8),  # nothing known: the tail spacing from the submit
    ],
)
def test_next_delay_table(elapsed: float, window: Window, delay: float) -> None:
    assert next_delay(elapsed, window, TIMING, "image") == pytest.approx(delay)


def test_zones() -> None:
    window = Window(7.0, 7.8, 8.2)
    assert [zone(t, window, TIMING) for t in (0.0, 6.7, 6.9, 7.8, 8.1, 8.2)] == [
        Zone.BEFORE, Zone.BEFORE, Zone.TAIL, Zone.CORE, Zone.CORE, Zone.TAIL,
    ]  # fmt: skip


def test_from_the_start_on_looks_are_never_further_apart_than_the_tail_spacing() -> None:
    """The bound: whatever the window, once a job could be done, the next look is at most tail spacing away."""
    windows = [Window(), Window(2.0, 6.0, 9.0), Window(7.0, 7.9, 8.1), Window(10.0, 10.0, 60.0), Window(0, 0, 400)]
    for window, kind, sharing in itertools.product(windows, ("image", "video"), (1, 3)):
        elapsed = 0.0
        while elapsed < 120.0:
            delay = next_delay(elapsed, window, TIMING, kind, sharing)
            assert delay > 0
            if elapsed + delay > window.start:  # this look may find a finished job
                assert elapsed + delay - max(elapsed, window.start) <= TIMING.tail_spacing(kind) + 1e-9
            elapsed += delay


def test_the_reference_policy_looks_every_second_from_the_submit() -> None:
    reference = PollTiming(
        max_late_image=1.0, max_late_video=2.0, min_interval=0.25, max_interval=10.0, stall_seconds=60,
        policy=PollPolicy.EVERY_SECOND,
    )  # fmt: skip
    assert [every_second(t) for t in (0.0, 0.3, 1.0, 2.9999999)] == pytest.approx([1.0, 0.7, 1.0, 1.0], abs=1e-6)
    assert next_delay(4.2, Window(100.0, 101.0, 102.0), reference, "video") == pytest.approx(0.8)


# -- windows --------------------------------------------------------------------------------------------


def test_nothing_learned_and_no_forecast_gives_no_window() -> None:
    assert plan_window([], None) == Window()


def test_a_forecast_alone_gives_the_wide_prior_band() -> None:
    assert plan_window([], 20.0) == prior_window(20.0)
    assert prior_window(20.0).start == pytest.approx(6.0)  # videos were seen done at 0.37 x their forecast


def test_durations_learned_give_a_tight_window_below_the_fastest_sample() -> None:
    samples = [Sample(7.85, 8.15, None), Sample(7.8, 8.1, None), Sample(7.9, 8.2, None)]
    window = plan_window(samples, None)
    assert (window.core_start, window.core_end) == pytest.approx((7.9, 8.1))  # where all of them ended
    assert window.start == pytest.approx(7.8 * 0.9)  # at least a tenth below the fastest
    drifting = plan_window([*samples, Sample(8.3, 8.6, None)], None)  # they no longer agree: the span of all
    assert (drifting.core_start, drifting.core_end) == pytest.approx((7.8, 8.6))


def test_a_core_shared_with_other_jobs_of_the_session_is_looked_at_in_step_with_them() -> None:
    window = Window(7.0, 7.8, 8.1)
    assert next_delay(7.9, window, TIMING, "image", sharing=2) == pytest.approx(0.25)  # one spacing, no grid


def test_a_biased_forecast_is_corrected_by_what_happened() -> None:
    """Videos that run about half their forecast: the ratio learned moves the window of the next one."""
    samples = [Sample(19.8, 20.4, 40.0), Sample(29.5, 30.1, 62.0)]
    window = plan_window(samples, 100.0)  # a longer video than any seen: its own forecast decides
    assert window.core_start == pytest.approx(100.0 * 29.5 / 62.0)  # the lowest ratio seen
    assert window.core_end == pytest.approx(100.0 * 20.4 / 40.0)  # the highest
    assert window.start < window.core_start


def test_a_forecast_unlike_every_learned_one_is_a_regime_shift_the_forecast_decides() -> None:
    fives = [Sample(4.9, 5.1, 5.5) for _ in range(10)]
    window = plan_window(fives, 30.0)
    assert window.core_start == pytest.approx(30.0 * 4.9 / 5.5)  # not the 5 s the durations say
    assert window.start > 20.0


def test_the_narrower_window_wins() -> None:
    """Exact 8 s jobs with forecasts jittered by 15 %: the durations are tighter than forecast x ratio."""
    samples = [Sample(7.8, 8.1, f) for f in (7.0, 9.0, 8.0, 7.5)]
    assert plan_window(samples, 8.5).core_width == pytest.approx(0.3)
    tracking = [Sample(0.98 * d, 1.01 * d, d) for d in (12.0, 25.0, 18.0, 31.0, 22.0)]  # forecasts track durations
    assert plan_window(tracking, 20.0).core_width == pytest.approx(20.0 * 0.03)


def test_steady_durations_under_a_noisy_forecast_decide_alone_and_a_knowing_forecast_alike() -> None:
    steady = [Sample(29.7, 30.0, f) for f in (26.0, 34.0, 30.0, 28.0)]  # the forecast jitters by 15 %
    assert plan_window(steady, 26.0).start == pytest.approx(29.7 * 0.9)  # not 0.9 x 29.7 / 34 x 26
    assert plan_window(steady[:2], 26.0).start < 20.0  # two samples prove nothing: the earlier start stays
    knowing = [Sample(0.98 * d, 1.01 * d, d) for d in (12.0, 25.0, 18.0, 31.0, 22.0)]
    assert plan_window(knowing, 20.0).start == pytest.approx(0.9 * 0.98 * 20.0)


def test_imprecise_samples_give_way_to_precise_ones() -> None:
    samples = [Sample(0.0, 8.0, None), Sample(7.9, 8.2, None)]
    assert plan_window(samples, None).core_start == pytest.approx(7.9)
    assert plan_window([Sample(0.0, 8.0, None)], None) == Window(0.0, 0.0, 8.0)


def test_the_start_margin_grows_with_the_spread_and_shrinks_with_the_number_of_samples() -> None:
    few = plan_window([Sample(10.0, 10.2), Sample(30.0, 30.2)], None)
    many = plan_window([Sample(10.0 + i, 10.2 + i) for i in range(0, 21, 2)], None)
    assert few.core_start == many.core_start == pytest.approx(10.0)
    assert few.start < many.start < 10.0


def test_a_missed_job_replaces_what_was_learned_of_its_class() -> None:
    learner, job_class = Learner(), JobClass("image", "m", "2k", 4)
    for _ in range(5):
        learner.record(job_class, Sample(29.8, 30.1, 30.0))
    version = learner.version(job_class)
    learner.record(job_class, Sample(5.0, 26.0, 30.0), missed=True)  # found done at the window's start
    assert learner.samples(job_class) == (Sample(5.0, 26.0, 30.0),)
    assert learner.version(job_class) > version
    assert learner.window(job_class, 30.0).start <= 5.0
    assert learner.window(JobClass("image", "m", "2k", 1), 30.0) == prior_window(30.0)  # another class: nothing


def test_a_queued_job_cannot_be_done_before_its_floor() -> None:
    assert Window(7.0, 7.8, 8.2).not_before(5.0) == Window(7.0, 7.8, 8.2)
    assert Window(7.0, 7.8, 8.2).not_before(7.9) == Window(7.9, 7.9, 8.2)
    assert Window(7.0, 7.8, 8.2).not_before(12.0) == Window(12.0, 12.0, 12.0)


def test_the_learner_plans_a_window_once_per_forecast_until_its_class_learns(monkeypatch: pytest.MonkeyPatch) -> None:
    """1,000 jobs of a class in flight asked for their window at every look (issue 17: CPU at 1,000 in flight)."""
    planned: list[float | None] = []
    real = schedule.plan_window

    def counting(samples: Sequence[Sample], forecast: float | None) -> Window:
        planned.append(forecast)
        return real(samples, forecast)

    monkeypatch.setattr(schedule, "plan_window", counting)
    learner, images = Learner(), JobClass("image", "m")
    first = learner.window(images, 11.0)
    assert learner.window(images, 11.0) == first and learner.window(images, 12.0) is not None
    assert planned == [11.0, 12.0]
    learner.record(images, Sample(9.5, 10.0, 11.0))
    learner.window(images, 11.0)
    assert planned == [11.0, 12.0, 11.0]  # learned something: planned again
