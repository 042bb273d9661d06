"""Starting a generation under the per-session concurrency caps: wait in the fair queue for a slot on the
best usable session, submit there, and give the slot back when nothing was created.

The session pool still decides which sessions may pay (live, enough credits); the caps decide which of them
has room. A session that turns out expired, short or resting (Jimeng's risk control or daily limit refused
it) is left out and the request queues again for the others, keeping its place in line; a ``1010`` (Jimeng's
own concurrency limit: another client of the account, or a cap set too high) lowers that session's cap for a
while and queues the request again, at most ``MAX_1010_RETRIES`` times.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from loguru import logger

from app.domain.capacity import Capacity, Grant
from app.domain.errors import ConcurrencyLimitError, InsufficientCreditsError, SessionExpiredError
from app.domain.pool import COOLING_ERRORS, SessionPool
from app.secrets import mask

T = TypeVar("T")
MAX_1010_RETRIES = 3


def run_capped(
    pool: SessionPool,
    capacity: Capacity,
    sessions: list[str],
    cost: int,
    parts: int,
    action: Callable[[str], T],
    *,
    caller: str,
    timeout: float,
    monotonic: Callable[[], float],
    chosen: str | None = None,
    client_gone: Callable[[], bool] | None = None,
    on_wait: Callable[[int], None] | None = None,
) -> tuple[Grant, str, T]:
    """``action`` (upload and submit) on a session with a free slot: the grant (slots held), the session and
    the action's result. Waiting counts against ``timeout``."""
    excluded: set[str] = set()
    refusals = 0
    arrival: int | None = None  # queued again, a request keeps its place among its caller's requests
    started = monotonic()
    budget = pool.budget()
    refusal: Exception | None = None  # Jimeng's own refusal in this request: told as it is when nothing is left
    while True:
        try:
            usable = pool.ranked([s for s in sessions if s not in excluded], cost, all_sessions=sessions, budget=budget)
        except (SessionExpiredError, InsufficientCreditsError, *COOLING_ERRORS):
            if refusal is not None:
                raise refusal from None
            raise
        if chosen in usable:
            usable = [chosen, *(s for s in usable if s != chosen)]
        left = max(0.0, timeout - (monotonic() - started))
        grant = capacity.acquire(
            usable, parts, caller=caller, timeout=left, client_gone=client_gone, on_wait=on_wait, arrival=arrival
        )
        grant.waited, arrival = monotonic() - started, grant.arrival
        try:
            session_id, result = pool.run([grant.session_id], cost, action, chosen=grant.session_id)
        except ConcurrencyLimitError:
            grant.release()
            refusals += 1
            capacity.cool(grant.session_id)
            logger.info("session {} answered 1010: its cap is lowered for a while", mask(grant.session_id))
            if refusals > MAX_1010_RETRIES:
                raise
            continue
        except (SessionExpiredError, InsufficientCreditsError, *COOLING_ERRORS) as err:
            grant.release()
            excluded.add(grant.session_id)
            refusal = err if isinstance(err, COOLING_ERRORS) else refusal
            continue
        except BaseException:
            grant.release()
            raise
        return grant, session_id, result
