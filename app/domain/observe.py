"""What the service tells its metrics about, without knowing how they are kept.

The domain and the client report events to an ``Observer``; ``app/metrics.py`` implements it with
prometheus-client, ``Silent`` (the default) drops them, so nothing in the domain depends on a metrics library.
Every method is cheap and never raises.
"""

from __future__ import annotations

from typing import Protocol


class Observer(Protocol):
    def generation_ended(self, *, model: str, kind: str, outcome: str) -> None:
        """One generation (one part, one history id) ended: succeeded, failed, timeout or abandoned."""
        ...

    def polls(self, count: int) -> None:
        """Polls one generation took until the poller saw it end."""
        ...

    def added_latency(self, seconds: float) -> None:
        """From the poll that first saw a generation finished to its result handed to the client."""
        ...

    def in_flight(self, count: int) -> None:
        """Generations this process polls now."""
        ...

    def queued(self, delta: int) -> None:
        """A request began (+1) or stopped (-1) waiting for a slot of the concurrency caps."""
        ...

    def waited(self, seconds: float) -> None:
        """A request got its slot after waiting this long."""
        ...

    def upstream_call(self, path: str, outcome: str) -> None:
        """One HTTP exchange with Jimeng or ImageX: ``path`` a bounded label, ``outcome`` ok/http_<code>/error."""
        ...

    def webhook(self, outcome: str) -> None:
        """One webhook delivery attempt: delivered, retry or dropped; or one not registered (store down)."""
        ...


class Silent:
    """An Observer that keeps nothing (unit tests, metrics off)."""

    def generation_ended(self, *, model: str, kind: str, outcome: str) -> None:
        pass

    def polls(self, count: int) -> None:
        pass

    def added_latency(self, seconds: float) -> None:
        pass

    def in_flight(self, count: int) -> None:
        pass

    def queued(self, delta: int) -> None:
        pass

    def waited(self, seconds: float) -> None:
        pass

    def upstream_call(self, path: str, outcome: str) -> None:
        pass

    def webhook(self, outcome: str) -> None:
        pass
