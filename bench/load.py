"""Many generations in flight on ONE gevent worker: success, added latency, upstream traffic, worker memory (issue 9).

Per level (50, 200 and 1,000 generations of 10 s, all started at once) a fresh service runs by its Procfile
command with `WEB_CONCURRENCY=1` against the emulator, both subprocesses on loopback. Clients spread over 10
Bearer sessions round-robin, so the poller batches per session as it would for a real pool. Before the burst
every session makes one warm-up generation of the same length (not counted): the credit cache and the
duration estimate are then those of a deployment already running such jobs.

Added latency = client completion - emulator `ready` of that history id. Upstream calls = every request the
emulator saw during the burst. Peak RSS = the highest resident memory of the gunicorn worker (never the
master), sampled every 100 ms. The acceptance run (200 concurrent 6 s generations) is reported apart.

The client is one thread per request with plain `requests` (see `harness.run_all_at_once`): threads sleep in
socket reads without the GIL, so 1,000 of them cost the 2 CPUs next to nothing while they wait; their CPU is
recorded next to the worker's and the emulator's so a saturated machine would show.

    python -m bench.load [--quick] [--levels 50,200,1000] [--seconds 10] [--sessions 10] [--no-write]

Figures, not tests: a missed target prints MISS; only a benchmark that could not run exits non-zero.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bench import harness

NAME = "load"
ENDPOINT = "/v1/images/generations"
EXPECTED_ITEMS = 4
RSS_LIMIT_MIB = 250.0
P95_LIMIT = 1.0  # seconds of added latency at 1,000 in flight
TARGET_LEVEL = 1000  # the level the RSS and p95 targets are stated for
ACCEPTANCE = (200, 6.0)  # concurrent generations, seconds each
DEFAULT_WORKER_CONNECTIONS = 1000  # the service's default GUNICORN_WORKER_CONNECTIONS
CONNECTION_HEADROOM = 0  # one connection per in-flight request: the client closes each after its answer
CLIENT_SLACK_SECONDS = 180.0
EMULATOR_CONFIG = {"initial_gift_credit": 100_000}  # credits are not measured: no session may run short


@dataclass(frozen=True)
class Scenario:
    name: str
    count: int
    seconds: float
    acceptance: bool = False

    @property
    def prompt(self) -> str:
        return f"load benchmark, a harbour at night [gen={self.seconds:g}s]"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 and 50 in flight, 3 s; no results written")
    parser.add_argument("--levels", default=None, help="comma-separated in-flight counts (default 50,200,1000)")
    parser.add_argument("--seconds", type=float, default=None, help="generation time (default 10)")
    parser.add_argument("--sessions", type=int, default=10, help="Bearer sessions, used round-robin (default 10)")
    parser.add_argument("--no-acceptance", action="store_true", help="skip the 200 x 6 s acceptance run")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/results/ as it is")
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # run_all passes every benchmark the same arguments; others' options are not errors here
        print(f"bench.load: ignoring {' '.join(unknown)}", file=sys.stderr)
    levels = args.levels or ("10,50" if args.quick else "50,200,1000")
    try:
        args.levels = [int(x) for x in levels.split(",") if x.strip()]
    except ValueError:
        parser.error("--levels takes integers, e.g. 50,200,1000")
    args.seconds = args.seconds or (3.0 if args.quick else 10.0)
    if not args.levels or min(args.levels) < 1 or args.sessions < 1 or args.seconds <= 0:
        parser.error("levels, --sessions and --seconds must be positive")
    return args


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    runs = [Scenario(f"{n} in flight, {args.seconds:g}s", n, args.seconds) for n in args.levels]
    if not (args.quick or args.no_acceptance):
        count, seconds = ACCEPTANCE
        runs.append(Scenario(f"acceptance: {count} x {seconds:g}s", count, seconds, acceptance=True))
    return runs


# -- one scenario -----------------------------------------------------------------------------------------


def service_overrides(count: int) -> dict[str, str]:
    """One worker; connections raised only if the level needs more than the default (the warm-up's are closed)."""
    needed = count + CONNECTION_HEADROOM
    connections = max(DEFAULT_WORKER_CONNECTIONS, needed)
    return {"WEB_CONCURRENCY": "1", "GUNICORN_WORKER_CONNECTIONS": str(connections)}


def burst(url: str, tokens: list[str], scenario: Scenario, count: int) -> list[harness.Reply]:
    """`count` generations released at once, request i on session i mod len(tokens)."""
    body = {"prompt": scenario.prompt}
    timeout = (30.0, scenario.seconds + CLIENT_SLACK_SECONDS)
    calls = [
        partial(harness.post_generation, url + ENDPOINT, tokens[i % len(tokens)], body, timeout) for i in range(count)
    ]
    return harness.run_all_at_once(calls)


def run_scenario(emulator: harness.Process, log_dir: Path, scenario: Scenario, sessions: int) -> dict[str, Any]:
    """Fresh service, warm-up (one per session), then the measured burst under the RSS sampler."""
    tokens = [f"load-{scenario.count}-{uuid.uuid4().hex[:8]}-s{i}" for i in range(sessions)]
    overrides = service_overrides(scenario.count)
    with harness.service(emulator.url, log_dir, overrides) as service:
        warm = burst(service.url, tokens, scenario, len(tokens))
        workers = [p.pid for p in harness.worker_processes(service.pid)]
        pids = {"worker": workers, "emulator": [emulator.pid], "client": [os.getpid()]}
        cpu_before = {name: harness.cpu_seconds(ids) for name, ids in pids.items()}
        before = harness.get_json(f"{emulator.url}/__stats", timeout=30)
        with harness.RssSampler(service.pid) as sampler:
            started = time.time()
            replies = burst(service.url, tokens, scenario, scenario.count)
            ended = time.time()
        cpu = {name: round(harness.cpu_seconds(ids) - cpu_before[name], 2) for name, ids in pids.items()}
        after = harness.get_json(f"{emulator.url}/__stats", timeout=30)
    result = measure(scenario, replies, after, started, ended)
    result["warm_up_ok"] = sum(is_ok(r) for r in warm)
    result["upstream"] = upstream(harness.request_delta(before, after), scenario.count, ended - started)
    result["rss"] = rss_figures(sampler)
    result["cpu_seconds"] = cpu
    result["worker_connections"] = int(overrides["GUNICORN_WORKER_CONNECTIONS"])
    result["targets"] = targets(result, scenario)
    return result


def is_ok(reply: harness.Reply) -> bool:
    return reply.status == 200 and reply.items == EXPECTED_ITEMS and bool(reply.history_id)


def measure(
    scenario: Scenario, replies: list[harness.Reply], stats: dict[str, Any], started: float, ended: float
) -> dict[str, Any]:
    """Timings of each successful generation against the emulator's clock (same machine)."""
    generations = stats.get("generations", {})
    added, submit_lag, detect, deliver = [], [], [], []
    for reply in replies:
        record = generations.get(reply.history_id or "")
        if not is_ok(reply) or not record:
            continue
        added.append(reply.completed - record["ready"])
        submit_lag.append(record["created"] - reply.submitted)
        if record.get("first_terminal_answer"):
            detect.append(record["first_terminal_answer"] - record["ready"])
            deliver.append(reply.completed - record["first_terminal_answer"])
    errors = sorted({reply.error[:160] for reply in replies if not is_ok(reply)})
    return {
        "name": scenario.name,
        "count": scenario.count,
        "seconds": scenario.seconds,
        "acceptance": scenario.acceptance,
        "succeeded": sum(is_ok(reply) for reply in replies),
        "errors": errors[:5],
        "wall_seconds": round(ended - started, 2),
        "added_latency": harness.summary(added),
        "submit_to_created": harness.summary(submit_lag),
        "ready_to_terminal_poll": harness.summary(detect),
        "terminal_poll_to_client": harness.summary(deliver),
    }


def upstream(delta: dict[str, Any], count: int, wall: float) -> dict[str, Any]:
    return {
        **delta,
        "calls_per_second": round(delta["total"] / wall, 1) if wall > 0 else None,
        "calls_per_generation": round(delta["total"] / max(count, 1), 3),
    }


def rss_figures(sampler: harness.RssSampler) -> dict[str, Any]:
    return {
        "peak_mib": harness.mib(sampler.peak),
        "before_burst_mib": harness.mib(sampler.first),
        "samples": sampler.samples,
        "workers": len(sampler.peak_by_pid),
    }


def targets(result: dict[str, Any], scenario: Scenario) -> dict[str, dict[str, Any]]:
    """All succeed everywhere; RSS and p95 where the issue states them (1,000 in flight; acceptance: RSS)."""
    checks: dict[str, dict[str, Any]] = {
        "all_succeed": {"target": scenario.count, "value": result["succeeded"]},
    }
    checks["all_succeed"]["pass"] = result["succeeded"] == scenario.count
    peak = result["rss"]["peak_mib"]
    if scenario.acceptance:
        checks["rss"] = {"target": RSS_LIMIT_MIB, "value": peak, "pass": peak <= RSS_LIMIT_MIB}
    elif scenario.count == TARGET_LEVEL:
        checks["rss"] = {"target": RSS_LIMIT_MIB, "value": peak, "pass": peak < RSS_LIMIT_MIB}
        p95 = result["added_latency"]["p95"]
        checks["added_p95"] = {"target": P95_LIMIT, "value": p95, "pass": p95 is not None and p95 <= P95_LIMIT}
    return checks


# -- the run ----------------------------------------------------------------------------------------------


def run(args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = {"benchmark": NAME, "machine": harness.machine_info(), "settings": settings(args)}
    results = []
    with harness.emulator(log_dir) as emulator:
        harness.post_json(f"{emulator.url}/__config", EMULATOR_CONFIG)
        for scenario in scenarios(args):
            print(f"{scenario.name} (fresh service, WEB_CONCURRENCY=1) ...", flush=True)
            result = run_scenario(emulator, log_dir, scenario, args.sessions)
            print(f"  {_line(result)}", flush=True)
            results.append(result)
    document["scenarios"] = results
    return document


def settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "mode": "quick" if args.quick else "default",
        "levels": args.levels,
        "seconds": args.seconds,
        "sessions": args.sessions,
        "acceptance": None if args.quick or args.no_acceptance else list(ACCEPTANCE),
        **harness.service_settings(EMULATOR_CONFIG),
        "client": "one thread per request, plain requests, released together by a barrier",
        "rss_sample_seconds": harness.RSS_SAMPLE_SECONDS,
        "targets": {"rss_mib": RSS_LIMIT_MIB, "added_p95_at_1000": P95_LIMIT, "all_succeed": True},
    }


def _line(result: dict[str, Any]) -> str:
    added = result["added_latency"]
    return (
        f"{result['succeeded']}/{result['count']} ok, added p50 {harness.fmt_seconds(added['p50'])} s, "
        f"p95 {harness.fmt_seconds(added['p95'])} s, peak RSS {result['rss']['peak_mib']} MiB, "
        f"{result['upstream']['calls_per_second']} calls/s, wall {result['wall_seconds']} s, {verdicts(result)}"
    )


# -- output -----------------------------------------------------------------------------------------------

HEADER = [
    "scenario",
    "ok",
    "added p50",
    "p95",
    "max",
    "ready→poll p95",
    "poll→client p95",
    "submit→created p95",
    "peak RSS MiB",
    "calls/s",
    "calls/gen",
    "wall s",
    "CPU s worker/emu/client",
    "targets",
]


def rows(document: dict[str, Any]) -> list[list[str]]:
    table = []
    for result in document["scenarios"]:
        added, cpu = result["added_latency"], result["cpu_seconds"]
        table.append(
            [
                result["name"],
                f"{result['succeeded']}/{result['count']}",
                harness.fmt_seconds(added["p50"]),
                harness.fmt_seconds(added["p95"]),
                harness.fmt_seconds(added["max"]),
                harness.fmt_seconds(result["ready_to_terminal_poll"]["p95"]),
                harness.fmt_seconds(result["terminal_poll_to_client"]["p95"]),
                harness.fmt_seconds(result["submit_to_created"]["p95"]),
                f"{result['rss']['peak_mib']} (from {result['rss']['before_burst_mib']})",
                f"{result['upstream']['calls_per_second']:g}",
                f"{result['upstream']['calls_per_generation']:g}",
                f"{result['wall_seconds']:g}",
                f"{cpu['worker']:g}/{cpu['emulator']:g}/{cpu['client']:g}",
                verdicts(result),
            ]
        )
    return table


def verdicts(result: dict[str, Any]) -> str:
    names = {"all_succeed": "all ok", "rss": "RSS", "added_p95": "p95"}
    return " ".join(f"{names[key]} {'PASS' if c['pass'] else 'MISS'}" for key, c in result["targets"].items())


def readme_section(document: dict[str, Any]) -> str:
    machine, config = document["machine"], document["settings"]
    return "\n".join(
        [
            "## Load (`python -m bench.load`)",
            "",
            f"{machine['date']}, {machine['cpu_count']} CPUs ({machine['cpu_model']}), {machine['memory_gb']} GB, "
            f"Python {machine['python']}, commit {machine['git_commit']}{' (dirty tree)' if machine['git_dirty'] else ''}. "
            f"Service by its Procfile command with `WEB_CONCURRENCY=1` (one gevent worker), default poll settings, "
            f"a fresh service per row; every row's generations started at once over {config['sessions']} Bearer "
            "sessions round-robin, after one warm-up generation per session (not counted). Client: one thread per "
            "request (plain `requests`) in one process.",
            "",
            "Added latency = client completion - emulator `ready` (seconds). Peak RSS: the gunicorn worker, sampled "
            f"every {config['rss_sample_seconds'] * 1000:g} ms (before the burst in brackets). Targets: all succeed; "
            f"at 1,000 in flight RSS < {RSS_LIMIT_MIB:g} MiB and added p95 ≤ {P95_LIMIT:g} s; acceptance: 200 x 6 s "
            f"all succeed with RSS ≤ {RSS_LIMIT_MIB:g} MiB. `ready→poll`: ready to the first poll answer showing the "
            "result; `poll→client`: from there to the client; `submit→created`: client send to the emulator creating "
            "the generation (how long the burst takes to get in). CPU s: CPU seconds during the burst.",
            "",
            harness.markdown_table(HEADER, rows(document)),
        ]
    )


REPORT = harness.Report(NAME, HEADER, rows, readme_section)


def main(argv: Sequence[str] | None = None) -> int:
    harness.execute(REPORT, parse_args(argv), run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
