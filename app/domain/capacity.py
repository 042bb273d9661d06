"""Per-session concurrency caps and the fair queue in front of them, shared by every worker and replica.

Jimeng runs only a few generations per account at a time (``ret 1010`` past that). Each session gets a cap
(``SESSION_CONCURRENCY``); a request that finds every usable session of its pool at its cap waits in a queue
instead of failing, and is let in when a slot frees:

- **Slots** are the lease set ``slots:<session digest>`` of the store: one member per running part, added only
  below the cap, so two processes can never overshoot it. A ``1010`` answer adds a cool-down member (the cap is
  one lower for ``backoff_seconds``; at least one slot stays).
- **The queue** is the lease set ``queue:<pool digest>`` of waiting requests, each member
  ``<arrival number>|<caller>|<token>``. Its fair order: each caller's requests in arrival order, the callers
  taking turns (round-robin: the k-th waiting request of every caller before any caller's (k+1)-th).
  A request admitted and not yet submitted stays in ``order:<pool digest>`` until its submit returned: the
  same caller's next request waits for it, so each caller's submits reach Jimeng in arrival order.
- **Leases** run ``lease_seconds`` and are renewed by a keeper thread of the process holding them; a worker
  that dies stops renewing, and its slots and places free themselves within the lease time.

One keeper thread per process reads each pool's queue and slots every ``step_seconds`` (not each waiter: the
cost does not grow with the number of waiting requests) and tells its own waiters how many requests are
ahead and whether to try for a slot now (fewer eligible requests ahead than free slots).
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from loguru import logger

from app.domain.errors import ClientGoneError, GenerationTimeoutError
from app.domain.observe import Observer, Silent
from app.domain.store import StateStore, StoreUnavailableError

SEQ_KEY = "queue-seq"
SEQ_TTL = 30 * 24 * 3600.0
COOL = "~cool"  # members of a slot set that hold a place after a 1010, not a running part


@dataclass(frozen=True, kw_only=True)
class CapacitySettings:
    cap: int  # running parts per session (SESSION_CONCURRENCY; 0: no cap, no queue)
    lease_seconds: float = 30.0  # SLOT_LEASE_SECONDS: a dead worker's slots free themselves within it
    step_seconds: float = 0.1  # how often the keeper looks at the queue
    backoff_seconds: float = 60.0  # CAP_BACKOFF_SECONDS: how long a 1010 lowers the session's cap


def digest(text: str, size: int = 16) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def pool_key(sessions: list[str]) -> str:
    return digest("\n".join(sorted(set(sessions))))


@dataclass(frozen=True, order=True)
class Place:
    """One waiting request's member of a queue."""

    seq: int
    caller: str
    token: str

    @property
    def member(self) -> str:
        return f"{self.seq:016d}|{self.caller}|{self.token}"

    @staticmethod
    def parse(member: str) -> Place | None:
        parts = member.split("|")
        if len(parts) != 3 or not parts[0].isdigit():
            return None
        return Place(int(parts[0]), parts[1], parts[2])


def fair_order(places: list[Place]) -> list[Place]:
    """Each caller's places in arrival order, the callers taking turns: (turn, arrival)."""
    turns: dict[str, int] = {}
    keyed = []
    for place in sorted(places):
        turn = turns.get(place.caller, 0)
        turns[place.caller] = turn + 1
        keyed.append(((turn, place.seq), place))
    return [place for _, place in sorted(keyed)]


@dataclass(frozen=True)
class QueueView:
    """What the keeper tells one waiter: how many are ahead, and which sessions have slots to try now."""

    ahead: int
    free: tuple[str, ...]


def review(waiting: list[Place], admitted: list[Place], free: int) -> dict[str, tuple[int, bool]]:
    """For each waiting member: (requests ahead of it in fair order, whether it may try for a slot now). A
    member waits while an earlier request of its caller is waiting or admitted and not yet submitted; the
    others try in fair order while there are free slots."""
    earliest: dict[str, int] = {}
    for place in (*waiting, *admitted):
        earliest[place.caller] = min(earliest.get(place.caller, place.seq), place.seq)
    answer: dict[str, tuple[int, bool]] = {}
    eligible = 0
    for ahead, place in enumerate(fair_order(waiting)):
        first_of_caller = earliest[place.caller] == place.seq
        answer[place.member] = (ahead, first_of_caller and eligible < free)
        eligible += first_of_caller
    return answer


@dataclass(eq=False)
class _Waiter:
    pool: str
    place: Place
    sessions: list[str]
    event: threading.Event = field(default_factory=threading.Event)
    view: QueueView | None = None
    may_try: bool = False


class Grant:
    """Slots on one session for one request's parts: released part by part as they end (or all at once when
    nothing was submitted). ``submitted()`` lets the caller's next request in."""

    def __init__(self, capacity: Capacity, session_id: str, holders: list[str], pool: str, place: Place) -> None:
        self.session_id = session_id
        self.waited = 0.0
        self._capacity = capacity
        self._holders = list(holders)
        self._pool = pool
        self._place: Place | None = place
        self._arrival = place.seq

    @property
    def held(self) -> int:
        return len(self._holders)

    @property
    def arrival(self) -> int:
        """The request's arrival number: a request queued again (after a 1010) keeps its place by it."""
        return self._arrival

    def submitted(self) -> None:
        """The request's submits returned (accepted or not): its caller's next request may go."""
        if self._place is not None:
            self._capacity._leave_order(self._pool, self._place)
            self._place = None

    def release_one(self) -> None:
        if self._holders:
            self._capacity._release(self.session_id, self._holders.pop())

    def release(self) -> None:
        """Every slot still held, and the order mark."""
        self.submitted()
        while self._holders:
            self.release_one()

    def keep(self, count: int) -> list[str]:
        """Keep ``count`` slots (one per submitted part), release the rest; the kept holders, one per part."""
        while len(self._holders) > count:
            self.release_one()
        return list(self._holders)


class Capacity:
    def __init__(
        self,
        store: StateStore,
        settings: CapacitySettings,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        observer: Observer | None = None,
    ) -> None:
        self.settings = settings
        self._observer: Observer = observer or Silent()  # metrics: requests waiting, their wait
        self._store = store
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._waiters: dict[str, list[_Waiter]] = {}
        self._held: dict[str, str] = {}  # holder -> slot key, renewed by the keeper
        self._order: dict[str, str] = {}  # member -> order key, renewed by the keeper
        self._by_history: dict[str, tuple[str, str]] = {}  # history id -> (session id, holder)
        self._waited: dict[str, float] = {}  # history id -> seconds its request waited for a slot
        self._thread: threading.Thread | None = None
        self._poke = threading.Event()  # something freed up: review at once
        self._renewed_at = float("-inf")

    @property
    def enabled(self) -> bool:
        return self.settings.cap > 0

    # -- the waiting side ----------------------------------------------------------------------------------

    def acquire(
        self,
        sessions: list[str],
        parts: int,
        *,
        caller: str,
        timeout: float,
        client_gone: Callable[[], bool] | None = None,
        on_wait: Callable[[int], None] | None = None,
        arrival: int | None = None,
    ) -> Grant:
        """Slots for ``parts`` parts (at most the cap) on one of ``sessions`` (best first), waiting in the fair
        queue of the pool for up to ``timeout`` seconds (GenerationTimeoutError after it; nothing submitted).
        ``on_wait(n)`` is told the requests ahead whenever that number changes while waiting. ``arrival``: the
        number of an earlier ``Grant`` of the same request, queued again, which keeps its place in line."""
        started = self._monotonic()
        pool = pool_key(sessions)
        seq = arrival if arrival is not None else self._store.add(SEQ_KEY, 1, SEQ_TTL)
        place = Place(seq, digest(caller, 12), uuid.uuid4().hex[:12])
        waiter = _Waiter(pool, place, list(sessions))
        self._store.lease(f"queue:{pool}", place.member, self.settings.lease_seconds)
        with self._lock:
            self._waiters.setdefault(pool, []).append(waiter)
        self._ensure_keeper()
        told: int | None = None
        self._observer.queued(1)
        try:
            while True:
                waiter.event.wait(timeout=self.settings.step_seconds * 4)
                waiter.event.clear()
                view = waiter.view
                if view is not None and waiter.may_try:
                    grant = self._try(waiter, view, parts)
                    if grant is not None:
                        grant.waited = self._monotonic() - started
                        self._observer.waited(grant.waited)
                        return grant
                if view is not None and on_wait is not None and view.ahead != told:
                    told = view.ahead
                    on_wait(view.ahead)
                if client_gone is not None and client_gone():
                    raise ClientGoneError("client left while waiting for a free slot; nothing was submitted")
                if self._monotonic() - started > timeout:
                    raise GenerationTimeoutError(
                        f"Every session of the pool stayed at its concurrency cap for {timeout:.0f}s; "
                        "nothing was submitted: try again later",
                    )
        finally:
            self._observer.queued(-1)
            with self._lock:
                local = self._waiters.get(pool, [])
                if waiter in local:
                    local.remove(waiter)
                if not local:
                    self._waiters.pop(pool, None)
            self._quietly(lambda: self._store.unlease(f"queue:{pool}", place.member))

    def _try(self, waiter: _Waiter, view: QueueView, parts: int) -> Grant | None:
        """Take ``parts`` slots (at most the cap) on the first session with room, in the waiter's order."""
        wanted = max(1, min(parts, self.settings.cap))
        order_key = f"order:{waiter.pool}"
        # marked before the slots: a later request of the caller must not slip in between
        self._store.lease(order_key, waiter.place.member, self.settings.lease_seconds)
        with self._lock:
            self._order[waiter.place.member] = order_key
        for session_id in [s for s in waiter.sessions if s in view.free]:
            key = slot_key(session_id)
            holders: list[str] = []
            for _ in range(wanted):
                holder = f"{waiter.place.member}|{len(holders)}"
                if not self._store.lease(key, holder, self.settings.lease_seconds, limit=self.settings.cap):
                    break
                holders.append(holder)
                with self._lock:
                    self._held[holder] = key
            if len(holders) == wanted:
                self._store.unlease(f"queue:{waiter.pool}", waiter.place.member)
                return Grant(self, session_id, holders, waiter.pool, waiter.place)
            for holder in holders:
                self._release(session_id, holder)
        self._leave_order(waiter.pool, waiter.place)
        waiter.may_try = False
        return None

    # -- after the submit ----------------------------------------------------------------------------------

    def attach(self, grant: Grant, history_ids: list[str]) -> None:
        """The parts Jimeng accepted, one slot each (the rest released): each slot is released when its part
        ends (``finish``)."""
        holders = grant.keep(len(history_ids))
        with self._lock:
            for history_id, holder in zip(history_ids, holders, strict=False):
                self._by_history[history_id] = (grant.session_id, holder)
                self._waited[history_id] = grant.waited

    def holds(self, history_id: str) -> bool:
        with self._lock:
            return history_id in self._by_history

    def waited(self, history_id: str) -> float:
        """Seconds the request of ``history_id`` waited for its slot (its deadline includes them)."""
        with self._lock:
            return self._waited.get(history_id, 0.0)

    def finish(self, history_id: str) -> None:
        """Generation ``history_id`` ended: its slot is free."""
        with self._lock:
            found = self._by_history.pop(history_id, None)
            self._waited.pop(history_id, None)
        if found is not None:
            self._release(*found)

    def abandon(self, history_id: str) -> None:
        """Nobody follows generation ``history_id`` any more (its client left): its slot is no longer renewed
        and frees itself within the lease, without polling a generation nobody waits for."""
        with self._lock:
            found = self._by_history.pop(history_id, None)
            self._waited.pop(history_id, None)
            if found is not None:
                self._held.pop(found[1], None)

    def cool(self, session_id: str) -> None:
        """Jimeng said 1010 on this session: its cap is one lower for ``backoff_seconds`` (at least one slot)."""
        key = slot_key(session_id)
        try:
            cooling = sum(1 for m in self._store.leases(key) if m.startswith(COOL))
            if cooling < self.settings.cap - 1:
                self._store.lease(key, f"{COOL}|{uuid.uuid4().hex[:12]}", self.settings.backoff_seconds)
        except StoreUnavailableError as err:
            logger.warning("could not lower a session's cap in the state store: {}", err)

    def running(self, session_id: str) -> int:
        """Slots of the session taken now (by any process), cool-downs included."""
        return len(self._store.leases(slot_key(session_id)))

    # -- the keeper ------------------------------------------------------------------------------------------

    def _ensure_keeper(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._keep, name="capacity", daemon=True)
                self._thread.start()

    def _keep(self) -> None:
        while True:
            try:
                self.tick()
            except StoreUnavailableError as err:
                logger.warning("capacity keeper: state store unavailable: {}", err)
            except Exception:  # never let the keeper die: leases would run out under running jobs
                logger.exception("capacity keeper failed a round")
            self._poke.wait(timeout=self.settings.step_seconds)
            self._poke.clear()

    def tick(self) -> None:
        """One round: renew this process's leases when due, then review every pool with local waiters."""
        now = self._monotonic()
        if now - self._renewed_at >= self.settings.lease_seconds / 3:
            self._renewed_at = now
            self._renew()
        with self._lock:
            pools = {pool: list(waiters) for pool, waiters in self._waiters.items() if waiters}
        for pool, waiters in pools.items():
            self._review(pool, waiters)

    def _renew(self) -> None:
        ttl = self.settings.lease_seconds
        with self._lock:
            held, order = dict(self._held), dict(self._order)
            waiting = [(f"queue:{w.pool}", w.place.member) for ws in self._waiters.values() for w in ws]
        for holder, key in held.items():
            self._store.lease(key, holder, ttl)
        for member, key in order.items():
            self._store.lease(key, member, ttl)
        for key, member in waiting:
            self._store.lease(key, member, ttl)

    def _review(self, pool: str, waiters: list[_Waiter]) -> None:
        waiting = [p for m in self._store.leases(f"queue:{pool}") if (p := Place.parse(m)) is not None]
        admitted = [p for m in self._store.leases(f"order:{pool}") if (p := Place.parse(m)) is not None]
        sessions = waiters[0].sessions
        room = {s: self.settings.cap - len(self._store.leases(slot_key(s))) for s in sessions}
        free = tuple(s for s, n in room.items() if n > 0)
        verdicts = review(waiting, admitted, sum(max(n, 0) for n in room.values()))
        for waiter in waiters:
            ahead, may_try = verdicts.get(waiter.place.member, (0, False))
            waiter.view = QueueView(ahead, free)
            waiter.may_try = may_try and bool(free)
            waiter.event.set()

    # -- releasing -------------------------------------------------------------------------------------------

    def _release(self, session_id: str, holder: str) -> None:
        with self._lock:
            self._held.pop(holder, None)
        self._quietly(lambda: self._store.unlease(slot_key(session_id), holder))
        self._nudge()

    def _leave_order(self, pool: str, place: Place) -> None:
        with self._lock:
            self._order.pop(place.member, None)
        self._quietly(lambda: self._store.unlease(f"order:{pool}", place.member))
        self._nudge()

    def _nudge(self) -> None:
        """Something freed up: the keeper reviews this process's waiters at once."""
        self._poke.set()

    @staticmethod
    def _quietly(call: Callable[[], object]) -> None:
        """A release the store cannot take now: the lease runs out by itself."""
        try:
            call()
        except StoreUnavailableError as err:
            logger.warning("capacity: state store unavailable ({}); the lease will run out by itself", err)


def slot_key(session_id: str) -> str:
    return f"slots:{digest(session_id)}"
