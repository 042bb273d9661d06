"""The session choice: expired, zero credits, claimable, most credits, recent failure, ties; failover."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.domain.errors import (
    DailyLimitError,
    InsufficientCreditsError,
    RiskControlError,
    SessionExpiredError,
    UpstreamUnavailableError,
)
from app.domain.models import Claim, Credits
from app.domain.pool import Candidate, SessionPool, rank
from app.domain.shared_accounts import SharedAccounts
from app.state import SqliteStore


@pytest.mark.parametrize(
    ("candidates", "cost", "expected"),
    [
        ([Candidate("a", 5, False), Candidate("b", 9, False)], 1, ["b", "a"]),
        ([Candidate("a", 0, False), Candidate("b", 3, False)], 1, ["b"]),
        ([Candidate("a", 4, False), Candidate("b", 3, False)], 5, []),
        ([Candidate("a", 50, True), Candidate("b", 3, False)], 1, ["b", "a"]),
        ([Candidate("a", 5, False)], 5, ["a"]),
    ],
)
def test_rank_table(candidates: list[Candidate], cost: int, expected: list[str]) -> None:
    assert rank(candidates, cost, random.Random(0)) == expected


def test_rank_spreads_ties_across_equal_sessions() -> None:
    rng = random.Random(0)
    tied = [Candidate(name, 10, False) for name in "abcd"]
    firsts = {rank(tied, 1, rng)[0] for _ in range(100)}
    assert firsts == set("abcd")


@dataclass
class FakeAccounts:
    credits_of: dict[str, int]
    expired: set[str] = field(default_factory=set)
    grants: dict[str, int] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def credits(self, session_id: str) -> Credits:
        self.calls.append(f"credits:{session_id}")
        if session_id in self.expired:
            raise SessionExpiredError("expired")
        return Credits(gift=self.credits_of[session_id])

    def receive_credits(self, session_id: str) -> Claim:
        self.calls.append(f"claim:{session_id}")
        grant = self.grants.get(session_id, 0)
        self.credits_of[session_id] += grant
        return Claim(grant, self.credits_of[session_id])


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def make_pool(accounts: FakeAccounts, clock: Clock | None = None) -> SessionPool:
    return SessionPool(
        accounts, cache_seconds=60, clock=clock or Clock(), day=lambda: "2026-11-26", rng=random.Random(0)
    )


def test_expired_and_empty_sessions_are_skipped() -> None:
    accounts = FakeAccounts({"dead": 100, "empty": 0, "good": 3}, expired={"dead"})
    assert make_pool(accounts).choose(["dead", "empty", "good"], 1) == "good"


def test_all_expired_is_session_expired() -> None:
    accounts = FakeAccounts({"a": 1, "b": 1}, expired={"a", "b"})
    with pytest.raises(SessionExpiredError):
        make_pool(accounts).choose(["a", "b"], 1)


def test_all_short_claims_daily_credits_once_then_chooses() -> None:
    accounts = FakeAccounts({"a": 0, "b": 0}, grants={"b": 60})
    pool = make_pool(accounts)
    assert pool.choose(["a", "b"], 1) == "b"
    assert accounts.calls.count("claim:a") == 1
    assert accounts.calls.count("claim:b") == 1
    pool.spend("b", 60)
    with pytest.raises(InsufficientCreditsError) as caught:
        pool.choose(["a", "b"], 1)
    assert accounts.calls.count("claim:a") == 1  # once a day
    assert caught.value.needed == 1


def test_credit_checks_are_cached_and_refreshed_after_the_period() -> None:
    clock = Clock()
    accounts = FakeAccounts({"a": 10})
    pool = make_pool(accounts, clock)
    for _ in range(5):
        pool.choose(["a"], 1)
    assert accounts.calls == ["credits:a"]
    clock.now = 61
    pool.choose(["a"], 1)
    assert accounts.calls == ["credits:a", "credits:a"]


def test_spending_updates_the_cache_without_a_call() -> None:
    accounts = FakeAccounts({"a": 2, "b": 1})
    pool = make_pool(accounts)
    assert pool.choose(["a", "b"], 1) == "a"
    pool.spend("a", 2)
    assert pool.choose(["a", "b"], 1) == "b"
    assert accounts.calls == ["credits:a", "credits:b"]


def test_a_failed_credit_check_does_not_block_the_session() -> None:
    accounts = FakeAccounts({"flaky": 5})
    pool = make_pool(accounts)

    def broken_credits(session_id: str) -> Credits:
        raise UpstreamUnavailableError("HTTP 502")

    accounts.credits = broken_credits  # type: ignore[method-assign]
    assert pool.choose(["flaky"], 1) == "flaky"  # unknown is not empty: the submit will tell


def test_verified_sessions_come_before_unverified_ones() -> None:
    accounts = FakeAccounts({"known": 1, "flaky": 50})
    pool = make_pool(accounts)
    real = accounts.credits

    def credits(session_id: str) -> Credits:
        if session_id == "flaky":
            raise UpstreamUnavailableError("reset")
        return real(session_id)

    accounts.credits = credits  # type: ignore[method-assign]
    assert pool.choose(["flaky", "known"], 1) == "known"


def test_run_fails_over_on_refusals_before_acceptance() -> None:
    accounts = FakeAccounts({"x": 9, "y": 5})
    pool = make_pool(accounts)
    tried = []

    def submit(session_id: str) -> str:
        tried.append(session_id)
        if session_id == "x":
            raise InsufficientCreditsError("ret 5000")
        return "hid-1"

    assert pool.run(["x", "y"], 1, submit) == ("y", "hid-1")
    assert tried == ["x", "y"]


def test_run_submits_first_on_the_chosen_session_without_checking_it_again() -> None:
    accounts = FakeAccounts({"x": 9, "y": 5})
    pool = SessionPool(accounts, cache_seconds=0, clock=Clock(), day=lambda: "2026-11-26")  # nothing cached
    chosen = pool.choose(["x", "y"], 1)
    checks = len(accounts.calls)
    assert pool.run(["x", "y"], 1, lambda session_id: f"hid-{session_id}", chosen=chosen) == (chosen, f"hid-{chosen}")
    assert len(accounts.calls) == checks  # the preflight's check was the only one


def test_run_fails_over_from_a_chosen_session_that_refuses() -> None:
    accounts = FakeAccounts({"x": 9, "y": 5})
    pool = make_pool(accounts)
    tried = []

    def submit(session_id: str) -> str:
        tried.append(session_id)
        if session_id == "y":
            raise InsufficientCreditsError("ret 5000")
        return "hid-1"

    assert pool.run(["x", "y"], 1, submit, chosen="y") == ("x", "hid-1")
    assert tried == ["y", "x"]


def test_run_does_not_fail_over_on_other_errors() -> None:
    accounts = FakeAccounts({"x": 9, "y": 5})
    pool = make_pool(accounts)

    def submit(session_id: str) -> str:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        pool.run(["x", "y"], 1, submit)


def test_one_request_checks_and_claims_at_most_its_budget_of_sessions() -> None:
    names = [f"s{n:02d}" for n in range(30)]
    accounts = FakeAccounts(dict.fromkeys(names, 0))
    pool = SessionPool(accounts, cache_seconds=60, clock=Clock(), day=lambda: "2026-11-26", max_checks=10)
    with pytest.raises(InsufficientCreditsError):
        pool.choose(names, 1)
    assert len([c for c in accounts.calls if c.startswith("credits:")]) == 10
    assert len([c for c in accounts.calls if c.startswith("claim:")]) == 10


def test_claiming_stops_at_the_first_session_that_can_pay() -> None:
    accounts = FakeAccounts({"a": 0, "b": 0, "c": 0}, grants={"a": 60, "b": 60, "c": 60})
    assert make_pool(accounts).choose(["a", "b", "c"], 1) == "a"
    assert [c for c in accounts.calls if c.startswith("claim:")] == ["claim:a"]


def test_the_cache_forgets_the_least_recently_used_sessions_past_its_size() -> None:
    accounts = FakeAccounts({f"s{n}": 5 for n in range(5)})
    pool = SessionPool(accounts, cache_seconds=60, clock=Clock(), day=lambda: "d", max_accounts=2)
    for n in range(5):
        pool.choose([f"s{n}"], 1)
    assert len(pool._states) == 2


def test_a_session_refused_by_risk_control_rests_and_the_request_fails_over() -> None:
    accounts, clock = FakeAccounts({"x": 9, "y": 5}), Clock()
    pool = make_pool(accounts, clock)
    tried: list[str] = []

    def submit(session_id: str) -> str:
        tried.append(session_id)
        if session_id == "x":
            raise RiskControlError("shark not pass", ret="1019")
        return f"hid-{session_id}"

    assert pool.run(["x", "y"], 1, submit) == ("y", "hid-y")
    assert pool.run(["x", "y"], 1, submit) == ("y", "hid-y")
    assert tried == ["x", "y", "y"]  # the resting session is not tried again
    with pytest.raises(RiskControlError) as caught:
        pool.run(["x"], 1, submit)  # a pool of the resting session alone: answered without asking Jimeng
    assert tried == ["x", "y", "y"] and caught.value.retry_after == pytest.approx(1800)
    clock.now += 1801  # the cool-down is over
    with pytest.raises(RiskControlError):
        pool.run(["x"], 1, submit)
    assert tried[-1] == "x"


def test_a_session_at_its_daily_limit_rests_until_the_limit_resets() -> None:
    accounts, clock = FakeAccounts({"x": 9}), Clock()
    pool = make_pool(accounts, clock)

    def submit(session_id: str) -> str:
        raise DailyLimitError("reached_daily_generation_limit", ret="121101", retry_after=600.0)

    with pytest.raises(DailyLimitError):
        pool.run(["x"], 1, submit)
    assert pool.resting(["x"]) == {"x": ("DailyLimitError", 600.0)}
    clock.now += 300
    with pytest.raises(DailyLimitError) as caught:
        pool.choose(["x"], 1)
    assert caught.value.retry_after == pytest.approx(300) and "daily generation limit" in caught.value.message


def test_cool_downs_are_shared_by_every_worker_through_the_store(tmp_path: Path) -> None:
    store_path = str(tmp_path / "state.sqlite3")
    accounts = FakeAccounts({"x": 9, "y": 5})
    first = SessionPool(accounts, cache_seconds=60, shared=SharedAccounts(SqliteStore(store_path), 60))
    second = SessionPool(accounts, cache_seconds=60, shared=SharedAccounts(SqliteStore(store_path), 60))
    first.rest("x", RiskControlError("risk", ret="4013"))
    ((reason, left),) = second.resting(["x", "y"]).values()
    assert reason == "RiskControlError" and 1790 < left <= 1801  # kept to the second
    assert second.choose(["x", "y"], 1) == "y"
    assert "credits:x" not in accounts.calls  # a resting account costs no credit check either


def test_a_risk_cooldown_of_zero_turns_resting_off() -> None:
    pool = SessionPool(FakeAccounts({"x": 9}), cache_seconds=60, risk_cooldown=0)
    pool.rest("x", RiskControlError("risk", ret="1019"))
    assert pool.resting(["x"]) == {} and pool.choose(["x"], 1) == "x"
