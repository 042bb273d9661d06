"""Introspection counters behind ``GET /__stats``: requests, faults, refusals, per-generation timings."""

from __future__ import annotations

import collections
import threading
import time
from typing import Any

from app.emulator.state import State

RECENT_REFUSALS = 100


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._by_path: collections.Counter[str] = collections.Counter()
            self._by_session: collections.Counter[str] = collections.Counter()
            self._faults: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
            self._refusals: collections.Counter[str] = collections.Counter()
            self._recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=RECENT_REFUSALS)
            self._totals: collections.Counter[str] = collections.Counter()
            self._media: collections.Counter[str] = collections.Counter()
            self._sites: dict[str, dict[str, collections.Counter[str]]] = {}
            self._via: dict[str, collections.Counter[str]] = {"by_path": collections.Counter(),
                                                              "by_session": collections.Counter()}  # fmt: skip
            self._peak_running: dict[str, int] = {}

    def request(self, route: str, session_id: str | None) -> None:
        with self._lock:
            self._by_path[route] += 1
            if session_id:
                self._by_session[session_id] += 1

    def site_request(self, cluster: str, route: str, session_id: str | None, facts: dict[str, str]) -> None:
        """Per cluster: requests by path and session, and each value of aid, region, Appid, Loc, Lan,
        store-country-code, the ImageX credential region; requests that came through a proxy (``Via``)."""
        with self._lock:
            site = self._sites.setdefault(cluster, collections.defaultdict(collections.Counter))
            site["by_path"][route] += 1
            if session_id:
                site["by_session"][session_id] += 1
            for name, value in facts.items():
                if name != "via":
                    site[name][value] += 1
            if facts.get("via"):
                self._via["by_path"][route] += 1
                if session_id:
                    self._via["by_session"][session_id] += 1

    def served(self, cluster: str, session_id: str) -> None:
        """A cookie-API call of ``session_id`` answered (not refused) by ``cluster``: ``sites.<c>.served``."""
        with self._lock:
            site = self._sites.setdefault(cluster, collections.defaultdict(collections.Counter))
            site["served"][session_id] += 1

    def fault(self, group: str, kind: str) -> None:
        with self._lock:
            self._faults[group][kind] += 1

    def refusal(self, route: str, reason: str, message: str) -> None:
        with self._lock:
            self._refusals[reason] += 1
            self._recent.append({"time": time.time(), "path": route, "reason": reason, "message": message})

    def total(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._totals[name] += amount

    def running(self, session_id: str, count: int) -> None:
        """Generations of the session not finished right after a new one was created: its peak is kept."""
        with self._lock:
            self._peak_running[session_id] = max(self._peak_running.get(session_id, 0), count)

    def media(self, kind: str) -> None:
        with self._lock:
            self._media[kind] += 1

    def snapshot(self, state: State, now: float) -> dict[str, Any]:
        with self._lock:
            by_path = dict(self._by_path)
            requests: dict[str, Any] = {"by_path": by_path, "by_session": dict(self._by_session),
                                        "via": {name: dict(counts) for name, counts in self._via.items()}}  # fmt: skip
            counters: dict[str, Any] = {
                "requests": requests,
                "faults": {group: dict(kinds) for group, kinds in self._faults.items()},
                "refusals": dict(self._refusals),
                "recent_refusals": list(self._recent),
                "totals": dict(self._totals),
                "media": dict(self._media),
                "sites": {
                    name: {fact: dict(counts) for fact, counts in site.items()} for name, site in self._sites.items()
                },
                "peak_running": dict(self._peak_running),
            }
        requests["total"] = sum(by_path.values())
        counters.update(_generation_stats(state, now))
        return counters


def _generation_stats(state: State, now: float) -> dict[str, Any]:
    """Per generation (``generations``), per submit id (``submit_ids``) and the images made so far."""
    with state.lock:
        generations = list(state.generations.values())
        submit_counts: collections.Counter[str] = collections.Counter()
        for (_, submit_id), ids in state.by_submit.items():
            submit_counts[submit_id] += len(ids)
    per_history: dict[str, dict[str, Any]] = {}
    made = 0
    for g in generations:
        snap = g.snapshot(now)
        per_history[g.history_id] = {
            "submit_id": g.submit_id,
            "session": g.session_id,
            "kind": g.kind,
            "model": g.model,
            "items": g.items,
            "images_made": snap.visible_items,
            "gen_count": g.gen_count,
            "gen_count_placement": g.gen_count_placement,
            "resolution": g.resolution,
            "width": g.width,
            "height": g.height,
            "benefit_type": g.benefit_type,
            "script": g.plan.script,
            "fail_code": g.fail_code,
            "charged": g.charged,
            "created": g.created,
            "ready": g.ready,
            "continued": g.continued,
            "first_terminal_answer": g.first_terminal_answer,
            "poll_count": g.poll_count,
            "status": snap.status,
            "hash_prefix_ok": g.hash_prefix_ok,
            "image_uris": list(g.image_uris),
        }
        made += snap.visible_items if g.kind != "video" else 0
    return {"generations": per_history, "submit_ids": dict(submit_counts), "images_made": made}
