"""When to look at a generation next: pure functions, so the poller's timing is tested with a fake clock.

The reference polls every second from the submit on. Most of those polls see nothing new. Here each job has
an expected duration and a band of uncertainty around it, learned from recent completions of the same kind
and model. The job is first looked at three quarters of the way to the start of the band, each later look
again three quarters of the remaining way (down to ``min_interval``), the band itself is covered at
``min_interval`` (a wide band at a tenth of its half-width), and a job later than the band is
looked at again after half of its lateness (so the result waits at most a third of it and calls grow only
logarithmically), never less often than ``max_interval``.

A completion is only known to lie between the last two polls, so a learned duration carries that half-width
as its uncertainty: a job timed precisely gives a narrow band, a job that was found late a wide one, and
precise samples win over imprecise ones as soon as there are some.
"""

from __future__ import annotations

import statistics
import threading
from collections import defaultdict, deque
from dataclasses import dataclass

APPROACH = 0.75  # of the time left to the band: few looks while nothing can have happened yet
BAND_LOOKS = 10  # looks per half-width across a band: keeps a wide band from costing dozens of polls
FORECAST_SPREAD = 0.25  # Jimeng's forecast is a rough one: cover a band of a quarter either side of it


@dataclass(frozen=True)
class Estimate:
    expected: float  # seconds from submit to ready
    spread: float  # half-width of the band in which it usually ends


@dataclass(frozen=True, kw_only=True)
class PollTiming:
    """The poller's settings (POLL_* in config/settings.py, where their defaults live)."""

    first_image: float  # first poll of an image job before any duration was learned
    first_video: float
    min_interval: float
    max_interval: float
    stall_seconds: float  # a record that must progress (items arriving, unknown status) may stand still this long
    error_interval: float = 1.0  # after a failed poll (the client already retried inside the call)

    def default_estimate(self, kind: str) -> Estimate:
        """Before anything was learned: an estimate whose first look falls at ``first_image``/``first_video``."""
        return Estimate((self.first_video if kind == "video" else self.first_image) / APPROACH, 0.0)


def next_delay(elapsed: float, estimate: Estimate, timing: PollTiming) -> float:
    """Seconds until the next poll of a job ``elapsed`` seconds old, given how long such jobs take."""
    band_start = estimate.expected - estimate.spread
    band_end = estimate.expected + estimate.spread
    if band_start - elapsed > timing.min_interval:
        return _clamp((band_start - elapsed) * APPROACH, timing)
    if elapsed < band_end:  # a wide band (an imprecise sample) is covered a little less densely
        return _clamp(max(timing.min_interval, estimate.spread / BAND_LOOKS), timing)
    return _clamp((elapsed - band_end) / 2, timing)


def _clamp(delay: float, timing: PollTiming) -> float:
    return min(max(delay, timing.min_interval), timing.max_interval)


class DurationEstimator:
    """Recent completions per (kind, model), each a midpoint and the half-width it is known to."""

    def __init__(self, timing: PollTiming, window: int = 7) -> None:
        self._timing = timing
        self._samples: defaultdict[tuple[str, str], deque[tuple[float, float]]] = defaultdict(
            lambda: deque(maxlen=window)
        )
        self._lock = threading.Lock()

    def estimate(self, kind: str, model: str, forecast: float | None = None) -> Estimate:
        """What was learned of such jobs; before that, Jimeng's own forecast for this job, else the default."""
        with self._lock:
            samples = list(self._samples.get((kind, model), ()))
        if samples:
            return combine(samples, precise_width=2 * self._timing.min_interval)
        if forecast is not None and forecast > 0:
            return Estimate(forecast, forecast * FORECAST_SPREAD)
        return self._timing.default_estimate(kind)

    def record(self, kind: str, model: str, earliest: float, latest: float) -> None:
        """A job of this kind was seen unfinished at ``earliest`` and finished at ``latest`` (seconds)."""
        if latest > 0 and latest >= earliest:
            with self._lock:
                self._samples[(kind, model)].append(((earliest + latest) / 2, (latest - earliest) / 2))


def combine(samples: list[tuple[float, float]], precise_width: float) -> Estimate:
    """The median of the precise samples with their spread; else the latest sample and its own width."""
    precise = [(mid, width) for mid, width in samples if width <= precise_width]
    if not precise:
        mid, width = samples[-1]
        return Estimate(mid, width)
    mids = [mid for mid, _ in precise]
    expected = statistics.median(mids)
    deviation = statistics.median(abs(mid - expected) for mid in mids)
    return Estimate(expected, max(deviation, *(width for _, width in precise)))
