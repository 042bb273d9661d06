"""Choosing the session that pays for a job, and failing over before Jimeng accepted it.

Account state (logged in, credits) is cached per worker for ``cache_seconds`` and, with ``shared``
(``app/domain/shared_accounts.py``), shared by every worker and replica through the state store: one credit
check per account per period, one daily claim per account per day. It is corrected by every upstream answer
that contradicts it (an expired session, a refused draft, a spent credit). An account that Jimeng's risk
control refused (1019, 4013, -4, -6 ...: ``RiskControlError``, ``AccountRestrictedError``) rests for
``risk_cooldown`` seconds, one that reached its daily limit (121101) until Shanghai's midnight: no worker submits
there meanwhile (the cool-downs are shared too), and the request fails over to another session.
Preference: live, not resting, enough credits, not failed recently, most credits first, random among equals.
When every session is short, each claims its daily free credits once and the choice runs again. After a
draft was accepted the job stays on its session: failover only ever happens around ``submit``, never after it.

One request costs a bounded number of upstream calls whatever the size of its pool: at most ``max_checks``
credit checks (sessions whose balance is cached cost none) and ``max_checks`` daily claims (each session
claims once a day; claiming stops as soon as a session can pay). The per-worker cache keeps the
``max_accounts`` most recently used sessions.
"""

from __future__ import annotations

import random
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from loguru import logger

from app.domain.days import shanghai_day
from app.domain.errors import (
    AccountRestrictedError,
    DailyLimitError,
    InsufficientCreditsError,
    JimengError,
    RiskControlError,
    SessionExpiredError,
)
from app.domain.models import Claim, Credits
from app.domain.shared_accounts import SharedAccounts, account_digest
from app.secrets import mask

T = TypeVar("T")
RECENT_FAILURE_SECONDS = 30.0
DEFAULT_MAX_CHECKS = 10
DEFAULT_MAX_ACCOUNTS = 10_000
_LOCK_STRIPES = 64
DEFAULT_RISK_COOLDOWN_SECONDS = 1800.0
COOLING_ERRORS = (RiskControlError, AccountRestrictedError, DailyLimitError)  # the account must rest: fail over


class AccountBackend(Protocol):
    def credits(self, session_id: str) -> Credits: ...
    def receive_credits(self, session_id: str) -> Claim: ...


@dataclass
class AccountState:
    credits: Credits | None = None
    expired: bool = False
    checked_at: float = float("-inf")
    failed_at: float = float("-inf")
    claimed_on: str | None = None
    unverified: bool = False  # the credit check failed and no balance is known: worth a try, last
    rests_until: float = float("-inf")  # a cool-down after a risk or daily-limit refusal (this worker's clock)
    rest_reason: str = ""  # the refusal's class name


@dataclass
class Budget:
    """The upstream calls one request may still make on the pool's account checks."""

    checks: int
    claims: int

    def take_check(self) -> bool:
        self.checks -= 1
        return self.checks >= 0

    def take_claim(self) -> bool:
        self.claims -= 1
        return self.claims >= 0


@dataclass(frozen=True)
class Candidate:
    session_id: str
    credits: int
    recently_failed: bool


def rank(candidates: list[Candidate], cost: int, rng: random.Random) -> list[str]:
    """Sessions able to pay, best first: not recently failed, then most credits, ties shuffled."""
    able = [c for c in candidates if c.credits >= cost]
    rng.shuffle(able)
    able.sort(key=lambda c: (c.recently_failed, -c.credits))
    return [c.session_id for c in able]


class SessionPool:
    def __init__(
        self,
        backend: AccountBackend,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        day: Callable[[], str] = shanghai_day,
        rng: random.Random | None = None,
        max_checks: int = DEFAULT_MAX_CHECKS,
        max_accounts: int = DEFAULT_MAX_ACCOUNTS,
        shared: SharedAccounts | None = None,
        risk_cooldown: float = DEFAULT_RISK_COOLDOWN_SECONDS,
    ) -> None:
        self._backend = backend
        self._risk_cooldown = risk_cooldown
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._day = day
        self._rng = rng or random.Random()
        self._max_checks = max_checks
        self._max_accounts = max_accounts
        self._states: OrderedDict[str, AccountState] = OrderedDict()
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]
        self._guard = threading.Lock()
        self._shared = shared  # every worker's and replica's view, in the state store (None: this worker's)

    def budget(self) -> Budget:
        """A fresh per-request budget of account calls."""
        return Budget(checks=self._max_checks, claims=self._max_checks)

    def run(
        self, sessions: list[str], cost: int, action: Callable[[str], T], *, chosen: str | None = None
    ) -> tuple[str, T]:
        """Run ``action`` (a submit) on the best session (first on ``chosen``, a session ``choose`` picked a
        moment ago: it is not checked again); fail over on expired, short or resting answers."""
        excluded: set[str] = set()
        budget = self.budget()
        refusal: JimengError | None = None  # Jimeng's own refusal in this request: told as it is when nothing is left
        while True:
            remaining = [s for s in sessions if s not in excluded]
            if chosen is not None and chosen in remaining:
                session_id, chosen = chosen, None
            else:
                try:
                    session_id = self.choose(remaining, cost, all_sessions=sessions, budget=budget)
                except JimengError:
                    if refusal is not None:
                        raise refusal from None
                    raise
            try:
                result = action(session_id)
            except SessionExpiredError:
                self.mark_expired(session_id)
            except InsufficientCreditsError:
                self._update(session_id, credits=Credits(), failed=True)
            except COOLING_ERRORS as err:
                self.rest(session_id, err)
                refusal = err
            else:
                self.spend(session_id, cost)
                return session_id, result
            logger.info("session {} refused the draft before accepting it; failing over", mask(session_id))
            excluded.add(session_id)

    def choose(
        self, sessions: list[str], cost: int, all_sessions: list[str] | None = None, budget: Budget | None = None
    ) -> str:
        """The best live session with ``cost`` credits, claiming daily credits once when all are short.
        Sessions whose stale balance the budget cannot refresh any more are left out."""
        return self.ranked(sessions, cost, all_sessions, budget)[0]

    def ranked(
        self, sessions: list[str], cost: int, all_sessions: list[str] | None = None, budget: Budget | None = None
    ) -> list[str]:
        """Every live session with ``cost`` credits, best first (``choose``'s order; the concurrency caps pick
        the best one with a free slot); the pool's error when there is none."""
        budget = budget or self.budget()
        resting = self.resting(all_sessions or sessions)
        awake = [s for s in sessions if s not in resting]  # a resting account costs no credit check either
        states = {s: st for s in awake if (st := self.state(s, budget)) is not None}
        ranked = rank(self._candidates(states, cost), cost, self._rng)
        if not ranked and self._claim_daily(states, cost, budget):
            ranked = rank(self._candidates(states, cost), cost, self._rng)
        if ranked:
            return ranked
        raise self._no_session_error(all_sessions or sessions, cost, resting)

    def rest(self, session_id: str, err: JimengError) -> None:
        """Jimeng refused the account (risk control, a bar, the daily limit): it rests, in every worker."""
        daily = isinstance(err, DailyLimitError)
        seconds = (err.retry_after or 0.0) if daily else self._risk_cooldown
        if seconds <= 0:
            return
        state = self._remembered(session_id)
        with self._guard:
            state.rests_until, state.rest_reason = self._clock() + seconds, type(err).__name__
            state.failed_at = self._clock()
        if self._shared is not None:
            self._shared.cool(session_id, seconds, type(err).__name__)
        logger.warning("session {} refused by Jimeng ({}): no submit there for {:.0f} s", mask(session_id), err.code,
                       seconds)  # fmt: skip

    def resting(self, sessions: list[str]) -> dict[str, tuple[str, float]]:
        """The sessions of ``sessions`` that rest now: session -> (the refusal's class name, seconds left), from
        this worker's cache and the shared cool-downs (one store call)."""
        now, found = self._clock(), dict[str, tuple[str, float]]()
        with self._guard:
            for session_id in sessions:
                state = self._states.get(session_id)
                if state is not None and state.rests_until > now:
                    found[session_id] = (state.rest_reason, state.rests_until - now)
        shared = self._shared.cooling() if self._shared is not None and sessions else {}
        for session_id in sessions if shared else ():
            far = shared.get(account_digest(session_id))
            if far is not None and far[1] > found.get(session_id, ("", 0.0))[1]:
                found[session_id] = far
        return found

    def census(self) -> dict[str, int]:
        """The sessions this process's cache knows, by state, without asking anything: ``live`` (a balance
        known), ``expired``, ``unverified`` (the credit check failed), ``unchecked`` (not asked yet)."""
        counts = {"live": 0, "expired": 0, "unverified": 0, "unchecked": 0}
        with self._guard:
            states = list(self._states.values())
        for state in states:
            if state.expired:
                counts["expired"] += 1
            elif state.credits is not None:
                counts["live"] += 1
            elif state.unverified:
                counts["unverified"] += 1
            else:
                counts["unchecked"] += 1
        return counts

    def state(self, session_id: str, budget: Budget | None = None) -> AccountState | None:
        """Cached state, refreshed (one call per session at a time) when older than the cache period; None
        when it needs a refresh the ``budget`` has no call left for."""
        with self._lock_for(session_id):
            state = self._remembered(session_id)
            if self._clock() - state.checked_at >= self._cache_seconds:
                if self._adopt(session_id, state):
                    return state
                if budget is not None and not budget.take_check():
                    return None
                self._refresh_shared(session_id, state)
            return state

    def _adopt(self, session_id: str, state: AccountState, found: Credits | bool | None = None) -> bool:
        """What another worker learned within the cache period, taken over; False when there is nothing."""
        if found is None and self._shared is not None:
            found = self._shared.known(session_id)
        if found is None or found is False:
            return False
        if found is True:
            state.expired, state.credits = True, None
        else:
            state.credits, state.expired, state.unverified = found, False, False
        state.checked_at = self._clock()
        return True

    def _refresh_shared(self, session_id: str, state: AccountState) -> None:
        """One credit check for every worker: the one that takes the check asks Jimeng and publishes the
        answer; the others wait for it (and ask themselves only when it gave none)."""
        if self._shared is None:
            self._refresh(session_id, state)
            return
        taken = self._shared.take_check(session_id)
        if not taken:
            if self._adopt(session_id, state, self._shared.wait_for_check(session_id)):
                return
        elif self._adopt(session_id, state):  # another worker published between our look and our lease
            self._shared.done_checking(session_id)
            return
        try:
            self._refresh(session_id, state)
            if state.expired:
                self._shared.publish_expired(session_id)
            elif state.credits is not None and not state.unverified:
                self._shared.publish_credits(session_id, state.credits)
        finally:
            if taken:  # a lease of our own (not one whose holder we gave up waiting for)
                self._shared.done_checking(session_id)

    def _remembered(self, session_id: str) -> AccountState:
        """The cached state of a session (a new one when unknown), kept as the most recently used."""
        with self._guard:
            state = self._states.get(session_id)
            if state is None:
                state = self._states[session_id] = AccountState()
                while len(self._states) > self._max_accounts:
                    self._states.popitem(last=False)
            else:
                self._states.move_to_end(session_id)
            return state

    def remember_credits(self, session_id: str, credits: Credits) -> None:
        """A fresh balance learned elsewhere (token endpoints): saves the next credit check."""
        self._update(session_id, credits=credits)
        self._remembered(session_id).expired = False
        if self._shared is not None:
            self._shared.publish_credits(session_id, credits)

    def claimed_today(self, session_id: str) -> bool:
        """Whether this worker already claimed the session's daily credits today (no call)."""
        with self._guard:
            state = self._states.get(session_id)
        return state is not None and state.claimed_on == self._day()

    def remember_claim(self, session_id: str) -> None:
        """Today's daily credits of the session were claimed (or were already)."""
        self._remembered(session_id).claimed_on = self._day()

    def mark_expired(self, session_id: str) -> None:
        self._update(session_id, expired=True, failed=True)
        if self._shared is not None:
            self._shared.publish_expired(session_id)

    def spend(self, session_id: str, cost: int) -> None:
        with self._guard:  # a state the cache already forgot needs no update
            state = self._states.get(session_id)
            if state is not None and state.credits is not None:
                gift = max(state.credits.gift - cost, 0)
                rest = max(cost - state.credits.gift, 0)
                state.credits = Credits(gift, max(state.credits.purchase - rest, 0), state.credits.vip)
        # not published: the shared balance is the last one Jimeng told (refreshed once per period), never one
        # each worker lowered from its own stale copy

    def _refresh(self, session_id: str, state: AccountState) -> None:
        try:
            state.credits = self._backend.credits(session_id)
            state.expired = state.unverified = False
        except SessionExpiredError:
            state.expired, state.credits = True, None
        except JimengError as err:
            # Unknown is not empty: the submit itself will say if the credits are short (and then fail over).
            logger.warning("credit check of session {} failed: {}", mask(session_id), err)
            state.failed_at = self._clock()
            state.unverified = state.credits is None
            return
        state.checked_at = self._clock()

    def _candidates(self, states: dict[str, AccountState], cost: int) -> list[Candidate]:
        now = self._clock()
        known = [
            Candidate(s, st.credits.total, now - st.failed_at < RECENT_FAILURE_SECONDS)
            for s, st in states.items()
            if not st.expired and st.credits is not None
        ]
        unverified = [Candidate(s, cost, True) for s, st in states.items() if st.unverified and not st.expired]
        return known + unverified

    def _claim_daily(self, states: dict[str, AccountState], cost: int, budget: Budget) -> bool:
        """Claim today's free credits on the live short sessions that have not claimed yet, until one can pay
        or the budget's claims are spent."""
        today, claimed = self._day(), False
        for session_id, state in states.items():
            if state.expired or state.claimed_on == today or state.credits is None:
                continue
            with self._lock_for(session_id):
                if state.claimed_on == today:
                    continue
                if not budget.take_claim():
                    break
                state.claimed_on = today
                if self._shared is not None and not self._shared.take_claim(session_id, today):
                    self._adopt(session_id, state)  # another worker claimed today's credits of the account
                    continue
                try:
                    claim = self._backend.receive_credits(session_id)
                    state.credits = Credits(gift=claim.total)
                    state.checked_at = self._clock()
                    claimed = True
                    if self._shared is not None:
                        self._shared.publish_credits(session_id, state.credits)
                    logger.info("claimed daily credits on session {}: now {}", mask(session_id), state.credits.total)
                except JimengError as err:
                    logger.info("daily credit claim on session {} gave nothing: {}", mask(session_id), err)
                    continue
            if state.credits is not None and state.credits.total >= cost:
                break
        return claimed

    def _no_session_error(self, sessions: list[str], cost: int, resting: dict[str, tuple[str, float]]) -> JimengError:
        states = [self._states.get(s, AccountState()) for s in sessions if s not in resting]
        if resting and all(st.expired for st in states):
            return rest_error(*min(resting.values(), key=lambda rest: rest[1]))
        if all(st.expired for st in states):
            return SessionExpiredError(
                "Every Jimeng session of the pool is logged out or expired; sign in again and copy a new sessionid"
            )
        best = max((st.credits.total for st in states if st.credits is not None and not st.expired), default=0)
        return InsufficientCreditsError(
            f"Insufficient Jimeng credits: {best} left, {cost} needed.", available=best, needed=cost
        )

    def _update(
        self, session_id: str, *, credits: Credits | None = None, expired: bool = False, failed: bool = False
    ) -> None:
        state = self._remembered(session_id)
        with self._guard:
            if credits is not None:
                state.credits = credits
                state.checked_at = self._clock()
            if expired:
                state.expired = True
                state.checked_at = self._clock()
            if failed:
                state.failed_at = self._clock()

    def _lock_for(self, session_id: str) -> threading.Lock:
        """One of a fixed set of locks (memory does not grow with the sessions seen); two sessions may share
        one, which only serialises their checks."""
        return self._locks[zlib.crc32(session_id.encode()) % _LOCK_STRIPES]


def rest_error(reason: str, seconds_left: float) -> JimengError:
    """Why no session of the pool may submit now: the soonest one back rests ``seconds_left`` more seconds."""
    minutes = max(1, round(seconds_left / 60))
    if reason == DailyLimitError.__name__:
        return DailyLimitError(
            f"Every usable Jimeng session of the pool reached its daily generation limit; the first resets in about "
            f"{minutes} min (midnight in Shanghai)", retry_after=seconds_left,
        )  # fmt: skip
    kind = AccountRestrictedError if reason == AccountRestrictedError.__name__ else RiskControlError
    return kind(
        f"Jimeng refused every usable session of the pool ({kind.code}); they rest (RISK_COOLDOWN_SECONDS), the "
        f"first for about {minutes} more min; use the account in the web app meanwhile", retry_after=seconds_left,
    )  # fmt: skip
