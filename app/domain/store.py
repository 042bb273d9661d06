"""The small shared store the service keeps its cross-request state in (idempotency records, generations in
flight): one interface, two implementations (``app/state``): SQLite for the workers of one machine, Redis
for several replicas.

Values are short strings (JSON written by their owner); every key expires. The operations are the ones a
claim needs to be race-free across processes: create-if-absent and compare-and-swap, a counter, and lease
sets (members that each expire unless renewed, added only below a limit: the slots of the per-session
concurrency caps and the waiters of their queue, ``app/domain/capacity.py``).

Every ``ttl`` is a positive, finite number of seconds (anything else raises ValueError: a caller's bug).
Any failure of the store itself raises StoreUnavailableError.
"""

from __future__ import annotations

from typing import Protocol


class StoreUnavailableError(Exception):
    """The store could not be reached or answered nonsense; callers decide whether to proceed without it."""


class StateStore(Protocol):
    def create(self, key: str, value: str, ttl: float) -> bool:
        """Set ``key`` only if it is absent (or expired); True when this call created it."""
        ...

    def get(self, key: str) -> str | None:
        """The value of ``key``, or None when it is absent or expired."""
        ...

    def put(self, key: str, value: str, ttl: float) -> None:
        """Set ``key`` unconditionally, expiring ``ttl`` seconds from now."""
        ...

    def swap(self, key: str, expected: str, value: str | None, ttl: float) -> bool:
        """Replace the value of ``key`` only while it is still ``expected`` (None deletes it); True on success."""
        ...

    def delete(self, key: str) -> None: ...

    def add(self, key: str, delta: int, ttl: float) -> int:
        """Add ``delta`` to the integer at ``key`` (0 when absent) and return the new value; a key created by
        this call expires after ``ttl`` seconds, an existing one keeps its expiry. A value that is not an
        integer raises StoreUnavailableError."""
        ...

    def lease(self, key: str, member: str, ttl: float, limit: int | None = None) -> bool:
        """Hold ``member`` in the lease set ``key`` until ``ttl`` seconds from now: a member already held is
        renewed; a new one is added only while fewer than ``limit`` live members are held (None: no limit).
        True when ``member`` is held now. The set itself expires with its last member."""
        ...

    def unlease(self, key: str, member: str) -> bool:
        """Drop ``member`` from the lease set ``key``; True when it was held."""
        ...

    def leases(self, key: str) -> list[str]:
        """The live members of the lease set ``key``, sorted (empty when none)."""
        ...

    def close(self) -> None: ...
