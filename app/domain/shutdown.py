"""The worker's notice that it is going away: SIGTERM (a deploy, the platform's daily restart, a scale-down).

gunicorn stops accepting connections at once and gives the requests in flight ``GRACEFUL_TIMEOUT_SECONDS``;
then the process ends (the master kills it) and whatever still runs is cut off without a word. ``Shutdown``
is how the domain keeps the history id promise through that:

- a generation that finishes within the window is answered as usual;
- a generation still running ``ANSWER_MARGIN_SECONDS`` before the window closes is answered at that moment
  with ``ServiceRestartingError`` carrying its history id (``GET /v1/tasks/{history_id}`` fetches it later);
- nothing new is submitted once the notice came (503 without a history id: nothing was spent, a retry goes
  to a worker that stays).

The margin covers gunicorn noticing the signal (its worker loop sleeps 1 s), the follow loop's own check
interval and the writing of the answers. A window shorter than the margin answers at once.

``begin`` only stores a number (the first call wins), so a signal handler may call it; the follow loop reads
``seconds_left`` at every wake-up. No thread, no lock, no framework.
"""

from __future__ import annotations

import time
from collections.abc import Callable

ANSWER_MARGIN_SECONDS = 5.0


class Shutdown:
    def __init__(
        self,
        grace_seconds: float,
        *,
        margin: float = ANSWER_MARGIN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.grace_seconds = grace_seconds
        self.margin = margin
        self._clock = clock
        self._began: float | None = None

    def begin(self) -> None:
        """The notice came (idempotent: a second SIGTERM, from the platform and then the master, changes
        nothing; the window counts from the first)."""
        if self._began is None:
            self._began = self._clock()

    @property
    def begun(self) -> bool:
        return self._began is not None

    def seconds_left(self) -> float | None:
        """Seconds until the generations still followed must be answered; None while no notice came."""
        if self._began is None:
            return None
        answer_at = self._began + max(0.0, self.grace_seconds - self.margin)
        return max(0.0, answer_at - self._clock())

    def due(self) -> bool:
        """Time to answer every generation still followed."""
        return self.seconds_left() == 0.0
