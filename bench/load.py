"""Many generations in flight on ONE gevent worker: success, added latency, upstream traffic, worker memory (issue 9).

Per level (50, 200 and 1,000 generations of 10 s, all started at once) a fresh service runs by its Procfile
command with `WEB_CONCURRENCY=1` against the emulator, both subprocesses on loopback. Clients spread over 10
Bearer sessions round-robin, so the poller batches per session as it would for a real pool. Before the burst
every session makes one warm-up generation of the same length (not counted): the credit cache and the
duration estimate are then those of a deployment already running such jobs.

Added latency = client completion - emulator `ready` of that history id. Upstream calls = every request the
emulator saw during the burst. Peak RSS = the highest resident memory of the gunicorn worker (never the
master), sampled every 100 ms. The acceptance run (200 concurrent 6 s generations) is reported apart.

The capped row (issue 19) turns the per-session concurrency cap on: 1,000 requests over 50 sessions with
`SESSION_CONCURRENCY=2` and the emulator refusing a third running job per session (`max_running_jobs=2`,
ret 1010), 2 s generations. Its targets: all succeed, 0 upstream 1010s (emulator stats `refusals`), no session
above 2 running (emulator `peak_running`). Queue wait is measured per request: client send to the emulator
creating the generation (`submit→created`: the wait for a slot plus the submit itself); the service's own
`queue_wait_seconds` histogram (/metrics) is recorded next to it, its p50/p95 interpolated within buckets.
`--capped-only` runs that row alone and merges it into the recorded results (the other rows stay as they are).

The client is one thread per request with plain `requests` (see `harness.run_all_at_once`): threads sleep in
socket reads without the GIL, so 1,000 of them cost the 2 CPUs next to nothing while they wait; their CPU is
recorded next to the worker's and the emulator's so a saturated machine would show.

    python -m bench.load [--quick] [--levels 50,200,1000] [--seconds 10] [--sessions 10] [--no-write]
                         [--no-capped | --capped-only]

Figures, not tests: a missed target prints MISS; only a benchmark that could not run exits non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import requests

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
CAPPED = {"count": 1000, "sessions": 50, "cap": 2, "seconds": 2.0}  # the issue-19 row: caps on
CAPPED_NAME = "capped: 1000 x 2s, 50 sessions, cap 2"
WAIT_METRIC = "jimeng_api_queue_wait_seconds"


@dataclass(frozen=True)
class Scenario:
    name: str
    count: int
    seconds: float
    acceptance: bool = False
    capped: bool = False  # SESSION_CONCURRENCY and the emulator's max_running_jobs at CAPPED["cap"]

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
    parser.add_argument("--no-capped", action="store_true", help="skip the capped row (1000 x 2 s, cap 2)")
    parser.add_argument(
        "--capped-only", action="store_true", help="run only the capped row; merge it into the recorded results"
    )
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
    capped = Scenario(CAPPED_NAME, int(CAPPED["count"]), float(CAPPED["seconds"]), capped=True)
    if args.capped_only:
        return [capped]
    runs = [Scenario(f"{n} in flight, {args.seconds:g}s", n, args.seconds) for n in args.levels]
    if not (args.quick or args.no_acceptance):
        count, seconds = ACCEPTANCE
        runs.append(Scenario(f"acceptance: {count} x {seconds:g}s", count, seconds, acceptance=True))
    if not (args.quick or args.no_capped):
        runs.append(capped)
    return runs


# -- one scenario -----------------------------------------------------------------------------------------


def service_overrides(count: int, capped: bool = False) -> dict[str, str]:
    """One worker; connections raised only if the level needs more than the default (the warm-up's are closed).
    The capped row turns the per-session cap on (the harness turns it off for the other rows)."""
    needed = count + CONNECTION_HEADROOM
    connections = max(DEFAULT_WORKER_CONNECTIONS, needed)
    overrides = {"WEB_CONCURRENCY": "1", "GUNICORN_WORKER_CONNECTIONS": str(connections)}
    if capped:
        overrides["SESSION_CONCURRENCY"] = str(CAPPED["cap"])
    return overrides


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
    sessions = int(CAPPED["sessions"]) if scenario.capped else sessions
    tokens = [f"load-{scenario.count}-{uuid.uuid4().hex[:8]}-s{i}" for i in range(sessions)]
    overrides = service_overrides(scenario.count, scenario.capped)
    limit = int(CAPPED["cap"]) if scenario.capped else 0
    harness.post_json(f"{emulator.url}/__config", {"max_running_jobs": limit})
    with harness.service(emulator.url, log_dir, overrides) as service:
        warm = burst(service.url, tokens, scenario, len(tokens))
        workers = [p.pid for p in harness.worker_processes(service.pid)]
        pids = {"worker": workers, "emulator": [emulator.pid], "client": [os.getpid()]}
        cpu_before = {name: harness.cpu_seconds(ids) for name, ids in pids.items()}
        before = harness.get_json(f"{emulator.url}/__stats", timeout=30)
        waits_before = queue_wait_buckets(service.url)
        with harness.RssSampler(service.pid) as sampler:
            started = time.time()
            replies = burst(service.url, tokens, scenario, scenario.count)
            ended = time.time()
        cpu = {name: round(harness.cpu_seconds(ids) - cpu_before[name], 2) for name, ids in pids.items()}
        after = harness.get_json(f"{emulator.url}/__stats", timeout=30)
        waits_after = queue_wait_buckets(service.url)
    result = measure(scenario, replies, after, started, ended)
    if scenario.capped:
        result["capped"] = capped_figures(before, after, tokens, waits_before, waits_after)
        result["sessions"] = sessions
    result["warm_up_ok"] = sum(is_ok(r) for r in warm)
    result["upstream"] = upstream(harness.request_delta(before, after), scenario.count, ended - started)
    result["rss"] = rss_figures(sampler)
    result["cpu_seconds"] = cpu
    result["worker_connections"] = int(overrides["GUNICORN_WORKER_CONNECTIONS"])
    result["targets"] = targets(result, scenario)
    return result


def queue_wait_buckets(url: str) -> dict[float, float]:
    """The service's ``queue_wait_seconds`` histogram now: cumulative count per upper bound (+Inf included)."""
    from prometheus_client.parser import text_string_to_metric_families

    response = requests.get(f"{url}/metrics", timeout=30)
    response.raise_for_status()
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == WAIT_METRIC + "_bucket":
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
    return buckets


def histogram_quantile(buckets: dict[float, float], q: float) -> float | None:
    """Prometheus' estimate: linear within the bucket holding the q-th observation (None without any)."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0.0
    if total <= 0:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if bound == float("inf"):
                return lower
            return round(lower + (bound - lower) * (rank - below) / max(count - below, 1e-9), 3)
        lower, below = bound, count
    return lower


def capped_figures(
    before: dict[str, Any], after: dict[str, Any], tokens: list[str], waits_before: dict[float, float],
    waits_after: dict[float, float],
) -> dict[str, Any]:  # fmt: skip
    """1010s of the burst, the most running jobs any of its sessions had, and /metrics' wait histogram."""
    refusals = after.get("refusals", {}).get("concurrency_limit", 0) - before.get("refusals", {}).get(
        "concurrency_limit", 0
    )
    peaks = after.get("peak_running", {})
    delta = {bound: count - waits_before.get(bound, 0.0) for bound, count in waits_after.items()}
    return {
        "cap": CAPPED["cap"],
        "upstream_1010": refusals,
        "peak_running_max": max((peaks.get(token, 0) for token in tokens), default=0),
        "metrics_wait": {
            "count": int(delta.get(float("inf"), 0)),
            "p50": histogram_quantile(delta, 0.5),
            "p95": histogram_quantile(delta, 0.95),
            "buckets": {("+Inf" if b == float("inf") else f"{b:g}"): int(c) for b, c in sorted(delta.items())},
        },
    }


def is_ok(reply: harness.Reply) -> bool:
    return reply.status == 200 and reply.items == EXPECTED_ITEMS and bool(reply.history_id)


def measure(
    scenario: Scenario, replies: list[harness.Reply], stats: dict[str, Any], started: float, ended: float
) -> dict[str, Any]:
    """Timings of each successful generation against the emulator's clock (same machine)."""
    generations = stats.get("generations", {})
    late, submit_lag = harness.Lateness(), []
    for reply in replies:
        record = generations.get(reply.history_id or "")
        if not is_ok(reply) or not record:
            continue
        late.add(reply.completed, record)
        submit_lag.append(record["created"] - reply.submitted)
    errors = sorted({reply.error[:160] for reply in replies if not is_ok(reply)})
    return {
        "name": scenario.name,
        "count": scenario.count,
        "seconds": scenario.seconds,
        "acceptance": scenario.acceptance,
        "succeeded": sum(is_ok(reply) for reply in replies),
        "errors": errors[:5],
        "wall_seconds": round(ended - started, 2),
        "added_latency": harness.summary(late.added),
        "submit_to_created": harness.summary(submit_lag),
        "ready_to_terminal_poll": harness.summary(late.detect),
        "terminal_poll_to_client": harness.summary(late.deliver),
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
    elif scenario.capped:
        figures = result["capped"]
        checks["no_1010"] = {"target": 0, "value": figures["upstream_1010"], "pass": figures["upstream_1010"] == 0}
        peak_running = figures["peak_running_max"]
        checks["cap_kept"] = {"target": CAPPED["cap"], "value": peak_running, "pass": peak_running <= CAPPED["cap"]}
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
    document["scenarios"] = merged(results) if args.capped_only else results
    return document


def merged(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The recorded rows with the capped row replaced (or added); it carries its own machine details."""
    machine = harness.machine_info()
    for result in results:
        result["machine"] = machine
    path = harness.RESULTS_DIR / f"{NAME}.json"
    recorded = json.loads(path.read_text())["scenarios"] if path.exists() else []
    return [r for r in recorded if not r.get("capped")] + [r for r in results if "capped" in r]


def document_for(args: argparse.Namespace, document: dict[str, Any]) -> dict[str, Any]:
    """--capped-only keeps the recorded run's machine and settings at the top (the other rows are theirs)."""
    path = harness.RESULTS_DIR / f"{NAME}.json"
    if not args.capped_only or not path.exists():
        return document
    recorded = json.loads(path.read_text())
    return {**recorded, "scenarios": document["scenarios"]}


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
        "capped": None if args.quick or args.no_capped else {**CAPPED, "emulator_max_running_jobs": CAPPED["cap"]},
    }


def _line(result: dict[str, Any]) -> str:
    added = result["added_latency"]
    if "capped" in result:
        wait, figures = result["submit_to_created"], result["capped"]
        return (
            f"{result['succeeded']}/{result['count']} ok, wait p50 {harness.fmt_seconds(wait['p50'])} s, "
            f"p95 {harness.fmt_seconds(wait['p95'])} s (/metrics: {figures['metrics_wait']['p50']} / "
            f"{figures['metrics_wait']['p95']}), {figures['upstream_1010']} 1010s, peak running "
            f"{figures['peak_running_max']}, wall {result['wall_seconds']} s, {verdicts(result)}"
        )
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
    names = {"all_succeed": "all ok", "rss": "RSS", "added_p95": "p95", "no_1010": "0 1010s", "cap_kept": "cap"}
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
            *capped_section(document),
        ]
    )


CAPPED_HEADER = ["scenario", "ok", "wait p50", "p95", "max", "/metrics wait p50", "p95", "upstream 1010s",
                 "peak running/session", "wall s", "targets"]  # fmt: skip


def capped_section(document: dict[str, Any]) -> list[str]:
    table, when = [], ""
    for result in document["scenarios"]:
        if "capped" not in result:
            continue
        wait, figures, machine = result["submit_to_created"], result["capped"], result.get("machine", {})
        metrics_wait = figures["metrics_wait"]
        table.append(
            [
                result["name"],
                f"{result['succeeded']}/{result['count']}",
                harness.fmt_seconds(wait["p50"]),
                harness.fmt_seconds(wait["p95"]),
                harness.fmt_seconds(wait["max"]),
                harness.fmt_seconds(metrics_wait["p50"]),
                harness.fmt_seconds(metrics_wait["p95"]),
                str(figures["upstream_1010"]),
                str(figures["peak_running_max"]),
                f"{result['wall_seconds']:g}",
                verdicts(result),
            ]
        )
        when = f" (run alone: {machine['date']}, commit {machine['git_commit']})" if machine else ""
    if not table:
        return []
    return [
        "",
        f"Concurrency caps on{when}: `SESSION_CONCURRENCY={CAPPED['cap']}` on {CAPPED['sessions']} Bearer sessions "
        f"round-robin, the emulator refusing a job above {CAPPED['cap']} running per session (1010); all "
        f"{CAPPED['count']} requests at once, {CAPPED['seconds']:g} s generations. Queue wait per request = client "
        "send -> emulator creating the generation (the wait for a slot plus the submit); `/metrics wait`: the "
        "service's `queue_wait_seconds` histogram over the burst, p50/p95 interpolated within its buckets "
        "(coarse: 1, 2.5, 5, 10, 30, 60 s ...). Targets: all succeed, 0 upstream 1010s, no session above the cap.",
        "",
        harness.markdown_table(CAPPED_HEADER, table),
    ]


REPORT = harness.Report(NAME, HEADER, rows, readme_section)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    harness.execute(REPORT, args, lambda a, log_dir: document_for(a, run(a, log_dir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
