"""Fault injection: which path group a request belongs to, and what goes wrong with it.

One seedable ``random.Random`` draws every decision, so a seeded run injects the same faults in the same
order (given the same order of requests).
"""

from __future__ import annotations

import dataclasses
import random
import threading

from app.emulator.config import FAULT_PROBABILITIES, Config

_GROUP_BY_PATH = {
    "/mweb/v1/aigc_draft/generate": "generate",
    "/mweb/v1/get_history_by_ids": "poll",
    "/mweb/v1/get_history_queue_info": "poll",
    "/mweb/v1/get_local_item_list": "poll",
    "/mweb/v1/get_image_by_uri": "poll",
    "/commerce/v1/benefits/user_credit": "credit",
    "/commerce/v1/benefits/credit_receive": "credit",
    "/commerce/v1/benefits/user_credit_history": "credit",
    "/passport/account/info/v2": "credit",
    "/mweb/v1/update_settings": "credit",
    "/mweb/v1/get_upload_token": "imagex",
    "/mweb/v1/get_common_config": "config",
    "/mweb/v1/video_generate/get_common_config": "config",
}


def group_for(path: str, action: str | None) -> str | None:
    """The fault group of a request path; None for paths faults never touch."""
    if path == "/" and action:
        return "imagex"
    if path.startswith("/upload/v1/"):
        return "upload"
    return _GROUP_BY_PATH.get(path)


@dataclasses.dataclass(frozen=True)
class FaultPlan:
    """What happens to one request: ``kind`` is one of http_502, http_429, error, reset_before,
    reset_after, truncate or None; ``latency`` is in seconds."""

    kind: str | None = None
    latency: float = 0.0

    @property
    def before(self) -> bool:
        return self.kind in ("http_502", "http_429", "error", "reset_before")

    @property
    def answer_lost(self) -> bool:
        return self.kind in ("reset_after", "truncate")


class FaultInjector:
    def __init__(self, seed: int | None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def chance(self, probability: float) -> bool:
        """One seeded draw: True with ``probability`` (never drawn when it is 0)."""
        if probability <= 0:
            return False
        with self._lock:
            return self._rng.random() < probability

    def plan(self, group: str | None, config: Config) -> FaultPlan:
        """Draw the fault of one request: the group's own table first, then the ``all`` table."""
        if group is None:
            return FaultPlan()
        kind, latency = None, 0.0
        with self._lock:
            for table in (config.faults[group], config.faults["all"]):
                latency += self._latency(table)
                if kind is None:
                    kind = self._kind(table)
        return FaultPlan(kind, latency)

    def _latency(self, table: dict[str, float]) -> float:
        if not table["latency_ms"] and not table["jitter_ms"]:
            return 0.0
        return (table["latency_ms"] + self._rng.uniform(0.0, table["jitter_ms"])) / 1000.0

    def _kind(self, table: dict[str, float]) -> str | None:
        if not any(table[name] for name in FAULT_PROBABILITIES):
            return None
        draw, threshold = self._rng.random(), 0.0
        for name in FAULT_PROBABILITIES:
            threshold += table[name]
            if draw < threshold:
                if name == "reset":
                    return "reset_before" if self._rng.random() < 0.5 else "reset_after"
                return name
        return None
