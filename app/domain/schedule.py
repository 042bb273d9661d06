"""When to look at a generation next: pure functions, so the poller's timing is tested with a fake clock.

The product is a bound on lateness; upstream calls are the cost to keep low under that bound.

Each job gets a ``Window`` (seconds from its submit): ``start``, the earliest it could plausibly be done, and
a core, where it most likely ends. Before ``start`` it is looked at rarely (evenly, at most
``POLL_MAX_SECONDS`` apart, the last look on ``start``): nothing can have happened yet. From ``start`` on it is
looked at at least every ``tail_spacing`` (``POLL_MAX_LATE_SECONDS_*`` less the poll's round trip), so a
result that is ready waits at most that long whatever the estimate said; inside the core the looks are
denser, the more so the narrower the core and the more jobs of the same session wait there (one call
serves them all). Past the core the spacing grows back to the tail spacing (by half the time past it), and
a job nothing is known about keeps the tail spacing: never worse than the reference's once a second.

The window comes from what was learned of jobs of the same class (model, kind, tier, count) and from
Jimeng's own forecast for this job (``forecast_generate_cost`` + ``forecast_queue_cost``, seconds):

- by duration: the durations of recent jobs with a similar forecast (or all recent jobs without one);
- by forecast: this job's forecast times the ratios actual / forecast of recent jobs with a similar forecast
  (else of all), so a forecast that is biased (videos run about half their forecast) is corrected; before
  any ratio was learned, a wide prior band around the forecast (``PRIOR_*``).

The narrower core of the two wins (the forecast's only when clearly narrower: the durations are what is
measured); the earlier start of the two is kept (each is a witness that the job may
end that early). A job whose forecast is unlike every learned one (a regime shift: 30 s jobs after 5 s jobs)
has no duration window, so its forecast decides. ``start`` lies below the lowest sample by a margin that
grows with the samples' spread and shrinks with their number (the next of n samples falls below all of them
once in n + 1). A completion is only known to lie between two looks, so a sample is an
interval; a job found done at its first look from ``start`` on may have ended before it (the bound was
perhaps missed): its sample replaces everything learned of its class, so the next job starts early.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

DELIVERY_MARGIN = 0.2  # seconds of a look's round trip and delivery, kept out of the lateness bound
CORE_MAX_SPACING = 0.5  # seconds: looks inside the core at least this dense (a median lateness below 0.4 s)
DENSITY = 0.4  # core spacing = DENSITY * sqrt(core width / jobs of the session in their core), clamped
LATE_GROWTH = 0.5  # past the core, the spacing grows by half the time past it (up to the tail spacing)
PREFER = 0.7  # one predictor wins when its samples spread this much less than the other's
TRUSTED = 3  # ... and it has at least this many samples; else the earlier start of the two is kept
MIN_MARGIN = 0.1  # share of the lowest sample that ``start`` keeps below it at least
PRIOR_START = 0.3  # before any ratio was learned: a job may end at 0.3 x its forecast (videos ran 0.37-0.6 x)
PRIOR_CORE = (0.85, 1.15)  # ... and most likely within 15 % of it
ALIKE = 1.5  # forecasts within this factor of each other describe alike jobs (they jitter by 15 %)
PRECISE_SECONDS = 2.0  # a sample known to this many seconds (or to a tenth of its duration) is precise
PRECISE_SHARE = 0.1
SHARP_SECONDS = 0.5  # the core spans samples known to this, or to twice the best one's width
SAMPLES = 12  # recent samples kept per class
MAX_KEPT_WINDOWS = 1024  # windows kept per (class, forecast) by the Learner; all dropped when there are more
REFERENCE_INTERVAL = 1.0  # the reference gateway's policy: a look every second from the submit


class PollPolicy(StrEnum):
    SCHEDULE = "schedule"  # this module's windows (the service's)
    EVERY_SECOND = "every-second"  # the reference gateway's, for the latency bench's comparison only


@dataclass(frozen=True, kw_only=True)
class PollTiming:
    """The poller's settings (POLL_* in config/settings.py, where their defaults live)."""

    max_late_image: float  # a result that is ready waits at most this long (seconds, round trip included)
    max_late_video: float
    min_interval: float  # the densest spacing of looks at a job
    max_interval: float  # the longest gap between two looks at a job
    stall_seconds: float  # a record that must progress (items arriving, unknown status) may stand still this long
    error_interval: float = 1.0  # after a failed poll (the client already retried inside the call)
    policy: PollPolicy = PollPolicy.SCHEDULE

    def max_late(self, kind: str) -> float:
        return self.max_late_video if kind == "video" else self.max_late_image

    def tail_spacing(self, kind: str) -> float:
        """The widest spacing of looks at a job that could be done: the bound less a look's round trip."""
        late = self.max_late(kind)
        spacing = min(late - min(DELIVERY_MARGIN, late / 4), self.max_interval)
        return max(spacing, self.min_interval)

    def core_spacing(self, kind: str, width: float, sharing: int = 1) -> float:
        """Spacing inside a core ``width`` seconds wide while ``sharing`` jobs of the session are in theirs:
        looks cost calls, lateness is spread over the core, and one call looks at every job of a session."""
        spacing = DENSITY * math.sqrt(max(width, 0.0) / max(sharing, 1))
        return max(self.min_interval, min(spacing, CORE_MAX_SPACING, self.tail_spacing(kind)))


@dataclass(frozen=True)
class Window:
    """Seconds from submit: ``start``, the earliest the job could plausibly be done; ``core_start`` to
    ``core_end``, where it most likely ends. The default (all 0): nothing known, tail spacing from submit."""

    start: float = 0.0
    core_start: float = 0.0
    core_end: float = 0.0

    @property
    def core_width(self) -> float:
        return self.core_end - self.core_start

    def not_before(self, floor: float) -> Window:
        """The job cannot be done before ``floor`` (it is still queued): the window moved up to it."""
        if floor <= self.start:
            return self
        core_start = max(self.core_start, floor)
        return Window(floor, core_start, max(self.core_end, core_start))


class Zone(StrEnum):
    BEFORE = "before"  # nothing can have happened yet
    TAIL = "tail"  # it could be done: looks at most tail spacing apart
    CORE = "core"  # it most likely ends now: denser


def zone(elapsed: float, window: Window, timing: PollTiming) -> Zone:
    if window.start - elapsed > timing.min_interval:
        return Zone.BEFORE
    if window.core_start <= elapsed < window.core_end:
        return Zone.CORE
    return Zone.TAIL


def next_delay(elapsed: float, window: Window, timing: PollTiming, kind: str, sharing: int = 1) -> float:
    """Seconds until the next look at a job ``elapsed`` seconds old; ``sharing``: jobs of its session in their
    core (this one included when it is)."""
    if timing.policy is PollPolicy.EVERY_SECOND:
        return every_second(elapsed)
    where = zone(elapsed, window, timing)
    if where is Zone.BEFORE:  # evenly spaced looks, at most max_interval apart, the last one on ``start``
        left = window.start - elapsed
        return left / math.ceil(left / timing.max_interval)
    tail = timing.tail_spacing(kind)
    if window.core_end <= 0:  # nothing known
        return tail
    core = timing.core_spacing(kind, window.core_width, sharing)
    if elapsed < window.core_end and sharing <= 1:  # alone: looks on a grid that ends on the core's end
        target = _grid_point(elapsed, window, core, timing.min_interval / 2)
        if target is not None:
            return min(tail, target - elapsed)
    if where is Zone.CORE:  # shared: each look one spacing after the last, so the session's jobs stay aligned
        return core
    if elapsed < window.core_start:
        return min(tail, max(window.core_start - elapsed, core))
    return min(tail, core + LATE_GROWTH * max(elapsed - window.core_end, 0.0))  # later: sparser and sparser


def _grid_point(elapsed: float, window: Window, spacing: float, gap: float) -> float | None:
    """The first point of ``core_end - k * spacing`` (inside the core) at least ``gap`` after ``elapsed``: the
    last look of a core lands on its end, where the jobs it was learned from had all ended."""
    steps = math.floor(window.core_width / spacing + 1e-9)
    k = min(steps, math.floor((window.core_end - elapsed - gap) / spacing + 1e-9))
    return window.core_end - k * spacing if k >= 0 else None


def every_second(elapsed: float) -> float:
    """The reference's policy: looks at 1, 2, 3 ... seconds after the submit."""
    beat = math.floor(elapsed / REFERENCE_INTERVAL + 1e-6) + 1
    return beat * REFERENCE_INTERVAL - elapsed


# -- what was learned ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobClass:
    """Jobs expected to take alike: images of one model, tier and count; videos of one model, resolution and
    length (``tier``: "720p 5s")."""

    kind: str
    model: str
    tier: str = ""
    count: int = 0


@dataclass(frozen=True)
class Sample:
    """One finished job: seen unfinished ``earliest`` and finished ``latest`` seconds after its submit, and
    what Jimeng forecast for it (seconds), if it said."""

    earliest: float
    latest: float
    forecast: float | None = None

    @property
    def width(self) -> float:
        return self.latest - self.earliest

    @property
    def precise(self) -> bool:
        return self.width <= max(PRECISE_SECONDS, PRECISE_SHARE * self.latest)


def plan_window(samples: Sequence[Sample], forecast: float | None) -> Window:
    """The window of a new job of a class with these ``samples`` and this ``forecast``: the narrower core of the
    two predictors, and the earlier start (each predictor is a witness that the job may end that early)."""
    usable = [sample for sample in samples if sample.precise] or list(samples)
    if forecast is None or forecast <= 0:
        return _spread(usable, _seconds) or Window()
    alike = [s for s in usable if s.forecast is None or 1 / ALIKE <= s.forecast / forecast <= ALIKE]
    by_duration = _spread(alike, _seconds)
    rated = [s for s in alike if s.forecast] or [s for s in usable if s.forecast]
    by_forecast = _spread(rated, lambda value, sample: value / (sample.forecast or 1.0) * forecast)
    by_forecast = by_forecast or prior_window(forecast)
    if by_duration is None:
        return by_forecast
    durations = _relative_spread(alike, _seconds)
    ratios = _relative_spread(rated, lambda value, sample: value / (sample.forecast or 1.0))
    if len(alike) >= TRUSTED and durations <= PREFER * ratios:  # steady durations, a noisy forecast
        return by_duration
    if len(rated) >= TRUSTED and ratios <= PREFER * durations:  # the forecast knows each job's duration
        return by_forecast
    narrower = by_forecast if by_forecast.core_width < PREFER * by_duration.core_width else by_duration
    return Window(min(by_duration.start, by_forecast.start), narrower.core_start, narrower.core_end)


def prior_window(forecast: float) -> Window:
    return Window(PRIOR_START * forecast, PRIOR_CORE[0] * forecast, PRIOR_CORE[1] * forecast)


def _seconds(value: float, sample: Sample) -> float:
    return value


def _relative_spread(samples: Sequence[Sample], scale: Callable[[float, Sample], float]) -> float:
    """How far apart the samples lie, as a share of the longest (durations or ratios alike)."""
    high = max(scale(sample.latest, sample) for sample in samples)
    return (high - min(scale(sample.earliest, sample) for sample in samples)) / high if high > 0 else math.inf


def _spread(samples: Sequence[Sample], scale: Callable[[float, Sample], float]) -> Window | None:
    """``start`` lies below every sample by their spread over (n + 1) / 2, and at least MIN_MARGIN of the
    lowest. The core comes from the sharpest samples (those known about as well as the best one): where they
    all ended when they agree (the durations are steady: each job narrows it), else the span of them all."""
    if not samples:
        return None
    low = min(scale(sample.earliest, sample) for sample in samples)
    high = max(scale(sample.latest, sample) for sample in samples)
    margin = max((high - low) * 2 / (len(samples) + 1), MIN_MARGIN * low)
    sharpest = min(sample.width for sample in samples)
    sharp = [sample for sample in samples if sample.width <= max(SHARP_SECONDS, 2 * sharpest)]
    earliest = [scale(sample.earliest, sample) for sample in sharp]
    latest = [scale(sample.latest, sample) for sample in sharp]
    if max(earliest) < min(latest):  # they agree: every one ended in this interval
        return Window(max(0.0, low - margin), max(earliest), min(latest))
    return Window(max(0.0, low - margin), min(earliest), max(latest))


@dataclass
class _Class:
    samples: deque[Sample] = field(default_factory=lambda: deque(maxlen=SAMPLES))
    version: int = 0


class Learner:
    """Recent samples per job class; ``version`` changes whenever a class's samples do (windows are cached)."""

    def __init__(self) -> None:
        self._classes: dict[JobClass, _Class] = {}
        self._windows: dict[tuple[JobClass, float | None], tuple[int, Window]] = {}
        self._lock = threading.Lock()

    def version(self, job_class: JobClass) -> int:
        known = self._classes.get(job_class)
        return known.version if known is not None else 0

    def samples(self, job_class: JobClass) -> tuple[Sample, ...]:
        with self._lock:
            known = self._classes.get(job_class)
            return tuple(known.samples) if known is not None else ()

    def window(self, job_class: JobClass, forecast: float | None) -> Window:
        """``plan_window`` of the class's samples, kept per forecast until the class learns something: jobs of a
        class share their forecasts (whole seconds), and at 1,000 in flight every look at a job asked again."""
        with self._lock:
            known = self._classes.get(job_class)
            version = known.version if known is not None else 0
            kept = self._windows.get((job_class, forecast))
            if kept is not None and kept[0] == version:
                return kept[1]
            samples = tuple(known.samples) if known is not None else ()
        window = plan_window(samples, forecast)
        with self._lock:
            if len(self._windows) >= MAX_KEPT_WINDOWS:
                self._windows.clear()
            self._windows[(job_class, forecast)] = (version, window)
        return window

    def record(self, job_class: JobClass, sample: Sample, *, missed: bool = False) -> None:
        """A job of this class finished; ``missed``: it was found at its first look from its window's start,
        so it may have ended before that start: what was learned of its class no longer holds."""
        if sample.latest <= 0 or sample.latest < sample.earliest:
            return
        with self._lock:
            known = self._classes.setdefault(job_class, _Class())
            if missed:
                known.samples.clear()
            known.samples.append(sample)
            known.version += 1
