"""A generation's state as a pure function of elapsed time: nothing runs in the background.

Success: status 20 for the first 30 % of the generation time T, 42 until 60 %, then 45 while the items
appear one by one (item k of n at 0.6·T + 0.4·T·k/n), and 50 with every item at exactly T.
Failure: 20, then 42, then status 30 with no items at 50 % of T.
"""

from __future__ import annotations

import dataclasses
import math

PROCESSING = 20
POST_PROCESSING = 42
FINALIZING = 45
COMPLETED = 50
FAILED = 30
TERMINAL = frozenset({COMPLETED, FAILED})

PROCESSING_SHARE = 0.3
ITEMS_START_SHARE = 0.6
FAIL_SHARE = 0.5


@dataclasses.dataclass(frozen=True)
class Snapshot:
    status: int
    visible_items: int
    terminal: bool


def ready_after(duration: float, failed: bool) -> float:
    """Seconds from creation to the terminal status."""
    return duration * FAIL_SHARE if failed else duration


def snapshot(elapsed: float, duration: float, items: int, failed: bool) -> Snapshot:
    """The status and number of visible items ``elapsed`` seconds after creation."""
    if elapsed >= ready_after(duration, failed):
        return Snapshot(FAILED, 0, True) if failed else Snapshot(COMPLETED, items, True)
    if elapsed < duration * PROCESSING_SHARE:
        return Snapshot(PROCESSING, 0, False)
    items_start = duration * ITEMS_START_SHARE
    if failed or elapsed < items_start:
        return Snapshot(POST_PROCESSING, 0, False)
    window = duration - items_start
    visible = min(items, math.floor((elapsed - items_start) * items / window) + 1)
    return Snapshot(FINALIZING, visible, False)
