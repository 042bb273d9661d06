from __future__ import annotations

import random

import pytest

from app.domain.errors import RateLimitedError, UpstreamUnavailableError
from app.jimeng.transport import Backoff, TransientError, with_retries


@pytest.mark.parametrize(
    ("attempt", "status", "bound"),
    [(0, None, 0.25), (1, 502, 0.5), (2, None, 1.0), (5, None, 2.0), (0, 429, 1.0), (4, 429, 8.0)],
)
def test_backoff_is_full_jitter_under_an_exponential_bound(attempt: int, status: int | None, bound: float) -> None:
    rng = random.Random(1)
    delays = [Backoff().delay(attempt, status, rng) for _ in range(200)]
    assert all(0 <= d <= bound for d in delays)
    assert max(delays) > bound * 0.8  # the bound is used, not a constant


def test_transient_failures_are_retried_until_success() -> None:
    outcomes: list[object] = [TransientError("reset"), TransientError("HTTP 502", status=502), {"ok": 1}]
    sleeps: list[float] = []

    def call() -> object:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert with_retries(call, sleep=sleeps.append, rng=random.Random(0)) == {"ok": 1}
    assert len(sleeps) == 2


@pytest.mark.parametrize(("status", "error"), [(502, UpstreamUnavailableError), (429, RateLimitedError)])
def test_exhausted_retries_raise_the_matching_error(status: int, error: type[Exception]) -> None:
    calls = []

    def call() -> None:
        calls.append(1)
        raise TransientError(f"HTTP {status}", status=status)

    with pytest.raises(error):
        with_retries(call, attempts=3, sleep=lambda _: None)
    assert len(calls) == 3


def test_envelope_refusals_are_not_retried() -> None:
    calls = []

    def call() -> None:
        calls.append(1)
        raise UpstreamUnavailableError("ret 3018")

    with pytest.raises(UpstreamUnavailableError):
        with_retries(call, sleep=lambda _: None)
    assert len(calls) == 1
