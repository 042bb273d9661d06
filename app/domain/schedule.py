"""When to look at a generation next: pure functions, so the poller's timing is tested with a fake clock.

The reference polls every second from the submit on. Most of those polls see nothing new. Here a job is
first looked at halfway through the time such jobs usually take, then the gap halves as the expected finish
approaches (down to ``min_interval``). A job that runs late is looked at again after half of its lateness
(so the result waits at most a third of the lateness, and calls grow only logarithmically), never more often
than ``min_interval`` and never less than ``max_interval``.
"""

from __future__ import annotations

import statistics
import threading
from collections import defaultdict, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class PollTiming:
    first_image: float = 4.0  # first poll of an image job before any duration was learned
    first_video: float = 15.0
    min_interval: float = 0.4
    max_interval: float = 10.0
    error_interval: float = 1.0  # after a failed poll (the client already retried inside the call)

    def default_estimate(self, kind: str) -> float:
        return 2 * (self.first_video if kind == "video" else self.first_image)


def next_delay(elapsed: float, estimate: float, timing: PollTiming) -> float:
    """Seconds until the next poll of a job ``elapsed`` seconds old that usually takes ``estimate``."""
    remaining = estimate - elapsed
    if remaining > timing.min_interval:
        return _clamp(remaining / 2, timing)
    return _clamp(-remaining / 2, timing)


def _clamp(delay: float, timing: PollTiming) -> float:
    return min(max(delay, timing.min_interval), timing.max_interval)


class DurationEstimator:
    """Median of the last completions per (kind, model): robust to one odd job, quick to follow a change."""

    def __init__(self, timing: PollTiming, window: int = 7) -> None:
        self._timing = timing
        self._samples: defaultdict[tuple[str, str], deque[float]] = defaultdict(lambda: deque(maxlen=window))
        self._lock = threading.Lock()

    def estimate(self, kind: str, model: str) -> float:
        with self._lock:
            samples = self._samples.get((kind, model))
            if not samples:
                return self._timing.default_estimate(kind)
            return statistics.median(samples)

    def record(self, kind: str, model: str, duration: float) -> None:
        if duration > 0:
            with self._lock:
                self._samples[(kind, model)].append(duration)
