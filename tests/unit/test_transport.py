"""The upstream's retry rules, and which answers of the one exchange count as lost."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import requests

from app.domain.errors import RateLimitedError, UpstreamUnavailableError
from app.jimeng.client import ClientConfig, JimengClient
from app.jimeng.transport import Backoff, TransientError, call_json, with_retries
from config.upstream import load_upstream
from tests.local_http import answer
from tests.support import free_port


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


# -- one exchange, seen from the upstream's side ----------------------------------------------------------


def test_a_call_that_never_connected_cannot_have_been_processed() -> None:
    """The fact a submit relies on to send again without a look-up (no generation can exist)."""
    with requests.Session() as session, pytest.raises(TransientError) as caught:
        call_json(session, "POST", f"http://127.0.0.1:{free_port()}/mweb/v1/aigc_draft/generate", timeout=(2, 2))
    assert (caught.value.reason, caught.value.maybe_processed) == ("could not connect", False)


@pytest.mark.parametrize(
    ("answer_", "status", "reason", "maybe_processed"),
    [
        (answer(429, b"slow down"), 429, "HTTP 429", False),  # a throttle refuses before doing anything
        (answer(503, b"<html>"), 503, "HTTP 503", True),  # a gateway's 5xx may follow the service's work
        (answer(502, b"<html>"), 502, "HTTP 502", True),
        (answer(200, b'{"ret": "0", "da'), None, "malformed JSON (HTTP 200, 16 bytes)", True),
        (lambda handler: None, None, "connection lost", True),
    ],
)
def test_an_unusable_answer_is_transient_and_only_a_throttle_surely_unprocessed(
    server: Any, answer_: Any, status: int | None, reason: str, maybe_processed: bool
) -> None:
    base, routes, _, _ = server
    routes["/x"] = answer_
    with requests.Session() as session, pytest.raises(TransientError) as caught:
        call_json(session, "GET", f"{base}/x", timeout=(2, 2))
    assert (caught.value.reason, caught.value.status, caught.value.maybe_processed) == (reason, status, maybe_processed)


def test_an_answer_parses_to_the_values_json_loads_gives(server: Any) -> None:
    """msgspec reads the answers (issue 17: polls of 100 records): the same values, big ids and all."""
    base, routes, _, _ = server
    body = (
        '{"ret": "0", "data": {"id": 12345678901234567890123, "x": 1.5, "s": "\\u00e9t\u00e9", "n": null, "a": [true]}}'
    )
    routes["/x"] = answer(200, body.encode())
    with requests.Session() as session:
        assert call_json(session, "GET", f"{base}/x", timeout=(2, 2)) == json.loads(body)


def test_a_throttle_that_outlived_the_retries_says_when_to_come_back() -> None:
    error = TransientError("HTTP 429", status=429, maybe_processed=False).final()
    assert isinstance(error, RateLimitedError) and error.retry_after is not None and error.retry_after > 0


def test_a_result_download_is_capped_and_retried_only_when_lost(server: Any) -> None:
    base, routes, seen, _ = server
    routes.update({"/ok": answer(200, b"v" * 100), "/big": answer(200, b"v" * 101), "/gone": answer(403, b"x" * 500)})
    flaky = iter([answer(503), answer(429), answer(200, b"v" * 100)])
    routes["/flaky"] = lambda handler: next(flaky)(handler)
    client = JimengClient(
        load_upstream(),
        ClientConfig(base, base, connect_timeout=2.0, read_timeout=5.0, submit_settle_seconds=0),
        sleep=lambda _: None,
    )
    assert client.download(f"{base}/flaky", 100) == client.download(f"{base}/ok", 100) == b"v" * 100
    with pytest.raises(UpstreamUnavailableError, match="result file is larger than 100 bytes"):
        client.download(f"{base}/big", 100)
    with pytest.raises(UpstreamUnavailableError, match="result download failed with HTTP 403"):
        client.download(f"{base}/gone", 100)
    assert [path for path, _ in seen] == ["/flaky", "/flaky", "/flaky", "/ok", "/big", "/gone"]
