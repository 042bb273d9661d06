"""How ``n`` images become jobs (2026 section 3.3): one job makes at most a few images, so more are split.

Above 4 images the upstream makes 4, then parks the record until the client confirms a continuation whose
form is disputed. Splitting ``n`` into several jobs of at most ``per_job`` images costs the same per image and
keeps every job independent, so the continuation is never needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def split_count(n: int, options: Sequence[int], per_job: int) -> tuple[int, ...] | None:
    """Job sizes that add up to ``n``, each one of ``options`` and at most ``per_job``, in as few jobs as
    possible, largest first (6 -> 4 + 2, 10 -> 4 + 4 + 2); None when no split exists (options [4], n 6)."""
    allowed = sorted({count for count in options if 1 <= count <= per_job}, reverse=True)
    if n < 1 or not allowed:
        return None
    for jobs in range(math.ceil(n / allowed[0]), n + 1):
        found = _split(n, jobs, allowed)
        if found is not None:
            return found
    return None


def _split(n: int, jobs: int, allowed: list[int]) -> tuple[int, ...] | None:
    """``n`` as exactly ``jobs`` members of ``allowed`` (descending), non-increasing, largest first."""
    if jobs == 0:
        return () if n == 0 else None
    for count in allowed:
        if count > n or count * jobs < n:
            continue
        rest = _split(n - count, jobs - 1, [smaller for smaller in allowed if smaller <= count])
        if rest is not None:
            return (count, *rest)
    return None
