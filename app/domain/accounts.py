"""The token tools: is a session live, what credits does each hold, claim each one's daily credits.

One upstream call per session (a claim: two when the day was already claimed elsewhere, one when this
worker claimed it today), run concurrently, for at most ``max_sessions`` sessions of a request; a dead
session is an answer (``live: false`` or an error entry), never a failed request. Results feed the session
pool's cache, so a check is not wasted.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from app.domain.backend import GenerationBackend
from app.domain.errors import JimengError, SessionExpiredError
from app.domain.models import Claim, Credits
from app.domain.pool import SessionPool

T = TypeVar("T")
MAX_PARALLEL = 8


@dataclass(frozen=True)
class AccountAnswer:
    session_id: str
    credits: Credits | None = None
    claim: Claim | None = None
    error: JimengError | None = None


class AccountService:
    def __init__(self, backend: GenerationBackend, pool: SessionPool, max_sessions: int = 10) -> None:
        self.backend = backend
        self.pool = pool
        self.max_sessions = max_sessions

    def is_live(self, session_id: str) -> bool:
        try:
            live = self.backend.account_live(session_id)
        except JimengError:
            return False
        if not live:
            self.pool.mark_expired(session_id)
        return live

    def points(self, sessions: list[str]) -> list[AccountAnswer]:
        def one(session_id: str) -> AccountAnswer:
            credits = self.backend.credits(session_id)
            self.pool.remember_credits(session_id, credits)
            return AccountAnswer(session_id, credits=credits)

        return _each(sessions[: self.max_sessions], one)

    def receive(self, sessions: list[str]) -> list[AccountAnswer]:
        """Claim today's credits per session; an already-claimed day answers 0 with the current total."""

        def one(session_id: str) -> AccountAnswer:
            if self.pool.claimed_today(session_id):
                claim = Claim(0, self.backend.credits(session_id).total)
            else:
                try:
                    claim = self.backend.receive_credits(session_id)
                except JimengError as err:
                    if not _is_already_claimed(err):
                        raise
                    claim = Claim(0, self.backend.credits(session_id).total)
                self.pool.remember_claim(session_id)
            self.pool.remember_credits(session_id, Credits(gift=claim.total))
            return AccountAnswer(session_id, claim=claim)

        return _each(sessions[: self.max_sessions], one)


def _is_already_claimed(err: JimengError) -> bool:
    """Jimeng refused the claim itself (its "already claimed today" code is unknown): any envelope refusal
    that is not about the session. Transport failures (no ``ret``) stay errors."""
    return err.ret is not None and not isinstance(err, SessionExpiredError)


def _each(sessions: list[str], call: Callable[[str], AccountAnswer]) -> list[AccountAnswer]:
    def guarded(session_id: str) -> AccountAnswer:
        try:
            return call(session_id)
        except JimengError as err:
            return AccountAnswer(session_id, error=err)

    if len(sessions) == 1:
        return [guarded(sessions[0])]
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(sessions)), thread_name_prefix="accounts") as pool:
        return list(pool.map(guarded, sessions))
