"""Total readers for upstream JSON of unknown quality: a wrong type reads as "absent", never as an exception."""

from __future__ import annotations

import threading
from typing import Any

from loguru import logger

MAX_LOGGED = 256  # distinct problems remembered by ``once``; beyond them the log stays quiet rather than grow
_logged: set[str] = set()
_logged_guard = threading.Lock()


def member(value: Any, name: str) -> Any:
    """``value[name]`` of an object, None for anything else."""
    return value.get(name) if isinstance(value, dict) else None


def items(value: Any) -> list[Any]:
    """A JSON array, or the empty list."""
    return value if isinstance(value, list) else []


def text(value: Any) -> str:
    """A trimmed string, or ""."""
    return value.strip() if isinstance(value, str) else ""


def number(value: Any) -> int | None:
    """A whole number sent as a number or a digit string; None (absent) for anything else, booleans included."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def unique(values: Any) -> tuple[Any, ...]:
    """The values once each, first occurrence first."""
    return tuple(dict.fromkeys(values))


def short(value: Any, limit: int = 80) -> str:
    """A bounded ``repr`` for log lines."""
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def once(problem: str) -> None:
    """Log a problem once per process: the same answer comes back on every refresh."""
    with _logged_guard:
        if problem in _logged or len(_logged) >= MAX_LOGGED:
            return
        _logged.add(problem)
    logger.warning("Jimeng's model table: {}", problem)
