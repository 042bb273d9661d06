"""Attacks on secret handling and on upstream amplification, reusable by a hostile benchmark.

Each attack takes the service's base URL and returns what it observed (statuses, time, and the worker's
resident memory when given its pid). ``python -m bench.attacks_secrets`` starts the emulator and the
service by its Procfile command (one gunicorn worker) and prints:

- the worker's RSS before and after 5,000 requests with distinct random 512-character bearers, on one
  connection (Bearer mode: each is a used session id, so each is registered for log masking), and after
  5,000 ``/token/check`` bodies;
- the status and upstream calls of one request with an 8 KB Authorization of 1,000 short tokens;
- the per-line cost of masking with 1,000 and 20,000 registered secrets (in this process).
"""

from __future__ import annotations

import argparse
import random
import secrets as random_secrets
import string
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil
import requests

from bench import harness

COOKIE_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\')


def _rss_mib(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        return round(psutil.Process(pid).memory_info().rss / 2**20, 1)
    except psutil.Error:
        return None


def random_bearers(
    url: str, count: int, *, length: int = 512, path: str = "/v1/tasks/123", worker_pid: int | None = None
) -> dict[str, Any]:
    """``count`` requests on one connection, each with a distinct random ``length``-character bearer."""
    statuses: Counter[int] = Counter()
    rss_before = _rss_mib(worker_pid)
    started = time.perf_counter()
    errors = 0
    with requests.Session() as session:
        for _ in range(count):
            token = "".join(random.choices(string.ascii_letters + string.digits, k=length))
            try:
                response = session.get(url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)
                statuses[response.status_code] += 1
            except requests.RequestException:
                errors += 1
    elapsed = time.perf_counter() - started
    return {
        "requests": count,
        "statuses": dict(statuses),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "per_request_ms": round(elapsed / count * 1000, 2),
        "rss_before_mib": rss_before,
        "rss_after_mib": _rss_mib(worker_pid),
    }


def token_check_flood(url: str, count: int, *, worker_pid: int | None = None) -> dict[str, Any]:
    """``count`` ``/token/check`` calls, each with a distinct random cookie-safe token in the body."""
    statuses: Counter[int] = Counter()
    rss_before = _rss_mib(worker_pid)
    started = time.perf_counter()
    with requests.Session() as session:
        for _ in range(count):
            token = random_secrets.token_hex(32)
            statuses[session.post(url + "/token/check", json={"token": token}, timeout=30).status_code] += 1
    elapsed = time.perf_counter() - started
    return {
        "requests": count,
        "statuses": dict(statuses),
        "seconds": round(elapsed, 2),
        "rss_before_mib": rss_before,
        "rss_after_mib": _rss_mib(worker_pid),
    }


def many_token_header(url: str, tokens: int, *, path: str = "/v1/tasks/123", emulator_url: str | None = None) -> dict:
    """One request whose Authorization holds ``tokens`` short distinct tokens; the upstream calls it caused
    (from the emulator's ``/__stats``, when given)."""
    header = "Bearer " + ",".join(f"t{n:04d}" for n in range(tokens))
    before = harness.get_json(emulator_url + "/__stats") if emulator_url else None
    response = requests.get(url + path, headers={"Authorization": header}, timeout=60)
    observed: dict[str, Any] = {"tokens": tokens, "header_bytes": len(header), "status": response.status_code}
    try:
        observed["code"] = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        observed["code"] = None
    if emulator_url and before is not None:
        after = harness.get_json(emulator_url + "/__stats")
        observed["upstream_calls"] = after["requests"]["total"] - before["requests"]["total"]
    return observed


def masking_cost(counts: tuple[int, ...] = (1_000, 20_000), lines: int = 2_000) -> dict[str, float]:
    """Microseconds per log line with ``count`` registered secrets (random, 9 to 512 characters)."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5_000)
    args = parser.parse_args()
    print("masking:", masking_cost())
    with (
        tempfile.TemporaryDirectory() as tmp,
        harness.emulator(Path(tmp)) as emu,
        harness.service(emu.url, Path(tmp), {"LOG_LEVEL": "WARNING"}) as service,
    ):
        workers = harness.worker_processes(service.pid)
        pid = workers[0].pid if workers else None
        print("random bearers:", random_bearers(service.url, args.requests, worker_pid=pid))
        print("token/check flood:", token_check_flood(service.url, args.requests, worker_pid=pid))
        print("8 KB header:", many_token_header(service.url, 1_000, emulator_url=emu.url))


if __name__ == "__main__":
    main()
