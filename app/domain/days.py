"""Jimeng's day: its daily free credits and daily generation caps follow Asia/Shanghai, whatever the caller's
time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

SHANGHAI = timedelta(hours=8)  # UTC+8, no daylight saving


def shanghai_day(now: datetime | None = None) -> str:
    return ((now or datetime.now(UTC)) + SHANGHAI).strftime("%Y-%m-%d")


def seconds_to_shanghai_midnight(now: float) -> float:
    """Seconds from the unix time ``now`` to the next midnight in Shanghai (at least one)."""
    local = datetime.fromtimestamp(now, UTC) + SHANGHAI
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (midnight - local).total_seconds())
