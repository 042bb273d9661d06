"""Account state shared by every worker and replica through the state store: credit balances (for the
credit cache period), "expired" marks (for the same period), the daily claim (once per day per account),
who is checking an account's credits right now, so N workers make one credit call per account per period, and
the cool-downs of accounts that Jimeng's risk control or daily limit refused (no worker submits there again
until the cool-down ends).

The session pool (``app/domain/pool.py``) keeps its own per-worker cache in front of this and publishes
what it learns here; a store that cannot answer makes it fall back to its own cache (logged), never fail.
Keys hold a digest of the session id, never the id itself.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable

from loguru import logger

from app.domain.models import Credits
from app.domain.store import StateStore, StoreUnavailableError

CHECK_LEASE_SECONDS = 10.0  # one worker's credit check in flight; the others wait for its answer
CHECK_WAIT_STEP = 0.1
CLAIM_DAYS_SECONDS = 2 * 86400.0
COOLING_KEY = "accounts:cooling"  # lease set: one member per resting account, expiring with its cool-down


def account_digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()[:32]


def _key(kind: str, session_id: str) -> str:
    return f"account:{kind}:{account_digest(session_id)}"


class SharedAccounts:
    def __init__(
        self,
        store: StateStore,
        cache_seconds: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._ttl = max(cache_seconds, 0.001)
        self._sleep = sleep
        self._monotonic = monotonic
        self._wall = wall

    def known(self, session_id: str) -> Credits | bool | None:
        """What another worker learned within the cache period: its balance, True for "expired", or None."""
        try:
            if self._store.get(_key("expired", session_id)) is not None:
                return True
            raw = self._store.get(_key("credits", session_id))
        except StoreUnavailableError as err:
            logger.warning("shared account state unavailable: {}", err)
            return None
        if raw is None:
            return None
        try:
            gift, purchase, vip = json.loads(raw)
            return Credits(int(gift), int(purchase), int(vip))
        except (ValueError, TypeError):
            return None

    def publish_credits(self, session_id: str, credits: Credits) -> None:
        self._quietly(lambda: self._store.delete(_key("expired", session_id)))
        value = json.dumps([credits.gift, credits.purchase, credits.vip])
        self._quietly(lambda: self._store.put(_key("credits", session_id), value, self._ttl))

    def publish_expired(self, session_id: str) -> None:
        self._quietly(lambda: self._store.delete(_key("credits", session_id)))
        self._quietly(lambda: self._store.put(_key("expired", session_id), "1", self._ttl))

    def take_check(self, session_id: str) -> bool:
        """True when this worker is to ask Jimeng (nobody else is asking now); a store that cannot answer
        lets it ask."""
        try:
            return self._store.create(_key("checking", session_id), "1", CHECK_LEASE_SECONDS)
        except StoreUnavailableError:
            return True

    def done_checking(self, session_id: str) -> None:
        self._quietly(lambda: self._store.delete(_key("checking", session_id)))

    def wait_for_check(self, session_id: str) -> Credits | bool | None:
        """The answer of the worker checking now (None when it gave none within its lease)."""
        deadline = self._monotonic() + CHECK_LEASE_SECONDS
        while self._monotonic() < deadline:
            found = self.known(session_id)
            if found is not None:
                return found
            try:
                if self._store.get(_key("checking", session_id)) is None:
                    return self.known(session_id)
            except StoreUnavailableError:
                return None
            self._sleep(CHECK_WAIT_STEP)
        return None

    def take_claim(self, session_id: str, day: str) -> bool:
        """True for the one worker that claims today's free credits of the account."""
        try:
            return self._store.create(f"{_key('claimed', session_id)}:{day}", "1", CLAIM_DAYS_SECONDS)
        except StoreUnavailableError:
            return True

    def cool(self, session_id: str, seconds: float, reason: str) -> None:
        """The account rests for ``seconds`` (``reason``: the error's class name), in every worker."""
        member = f"{account_digest(session_id)}|{reason}|{self._wall() + seconds:.0f}"
        self._quietly(lambda: self._store.lease(COOLING_KEY, member, seconds))

    def cooling(self) -> dict[str, tuple[str, float]]:
        """Every resting account (one store call): its digest -> (reason, seconds left); empty when the store
        cannot answer (each worker then knows the cool-downs it saw itself)."""
        try:
            members = self._store.leases(COOLING_KEY)
        except StoreUnavailableError as err:
            logger.warning("shared account state unavailable: {}", err)
            return {}
        now, found = self._wall(), dict[str, tuple[str, float]]()
        for member in members:
            digest, _, rest = member.partition("|")
            reason, _, until = rest.partition("|")
            try:
                left = float(until) - now
            except ValueError:
                continue
            if left > 0 and left > found.get(digest, ("", 0.0))[1]:
                found[digest] = (reason, left)
        return found

    @staticmethod
    def _quietly(call: Callable[[], object]) -> None:
        try:
            call()
        except StoreUnavailableError as err:
            logger.warning("shared account state unavailable: {}", err)
