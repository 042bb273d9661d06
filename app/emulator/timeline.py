"""A generation's state as a pure function of elapsed time: nothing runs in the background (2026 notes 5.2).

With T the generation time and X an explicit queue (``[queue=…]``), the success script is: status 0
(queued, ``queue_idx`` counting down) for X + ``queue_share``·T, 20 until X + 0.3·T, 42 until X + 0.6·T, 45
while the items appear one by one (item k of n at X + 0.6·T + 0.4·T·k/n), and 50 with every item at X + T.
Other scripts end early with no items: 10 (pre_check_reject) at X + 0.3·T, 30 (failed) and 100 (deleted) at
X + 0.5·T, 40 (post_check_reject) at X + T; ``stall45`` shows 45 with 0 items until X + T, then 50.
A job of more than four images stops after four at 42 (``first_batch``) until a continuation arrives, then
shows 45 while the rest appear over another T, and 50.
"""

from __future__ import annotations

import dataclasses
import math

QUEUED = 0
PRE_CHECK_REJECT = 10
PROCESSING = 20
FAILED = 30
POST_CHECK_REJECT = 40
POST_PROCESSING = 42
FINALIZING = 45
COMPLETED = 50
DELETED = 100
TERMINAL = frozenset({PRE_CHECK_REJECT, FAILED, POST_CHECK_REJECT, COMPLETED, DELETED})

PROCESSING_SHARE = 0.3
ITEMS_START_SHARE = 0.6
FAIL_SHARE = 0.5
# script -> (share of T at which it ends, terminal status)
ENDINGS = {
    "success": (1.0, COMPLETED),
    "stall45": (1.0, COMPLETED),
    "fail30": (FAIL_SHARE, FAILED),
    "reject10": (PROCESSING_SHARE, PRE_CHECK_REJECT),
    "reject40": (1.0, POST_CHECK_REJECT),
    "deleted100": (FAIL_SHARE, DELETED),
}


@dataclasses.dataclass(frozen=True)
class Plan:
    """Everything the timeline of one generation depends on, fixed at submission."""

    duration: float  # T
    items: int
    first_batch: int  # items made before a continuation is needed (== items when none is)
    script: str = "success"
    queue: float = 0.0  # X, seconds queued before the work starts
    queue_share: float = 0.0
    queue_position: int = 0

    @property
    def queue_end(self) -> float:
        return self.queue + self.queue_share * self.duration


@dataclasses.dataclass(frozen=True)
class Snapshot:
    status: int
    visible_items: int
    terminal: bool
    queue_idx: int = 0
    queue_left: float = 0.0


def ends_after(plan: Plan, continued: float | None) -> float | None:
    """Seconds from creation to the terminal status; None while a continuation is awaited."""
    share, _ = ENDINGS[plan.script]
    end = plan.queue + plan.duration * share
    if plan.script != "success" or plan.first_batch >= plan.items:
        return end
    return None if continued is None else max(continued, end) + plan.duration


def _appearing(elapsed: float, start: float, window: float, count: int) -> int:
    """How many of ``count`` items spread over ``window`` from ``start`` are visible (the first at once)."""
    if window <= 0:
        return count
    return min(count, math.floor((elapsed - start) * count / window) + 1)


def snapshot(plan: Plan, elapsed: float, continued: float | None = None) -> Snapshot:
    """The status and number of visible items ``elapsed`` seconds after creation (``continued``: idem)."""
    end = ends_after(plan, continued)
    if end is not None and elapsed >= end:
        status = ENDINGS[plan.script][1]
        return Snapshot(status, plan.items if status == COMPLETED else 0, True)
    queue_end = plan.queue_end
    if elapsed < queue_end:
        index = int(plan.queue_position * (queue_end - elapsed) / queue_end)
        return Snapshot(QUEUED, 0, False, min(index, plan.queue_position), queue_end - elapsed)
    work, duration = elapsed - plan.queue, plan.duration
    if work < duration * PROCESSING_SHARE:
        return Snapshot(PROCESSING, 0, False)
    if plan.script in ("fail30", "reject40", "deleted100") or work < duration * ITEMS_START_SHARE:
        return Snapshot(POST_PROCESSING, 0, False)
    if work < duration:
        if plan.script == "stall45":
            return Snapshot(FINALIZING, 0, False)
        start = duration * ITEMS_START_SHARE
        return Snapshot(FINALIZING, _appearing(work, start, duration - start, plan.first_batch), False)
    if continued is None or elapsed < continued:
        return Snapshot(POST_PROCESSING, plan.first_batch, False)  # held: "continue generating" (3.3)
    rest = plan.items - plan.first_batch
    return Snapshot(FINALIZING, plan.first_batch + _appearing(elapsed, continued, duration, rest), False)
