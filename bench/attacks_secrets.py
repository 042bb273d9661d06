"""Attacks on secret handling and on upstream amplification, each returning what it observed (issue 15).

Each attack takes the service's base URL; `bench/hostile.py` runs them against one gevent worker and samples
the worker's memory, a second client's `/ping` and the upstream calls (the emulator's `/__stats`) meanwhile.

- `random_bearers`: requests with distinct random 512-character bearers (Bearer mode: each is a session id
  the service uses, so each is registered for log masking);
- `token_check_flood`: `/token/check` calls, each with a distinct token in the body;
- `many_token_header`: requests whose Authorization holds 1,000 short tokens;
- `masking_cost`: the per-line cost of log masking with 1,000 and 20,000 registered secrets (in this process).
"""

from __future__ import annotations

import random
import secrets as random_secrets
import string
import time
from collections import Counter
from typing import Any

import requests

COOKIE_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\')
ALPHANUMERIC = string.ascii_letters + string.digits


def _code(response: requests.Response) -> str | None:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


def _send_all(url: str, calls: list[dict[str, Any]]) -> dict[str, Any]:
    """`requests.request(**call)` for each call, one after another on one connection; statuses and codes."""
    statuses: Counter[str] = Counter()
    errors = 0
    started = time.perf_counter()
    with requests.Session() as session:
        for call in calls:
            try:
                response = session.request(url=url + call.pop("path"), timeout=30, **call)
                statuses[f"{response.status_code} {_code(response) or ''}".rstrip()] += 1
            except requests.RequestException:
                errors += 1
    elapsed = time.perf_counter() - started
    return {
        "requests": len(calls),
        "statuses": dict(statuses),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "per_request_ms": round(elapsed / max(1, len(calls)) * 1000, 2),
    }


def random_bearers(
    url: str,
    count: int,
    *,
    length: int = 512,
    method: str = "GET",
    path: str = "/v1/tasks/123",
    body: dict[str, Any] | None = None,
    mark: str = "",
) -> dict[str, Any]:
    """`count` requests on one connection, each with a distinct random `length`-character bearer (ending in
    `mark`: the emulator treats a session id containing `expired` as logged out)."""
    calls = [
        {
            "method": method,
            "path": path,
            "json": body,
            "headers": {
                "Authorization": "Bearer " + "".join(random.choices(ALPHANUMERIC, k=length - len(mark))) + mark
            },
        }
        for _ in range(count)
    ]
    return _send_all(url, calls)


def token_check_flood(url: str, count: int) -> dict[str, Any]:
    """`count` `/token/check` calls, each with a distinct random cookie-safe token in the body."""
    calls = [
        {"method": "POST", "path": "/token/check", "json": {"token": random_secrets.token_hex(32)}}
        for _ in range(count)
    ]
    return _send_all(url, calls)


def many_token_header(url: str, tokens: int, count: int = 1, *, path: str = "/v1/tasks/123") -> dict[str, Any]:
    """`count` requests whose Authorization holds `tokens` short distinct tokens (comma-separated)."""
    header = "Bearer " + ",".join(f"t{n:04d}" for n in range(tokens))
    calls = [{"method": "GET", "path": path, "headers": {"Authorization": header}} for _ in range(count)]
    return {"tokens": tokens, "header_bytes": len(header), **_send_all(url, calls)}


def masking_cost(counts: tuple[int, ...] = (1_000, 20_000), lines: int = 2_000) -> dict[str, float]:
    """Microseconds per log line with `count` registered secrets (random, 9 to 512 characters); the best of
    three passes over `lines` lines, half of them holding a secret."""
    from app.logging import HEAD, SecretRegistry

    rng = random.Random(1)
    text = "GET /v1/images/generations 200 31ms request 4f1c2a9e0b7d session …abcd polled 3 jobs; "
    figures: dict[str, float] = {}
    for count in counts:
        registry = SecretRegistry(capacity=count)
        registered = ["".join(rng.choices(COOKIE_SAFE, k=rng.randint(HEAD, 512))) for _ in range(count)]
        for secret in registered:
            registry.add(secret)
        sample = [f"{text} token {registered[i % count]} in url?x=1" for i in range(lines // 2)] + [text * 2] * (
            lines // 2
        )
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for line in sample:
                registry.redact(line)
            best = min(best, time.perf_counter() - started)
        figures[f"{count}_secrets_us_per_line"] = round(best / len(sample) * 1e6, 1)
    return figures
