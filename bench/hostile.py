"""Hostile clients against one gevent worker (issue 15): does anyone else still get served, and does memory stay?

Every attack runs against a fresh service (Procfile command, `WEB_CONCURRENCY=1`, one gevent worker, default
settings, the emulator upstream). Meanwhile a second client pings `GET /ping` every 50 ms twice over: on its own
kept-alive connection opened before the attack (the acceptance's figure), and on a new connection per ping (a
client arriving during the attack, which needs a connection slot). The worker's RSS is sampled every 100 ms:
before the attack, its peak, and 1 s after it. Upstream calls are the emulator's `/__stats` delta.

- lenient bomb: 16 MB and 100 MB bodies that strict JSON refuses (`{"prompt": "", "x": "AAAA…",}`), with a
  Content-Length (100 MB is over MAX_BODY_BYTES: 413 before reading) and chunked (100 MB: 413 once the read
  passes the cap).
- random bearers: 5,000 `GET /v1/tasks/123` and 5,000 generation POSTs, each with a distinct random 512-char
  bearer (Bearer mode; the POSTs' bearers end in `expired`, which the emulator answers as a logged-out session,
  as Jimeng answers an unknown one); 5,000 `/token/check` calls with distinct tokens. One connection each.
- body slowloris: 1,000 connections that send headers, `Content-Length: 100` and one byte, then nothing.
- 1,000-token Authorization: requests whose Authorization holds 1,000 tokens (400 too_many_sessions, 0 upstream
  calls).
- error path: bad inputs (invalid JSON, a 2001-char prompt, `n: 2.5`, a bad size, a private image URL, no
  Authorization, a wrong method), round-robin on one connection; each answer's shape and latency, the first
  round (cold, on the fresh worker) apart from the others.
- masking: µs per log line with 1,000 and 20,000 registered secrets (in this process).

Targets: /ping p99 < 100 ms, RSS growth (peak - before) < 30 MiB, each error answer in the contract's shape
with p99 < 100 ms.

    python -m bench.hostile [--quick] [--only NAME ...] [--no-write]

Figures, not tests: a missed target prints MISS; only a benchmark that could not run exits non-zero.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import requests

from bench import harness
from bench.attacks import TOKEN, PingProbe, body_bomb, body_slowloris
from bench.attacks_secrets import many_token_header, masking_cost, random_bearers, token_check_flood

NAME = "hostile"
MB = 1024 * 1024
PING_INTERVAL = 0.05
PING_TARGET_SECONDS = 0.100
RSS_TARGET_BYTES = 30 * MB
ERROR_TARGET_SECONDS = 0.100
SETTLE_SECONDS = 1.0  # after the attack, before the "after" RSS sample
SLOWLORIS_HOLD_SECONDS = 60.0
BOMB_PAUSE_SECONDS = 0.3
ERROR_KEYS = {"message", "type", "param", "code", "history_id"}
GENERATION = "/v1/images/generations"


@dataclass(frozen=True)
class Counts:
    bombs: int
    bearers: int
    slowloris: int
    header_requests: int
    error_tries: int


def counts(args: argparse.Namespace) -> Counts:
    if args.quick:
        return Counts(bombs=2, bearers=300, slowloris=100, header_requests=20, error_tries=20)
    return Counts(bombs=5, bearers=5_000, slowloris=1_000, header_requests=200, error_tries=200)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests and connections; not written")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only the attacks whose name contains NAME")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/results/ as it is")
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # run_all passes every benchmark the same arguments; others' options are not errors here
        print(f"bench.hostile: ignoring {' '.join(unknown)}", file=sys.stderr)
    return args


# -- the body bombs, repeated ----------------------------------------------------------------------------


def bombs(url: str, size: int, chunked: bool, times: int, shape: str = "trailing-comma") -> dict[str, Any]:
    """The same body bomb `times` times, one after another (a short pause between): the first answer on the
    fresh worker (cold) and the others (warm)."""
    tries = []
    for index in range(times):
        if index:
            time.sleep(BOMB_PAUSE_SECONDS)
        tries.append(body_bomb(url, size, chunked=chunked, shape=shape))
    after = [t["answered_after_seconds"] for t in tries]
    warm = [value for value in after[1:] if value is not None]
    return {
        "bytes": size,
        "chunked": chunked,
        "tries": times,
        "answers": dict(Counter(f"{t['status']} {t['code']}" for t in tries)),
        "bytes_sent_max": max(t["bytes_sent"] for t in tries),
        "answered_after_cold_seconds": after[0],
        "answered_after_warm_max_seconds": max(warm) if warm else None,
        "each": tries,
    }


# -- the error path ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadInput:
    name: str
    method: str
    path: str
    status: int  # expected
    body: bytes | None = None
    authorized: bool = True


def _json(text: str) -> bytes:
    return text.encode()


BAD_INPUTS = (
    BadInput("invalid JSON", "POST", GENERATION, 400, _json('{"prompt": "a cat", ')),
    BadInput("2001-char prompt", "POST", GENERATION, 400, _json('{"prompt": "' + "a" * 2001 + '"}')),
    BadInput("n: 2.5", "POST", GENERATION, 400, _json('{"prompt": "a cat", "n": 2.5}')),
    BadInput("bad size", "POST", GENERATION, 400, _json('{"prompt": "a cat", "size": "12x34x56"}')),
    BadInput(
        "private image URL",
        "POST",
        "/v1/images/compositions",
        400,
        _json('{"prompt": "a cat", "images": ["http://10.0.0.1/cat.png"]}'),
    ),
    BadInput("no Authorization", "POST", GENERATION, 401, _json('{"prompt": "a cat"}'), authorized=False),
    BadInput("wrong method", "GET", GENERATION, 405),
)


def error_path(url: str, tries: int) -> dict[str, Any]:
    """Every bad input `tries` times, round-robin on one kept-alive connection: status, shape, latency."""
    seconds: dict[str, list[float]] = {bad.name: [] for bad in BAD_INPUTS}
    answers: dict[str, Counter[str]] = {bad.name: Counter() for bad in BAD_INPUTS}
    bad_shapes: Counter[str] = Counter()
    examples: dict[str, Any] = {}
    with requests.Session() as session:
        for _ in range(tries):
            for bad in BAD_INPUTS:
                headers = {"Content-Type": "application/json"}
                if bad.authorized:
                    headers["Authorization"] = f"Bearer {TOKEN}"
                started = time.perf_counter()
                try:
                    response = session.request(bad.method, url + bad.path, data=bad.body, headers=headers, timeout=30)
                    text = response.text
                except requests.RequestException as err:
                    seconds[bad.name].append(time.perf_counter() - started)
                    answers[bad.name][type(err).__name__] += 1
                    continue
                seconds[bad.name].append(time.perf_counter() - started)
                shaped, code = _shape(response)
                answers[bad.name][f"{response.status_code} {code}"] += 1
                if not shaped or response.status_code != bad.status:
                    bad_shapes[bad.name] += 1
                examples.setdefault(bad.name, text[:300])
    results = []
    for bad in BAD_INPUTS:
        values = seconds[bad.name]
        warm = values[1:]
        results.append(
            {
                "name": bad.name,
                "expected_status": bad.status,
                "answers": dict(answers[bad.name]),
                "wrong_status_or_shape": bad_shapes[bad.name],
                "example": examples.get(bad.name),
                "cold_seconds": round(values[0], 4) if values else None,
                "warm": _latency(warm),
            }
        )
    every = [value for values in seconds.values() for value in values]
    return {"tries": tries, "inputs": results, "all": _latency(every)}


def _shape(response: requests.Response) -> tuple[bool, str]:
    """Whether the body is `{"error": {message, type, param, code, history_id}}` exactly; its code."""
    try:
        payload = response.json()
    except ValueError:
        return False, "(not JSON)"
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return False, "(no error object)"
    return set(payload) == {"error"} and set(error) == ERROR_KEYS, str(error.get("code"))


def _latency(values: Sequence[float]) -> dict[str, Any]:
    def _round(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    return {
        "count": len(values),
        "p50": _round(harness.percentile(values, 50)),
        "p99": _round(harness.percentile(values, 99)),
        "max": _round(max(values) if values else None),
    }


# -- one attack under watch -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attack:
    name: str
    run: Callable[[str], dict[str, Any]]  # the service's URL -> what the attack observed
    note: str


def attacks(args: argparse.Namespace) -> list[Attack]:
    n = counts(args)
    bearer_post = {"prompt": "hostile benchmark, a cat", "async": True}
    runs = [
        Attack(
            f"{n.bombs} x lenient bomb {size} MB, {'chunked' if chunked else 'Content-Length'}",
            partial(bombs, size=size * MB, chunked=chunked, times=n.bombs),
            "",
        )
        for chunked in (False, True)
        for size in (16, 100)
    ]
    runs.append(
        Attack(
            f"{n.bombs} x 16 MB valid JSON of empty objects, Content-Length",
            partial(bombs, size=16 * MB, chunked=False, times=n.bombs, shape="tiny-values"),
            "`[{},{},…]`: 5.6 million values, hundreds of MB once parsed",
        )
    )
    runs += [
        Attack(f"{n.bearers} random bearers, GET task", partial(random_bearers, count=n.bearers), "512 chars"),
        Attack(
            f"{n.bearers} random bearers, POST generation",
            partial(random_bearers, count=n.bearers, method="POST", path=GENERATION, body=bearer_post, mark="expired"),
            "512 chars ending in `expired`: upstream answers logged out",
        ),
        Attack(f"{n.bearers} /token/check tokens", partial(token_check_flood, count=n.bearers), "64 hex chars"),
        Attack(
            f"{n.slowloris} body-slowloris connections",
            partial(body_slowloris, connections=n.slowloris, hold_seconds=SLOWLORIS_HOLD_SECONDS),
            "headers + Content-Length: 100 + 1 byte",
        ),
        Attack(
            f"{n.header_requests} x 1,000-token Authorization",
            partial(many_token_header, tokens=1_000, count=n.header_requests),
            "",
        ),
        Attack(f"error path, {n.error_tries} tries per input", partial(error_path, tries=n.error_tries), ""),
    ]
    if args.only:
        runs = [attack for attack in runs if any(word.lower() in attack.name.lower() for word in args.only)]
    return runs


def worker_rss(master_pid: int) -> int:
    workers = harness.worker_processes(master_pid)
    return sum(worker.memory_info().rss for worker in workers)


def run_attack(attack: Attack, emulator_url: str, log_dir: Path) -> dict[str, Any]:
    """A fresh service; the attack with both ping probes and the RSS sampler around it; the figures."""
    slug = "".join(c if c.isalnum() else "-" for c in attack.name)
    env = {"WEB_CONCURRENCY": "1", "STATE_DB": str(log_dir / f"state-{slug}.sqlite3")}
    with harness.service(emulator_url, log_dir, env) as service:
        stats_before = harness.get_json(f"{emulator_url}/__stats", timeout=30)
        rss_before = worker_rss(service.pid)
        with (
            harness.RssSampler(service.pid) as sampler,
            PingProbe(service.url, PING_INTERVAL, keep_alive=True) as kept,
            PingProbe(service.url, PING_INTERVAL, keep_alive=False) as fresh,
        ):
            started = time.monotonic()
            observed = attack.run(service.url)
            seconds = time.monotonic() - started
        time.sleep(SETTLE_SECONDS)
        rss_after = worker_rss(service.pid)
        alive = service.popen.poll() is None and bool(harness.worker_processes(service.pid))
        stats_after = harness.get_json(f"{emulator_url}/__stats", timeout=30)
    result: dict[str, Any] = {
        "name": attack.name,
        "note": attack.note,
        "seconds": round(seconds, 2),
        "observed": observed,
        "ping_kept_connection": kept.figures(),
        "ping_new_connections": fresh.figures(),
        "rss_mib": {
            "before": harness.mib(rss_before),
            "peak": harness.mib(sampler.peak),
            "after": harness.mib(rss_after),
            "growth": harness.mib(sampler.peak - rss_before),
            "samples": sampler.samples,
        },
        "upstream": harness.request_delta(stats_before, stats_after),
        "worker_alive_after": alive,
    }
    result["targets"] = targets(result, sampler.peak - rss_before)
    return result


def targets(result: dict[str, Any], growth: int) -> dict[str, dict[str, Any]]:
    """/ping p99 on the kept connection (and, reported too, on new connections) < 100 ms; RSS growth < 30 MiB;
    the 1,000-token header: 0 upstream calls; the error path: every answer as expected, p99 < 100 ms."""
    checks: dict[str, dict[str, Any]] = {}
    for key, label in (("ping_kept_connection", "ping"), ("ping_new_connections", "new-conn ping")):
        probe = result[key]
        p99 = probe["p99_seconds"]
        ok = p99 is not None and p99 < PING_TARGET_SECONDS and probe["failed"] == 0
        checks[label] = {"target": "p99 < 0.1 s, 0 failed", "value": p99, "pass": ok}
    checks["RSS"] = {"target": "< 30 MiB", "value": harness.mib(growth), "pass": growth < RSS_TARGET_BYTES}
    observed = result["observed"]
    if "tokens" in observed:
        calls = result["upstream"]["total"]
        checks["upstream 0"] = {"target": 0, "value": calls, "pass": calls == 0}
    if "inputs" in observed:
        wrong = sum(item["wrong_status_or_shape"] for item in observed["inputs"])
        worst = max((item["warm"]["p99"] or 0 for item in observed["inputs"]), default=0)
        checks["shape"] = {"target": 0, "value": wrong, "pass": wrong == 0}
        checks["error p99"] = {"target": "< 0.1 s", "value": worst, "pass": worst < ERROR_TARGET_SECONDS}
    return checks


# -- the run ----------------------------------------------------------------------------------------------


def run(args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = {"benchmark": NAME, "machine": harness.machine_info(), "settings": settings(args)}
    print("masking cost (this process) ...", flush=True)
    document["masking"] = masking_cost()
    print(f"  {document['masking']}", flush=True)
    results = []
    with harness.emulator(log_dir) as emulator:
        for attack in attacks(args):
            print(f"{attack.name} (fresh service) ...", flush=True)
            result = run_attack(attack, emulator.url, log_dir)
            print(f"  {_line(result)}", flush=True)
            results.append(result)
    document["attacks"] = results
    for result in results:
        if "inputs" in result["observed"]:
            print()
            print(harness.text_table(ERROR_HEADER, error_rows(result["observed"])))
    return document


def settings(args: argparse.Namespace) -> dict[str, Any]:
    n = counts(args)
    return {
        "mode": "quick" if args.quick else "default",
        "counts": n.__dict__,
        "ping_interval_seconds": PING_INTERVAL,
        "slowloris_hold_seconds": SLOWLORIS_HOLD_SECONDS,
        "settle_seconds_before_after_rss": SETTLE_SECONDS,
        **harness.service_settings(),
        "targets": {
            "ping_p99_seconds": PING_TARGET_SECONDS,
            "rss_growth_mib": RSS_TARGET_BYTES / MB,
            "error_p99_seconds": ERROR_TARGET_SECONDS,
            "many_token_upstream_calls": 0,
        },
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f}"


def _answers(observed: dict[str, Any]) -> str:
    """What the attacker got back, briefly."""
    if "bytes_sent_max" in observed:
        answers = ", ".join(f"{n} x {kind}" for kind, n in observed["answers"].items())
        sent = observed["bytes_sent_max"] / MB
        cold, warm = observed["answered_after_cold_seconds"], observed["answered_after_warm_max_seconds"]
        return f"{answers} after ≤ {sent:.1f} MB sent; answer after {cold} s cold, ≤ {warm} s warm"
    if "outcomes" in observed:
        held = f"held {observed['held_median_seconds']}-{observed['held_max_seconds']} s"
        left = observed["still_open_after_hold"]
        outcomes = ", ".join(f"{n} x {kind}" for kind, n in observed["outcomes"].items())
        return f"{outcomes}; {held}" + (f", {left} still open" if left else "")
    if "inputs" in observed:
        wrong = sum(item["wrong_status_or_shape"] for item in observed["inputs"])
        return f"{len(observed['inputs'])} inputs x {observed['tries']}, {wrong} wrong"
    statuses = ", ".join(f"{n} x {kind}" for kind, n in observed["statuses"].items())
    errors = f", {observed['errors']} errors" if observed.get("errors") else ""
    return f"{statuses}{errors}"


def verdicts(result: dict[str, Any]) -> str:
    return " ".join(f"{key} {'PASS' if c['pass'] else 'MISS'}" for key, c in result["targets"].items())


def _line(result: dict[str, Any]) -> str:
    kept, fresh, rss = result["ping_kept_connection"], result["ping_new_connections"], result["rss_mib"]
    return (
        f"{_answers(result['observed'])}; {result['seconds']} s; ping p50/p99/max {_ms(kept['p50_seconds'])}/"
        f"{_ms(kept['p99_seconds'])}/{_ms(kept['max_seconds'])} ms ({kept['failed']} failed), new-conn p99/max "
        f"{_ms(fresh['p99_seconds'])}/{_ms(fresh['max_seconds'])} ms; RSS {rss['before']} -> {rss['peak']} -> "
        f"{rss['after']} MiB; upstream {result['upstream']['total']}; {verdicts(result)}"
    )


# -- output -----------------------------------------------------------------------------------------------

HEADER = [
    "attack",
    "what the attacker got",
    "s",
    "ping ms p50/p99/max (pings, failed)",
    "new-conn ping ms p99/max (pings, failed)",
    "RSS MiB before→peak→after",
    "upstream calls",
    "targets",
]
ERROR_HEADER = ["bad input", "answers", "cold ms", "warm ms p50/p99/max", "target"]


def _pings(probe: dict[str, Any], *, with_p50: bool) -> str:
    figures = [probe["p50_seconds"]] if with_p50 else []
    figures += [probe["p99_seconds"], probe["max_seconds"]]
    return "/".join(_ms(value) for value in figures) + f" ({probe['pings']}, {probe['failed']})"


def rows(document: dict[str, Any]) -> list[list[str]]:
    table = []
    for result in document["attacks"]:
        kept, fresh, rss = result["ping_kept_connection"], result["ping_new_connections"], result["rss_mib"]
        table.append(
            [
                result["name"],
                _answers(result["observed"]),
                f"{result['seconds']:g}",
                _pings(kept, with_p50=True),
                _pings(fresh, with_p50=False),
                f"{rss['before']}→{rss['peak']}→{rss['after']} (+{rss['growth']})",
                str(result["upstream"]["total"]),
                verdicts(result),
            ]
        )
    return table


def error_rows(observed: dict[str, Any]) -> list[list[str]]:
    table = []
    for item in observed["inputs"]:
        warm = item["warm"]
        ok = item["wrong_status_or_shape"] == 0 and (warm["p99"] or 0) < ERROR_TARGET_SECONDS
        table.append(
            [
                item["name"],
                ", ".join(f"{n} x {kind}" for kind, n in item["answers"].items()),
                _ms(item["cold_seconds"]),
                f"{_ms(warm['p50'])}/{_ms(warm['p99'])}/{_ms(warm['max'])}",
                "PASS" if ok else "MISS",
            ]
        )
    return table


def readme_section(document: dict[str, Any]) -> str:
    machine = document["machine"]
    masking = document["masking"]
    lines = [
        "## Hostile clients (`python -m bench.hostile`)",
        "",
        f"{machine['date']}, {machine['cpu_count']} CPUs ({machine['cpu_model']}), Python {machine['python']}, "
        f"commit {machine['git_commit']}{' (dirty tree)' if machine['git_dirty'] else ''}. Service by its Procfile "
        "command, `WEB_CONCURRENCY=1` (one gevent worker, 1,000 connection slots), default settings, the emulator "
        "upstream, a fresh service per row. During each attack a second client pings `/ping` every "
        f"{PING_INTERVAL * 1000:.0f} ms on its own kept-alive connection (opened before the attack) and, apart, on "
        "a new connection per ping; each probe runs in a process of its own (a thread in the attacker's process "
        "would time the attacker's GIL, not the service).",
        "",
        "Ping ms: p50/p99/max of every ping during the attack (max is the worst; failed = errors or 60 s "
        "timeouts). RSS: the worker before the attack (a fresh worker: its first requests are cold), the peak "
        f"(sampled every 100 ms) and {SETTLE_SECONDS:g} s after; growth = peak - before. Upstream calls: requests "
        "the emulator saw during the attack. Targets: ping p99 < 100 ms with 0 failed (on the kept connection; "
        "the new-connection figure is reported against the same target), RSS growth < 30 MiB, 0 upstream calls "
        "for the 1,000-token header, error answers in the contract's shape with p99 < 100 ms. The POST bearers "
        "end in `expired` so the emulator answers them as Jimeng answers an unknown session.",
        "",
        harness.markdown_table(HEADER, rows(document)),
        "",
        "Body slowloris: every connection holds one of the worker's 1,000 slots until its body deadline cuts it "
        "(408); a client that needs a new connection meanwhile waits in the kernel's accept queue for a free slot, "
        "so the new-connection ping is bounded by that deadline, not by 100 ms. The kept connection already holds "
        "its slot.",
        "",
    ]
    for result in document["attacks"]:
        if "inputs" in result["observed"]:
            lines += [
                f"Error path ({result['observed']['tries']} tries per input, round-robin on one kept-alive "
                "connection; cold = the first try on the fresh worker, warm = the others):",
                "",
                harness.markdown_table(ERROR_HEADER, error_rows(result["observed"])),
                "",
            ]
    lines.append(
        "Log masking (in the benchmark's process, best of 3 over 2,000 lines, half holding a secret): "
        f"{masking['1000_secrets_us_per_line']} µs per line with 1,000 registered secrets, "
        f"{masking['20000_secrets_us_per_line']} µs with 20,000."
    )
    return "\n".join(lines)


REPORT = harness.Report(NAME, HEADER, rows, readme_section)


def main(argv: Sequence[str] | None = None) -> int:
    harness.execute(REPORT, parse_args(argv), run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
