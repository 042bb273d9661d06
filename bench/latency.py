"""Added latency after a generation is ready, and upstream calls per generation (issues 5 and 9).

The service (Procfile command, gevent workers, default poll settings) runs against the emulator; both are
subprocesses on loopback ports. Added latency = the client's completion time minus the emulator's `ready`
time of that history id; calls = every request the emulator saw during a scenario / generations. Each
generation length runs on a freshly started service that first saw one warm-up generation of that length
(reported apart), so the figures show the steady state of a deployment whose jobs take about that long.

    python -m bench.latency [--quick] [--long] [--concurrency 50] [--repeat 5]

Figures, not tests: a missed target is printed as MISS; only generations failing outright exit non-zero.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench import harness

NAME = "latency"
TARGET_CALLS_8S = 8.0  # upstream calls per 8 s generation (the reference makes 11: one poll per second)
TARGET_P50 = 0.3  # seconds of added latency
TARGET_P95 = 0.6
EXPECTED_ITEMS = {"image": 4, "video": 1}
ENDPOINTS = {"image": "/v1/images/generations", "video": "/v1/videos/generations"}
POLL_PATH = "/mweb/v1/get_history_by_ids"
SUBMIT_PATH = "/mweb/v1/aigc_draft/generate"
CLIENT_SLACK_SECONDS = 180.0  # client read timeout beyond the generation time
# Credits are not what is measured: enough for 50 concurrent videos per session, so no daily claims happen.
EMULATOR_CONFIG = {"initial_gift_credit": 100_000}


@dataclass(frozen=True)
class Scenario:
    kind: str  # "image" or "video"
    seconds: float  # generation time on the emulator (prompt marker [gen=…])
    mode: str  # "warm-up", "sequential" or "concurrent"
    count: int

    @property
    def name(self) -> str:
        return f"{self.kind} {self.seconds:g}s {self.mode}"

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.seconds:g}s-{self.mode}"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int
    history_id: str | None
    items: int
    submitted: float  # unix seconds (client clock, same machine as the emulator)
    completed: float
    error: str = ""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="3 s generations, 3 sequential, 10 concurrent; no results written"
    )
    parser.add_argument(
        "--long",
        action="store_true",
        help="also 120 s generations (not with --quick), and videos when the endpoint exists",
    )
    parser.add_argument("--concurrency", type=int, default=None, help="generations in flight at once (default 50)")
    parser.add_argument("--repeat", type=int, default=None, help="sequential generations per length (default 5)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/results/ as it is")
    args = parser.parse_args(argv)
    args.concurrency = args.concurrency or (10 if args.quick else 50)
    args.repeat = args.repeat or (3 if args.quick else 5)
    if args.concurrency < 1 or args.repeat < 1:
        parser.error("--concurrency and --repeat must be at least 1")
    return args


def plan(args: argparse.Namespace) -> list[tuple[str, float]]:
    """(kind, seconds) groups to run, each on its own service."""
    lengths = [3.0] if args.quick else [8.0, 30.0]
    if args.long and not args.quick:
        lengths.append(120.0)
    kinds = ["image", "video"] if args.long else ["image"]
    return [(kind, seconds) for kind in kinds for seconds in lengths]


# -- one generation ---------------------------------------------------------------------------------------


def generate(service_url: str, token: str, kind: str, seconds: float) -> Outcome:
    """One blocking generation through the service; success is HTTP 200 with every item."""
    body = {"prompt": f"latency benchmark, a lighthouse at dusk [gen={seconds:g}s]"}
    headers = {"Authorization": f"Bearer {token}"}
    submitted = time.time()
    try:
        response = requests.post(
            service_url + ENDPOINTS[kind], json=body, headers=headers, timeout=(5, seconds + CLIENT_SLACK_SECONDS)
        )
        completed = time.time()
    except requests.RequestException as err:
        return Outcome(False, 0, None, 0, submitted, time.time(), f"{type(err).__name__}: {err}")
    payload = _json_or_none(response)
    history_id = payload.get("history_id") if payload else None
    if history_id is None and payload and isinstance(payload.get("error"), dict):
        history_id = payload["error"].get("history_id")
    items = len(payload.get("data") or []) if payload else 0
    ok = response.status_code == 200 and items == EXPECTED_ITEMS[kind] and bool(history_id)
    error = "" if ok else f"HTTP {response.status_code}, {items} items: {response.text[:200]}"
    return Outcome(ok, response.status_code, history_id, items, submitted, completed, error)


def _json_or_none(response: requests.Response) -> dict[str, Any] | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def endpoint_exists(service_url: str, kind: str) -> bool:
    """An empty body is refused before anything goes upstream: 400 when the route exists, 404 when not."""
    response = requests.post(
        service_url + ENDPOINTS[kind], json={}, headers={"Authorization": "Bearer bench-probe"}, timeout=10
    )
    return response.status_code != 404


# -- one scenario -----------------------------------------------------------------------------------------


def run_scenario(service_url: str, emulator_url: str, scenario: Scenario) -> dict[str, Any]:
    """Run the generations of one scenario with its own session, bracketed by two /__stats snapshots."""
    token = f"bench-{scenario.key}-{uuid.uuid4().hex[:8]}"
    before = harness.get_json(f"{emulator_url}/__stats")
    started = time.time()
    if scenario.mode == "concurrent":
        outcomes = _all_at_once(service_url, token, scenario)
    else:
        outcomes = [generate(service_url, token, scenario.kind, scenario.seconds) for _ in range(scenario.count)]
    wall = time.time() - started
    after = harness.get_json(f"{emulator_url}/__stats")
    return measure(scenario, outcomes, before, after, wall)


def _all_at_once(service_url: str, token: str, scenario: Scenario) -> list[Outcome]:
    """One thread per generation; on Ctrl-C do not wait for them (stopping the service ends their requests)."""
    pool = ThreadPoolExecutor(max_workers=scenario.count, thread_name_prefix="client")
    try:
        args = (service_url, token, scenario.kind, scenario.seconds)
        futures = [pool.submit(generate, *args) for _ in range(scenario.count)]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def measure(
    scenario: Scenario, outcomes: list[Outcome], before: dict[str, Any], after: dict[str, Any], wall: float
) -> dict[str, Any]:
    """Per-generation timings against the emulator's clock, and the upstream traffic of the scenario."""
    generations = after.get("generations", {})
    late = harness.Lateness()
    for outcome in outcomes:
        record = generations.get(outcome.history_id or "")
        if outcome.ok and record:
            late.add(outcome.completed, record)
    return {
        "name": scenario.name,
        "kind": scenario.kind,
        "seconds": scenario.seconds,
        "mode": scenario.mode,
        "generations": len(outcomes),
        "succeeded": sum(outcome.ok for outcome in outcomes),
        "errors": [outcome.error for outcome in outcomes if not outcome.ok][:5],
        "wall_seconds": round(wall, 2),
        "added_latency": harness.summary(late.added),
        "added_latency_samples": [round(value, 3) for value in late.added],  # in completion order per client
        "ready_to_terminal_poll": harness.summary(late.detect),
        "terminal_poll_to_client": harness.summary(late.deliver),
        "upstream": upstream_calls(before, after, len(outcomes), late.looks),
    }


def upstream_calls(
    before: dict[str, Any], after: dict[str, Any], generations: int, poll_counts: list[int]
) -> dict[str, Any]:
    """Deltas of the emulator's request counters, per generation."""
    old, new = before["requests"]["by_path"], after["requests"]["by_path"]
    by_path = {path: count - old.get(path, 0) for path, count in new.items() if count - old.get(path, 0)}
    total = after["requests"]["total"] - before["requests"]["total"]
    polls = by_path.get(POLL_PATH, 0)
    per = max(generations, 1)
    return {
        "total": total,
        "by_path": by_path,
        "calls_per_generation": round(total / per, 2),
        "poll_calls_per_generation": round(polls / per, 2),
        "submits_per_generation": round(by_path.get(SUBMIT_PATH, 0) / per, 2),
        "other_calls_per_generation": round((total - polls - by_path.get(SUBMIT_PATH, 0)) / per, 2),
        "polls_seen_per_history_id": round(sum(poll_counts) / len(poll_counts), 2) if poll_counts else None,
    }


def targets(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The issue's targets next to the figures: calls only for 8 s generations, latency for all."""
    checks: dict[str, dict[str, Any]] = {}
    if result["seconds"] == 8.0:
        calls = result["upstream"]["calls_per_generation"]
        checks["calls_per_generation"] = {"target": TARGET_CALLS_8S, "value": calls, "pass": calls <= TARGET_CALLS_8S}
    for key, limit in (("p50", TARGET_P50), ("p95", TARGET_P95)):
        value = result["added_latency"][key]
        checks[f"added_latency_{key}"] = {"target": limit, "value": value, "pass": value is not None and value <= limit}
    return checks


# -- the run ----------------------------------------------------------------------------------------------


def run_group(emulator_url: str, log_dir: Path, kind: str, seconds: float, args: argparse.Namespace) -> dict[str, Any]:
    """A fresh service: skip when the endpoint is missing, else a warm-up, then sequential and concurrent."""
    with harness.service(emulator_url, log_dir) as service:
        if not endpoint_exists(service.url, kind):
            note = f"{ENDPOINTS[kind]} answered 404: {kind} scenarios skipped"
            print(f"  skip: {note}", flush=True)
            return {"warm_up": None, "scenarios": [], "skipped": {"kind": kind, "seconds": seconds, "reason": note}}
        warm_up = run_scenario(service.url, emulator_url, Scenario(kind, seconds, "warm-up", 1))
        print(f"  {warm_up['name']}: {_line(warm_up)}", flush=True)
        scenarios = []
        for mode, count in (("sequential", args.repeat), ("concurrent", args.concurrency)):
            result = run_scenario(service.url, emulator_url, Scenario(kind, seconds, mode, count))
            result["targets"] = targets(result)
            print(f"  {result['name']} x{count}: {_line(result)}", flush=True)
            scenarios.append(result)
    return {"warm_up": warm_up, "scenarios": scenarios, "skipped": None}


def _line(result: dict[str, Any]) -> str:
    added = result["added_latency"]
    return (
        f"{result['succeeded']}/{result['generations']} ok, added p50 {harness.fmt_seconds(added['p50'])} s, "
        f"p95 {harness.fmt_seconds(added['p95'])} s, {result['upstream']['calls_per_generation']} calls/gen"
    )


def run(args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    """Every group against one emulator; the document written to latency.json."""
    document: dict[str, Any] = {"benchmark": NAME, "machine": harness.machine_info(), "settings": settings(args)}
    document["machine"]["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    warm_ups, scenarios, skipped = [], [], []
    with harness.emulator(log_dir) as emulator:
        harness.post_json(f"{emulator.url}/__config", EMULATOR_CONFIG)
        for kind, seconds in plan(args):
            print(f"{kind} generations of {seconds:g} s (fresh service, WEB_CONCURRENCY=1):", flush=True)
            group = run_group(emulator.url, log_dir, kind, seconds, args)
            warm_ups += [group["warm_up"]] if group["warm_up"] else []
            scenarios += group["scenarios"]
            skipped += [group["skipped"]] if group["skipped"] else []
    document.update(warm_ups=warm_ups, scenarios=scenarios, skipped=skipped)
    document["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    end_commit = harness.machine_info()["git_commit"]
    if end_commit != document["machine"]["git_commit"]:  # the service's code may have changed mid-run
        document["machine"]["git_commit_at_end"] = end_commit
        print(f"warning: HEAD moved from {document['machine']['git_commit']} to {end_commit} during the run")
    return document


def settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "mode": "quick" if args.quick else ("long" if args.long else "default"),
        "repeat": args.repeat,
        "concurrency": args.concurrency,
        **harness.service_settings(EMULATOR_CONFIG),
        "targets": {"calls_per_8s_generation": TARGET_CALLS_8S, "added_p50": TARGET_P50, "added_p95": TARGET_P95},
    }


# -- output -----------------------------------------------------------------------------------------------

HEADER = [
    "scenario",
    "ok",
    "added p50",
    "p95",
    "max",
    "ready→poll p50",
    "poll→client p50",
    "calls/gen",
    "polls/gen",
    "targets",
]


MODE_ORDER = {"warm-up": 0, "sequential": 1, "concurrent": 2}


def rows(document: dict[str, Any]) -> list[list[str]]:
    """One row per scenario, each length's warm-up first."""
    results = sorted(
        document["warm_ups"] + document["scenarios"], key=lambda r: (r["kind"], r["seconds"], MODE_ORDER[r["mode"]])
    )
    table = []
    for result in results:
        added, upstream = result["added_latency"], result["upstream"]
        table.append(
            [
                f"{result['name']} x{result['generations']}",
                f"{result['succeeded']}/{result['generations']}",
                harness.fmt_seconds(added["p50"]),
                harness.fmt_seconds(added["p95"]),
                harness.fmt_seconds(added["max"]),
                harness.fmt_seconds(result["ready_to_terminal_poll"]["p50"]),
                harness.fmt_seconds(result["terminal_poll_to_client"]["p50"]),
                f"{upstream['calls_per_generation']:g}",
                f"{upstream['poll_calls_per_generation']:g}",
                verdicts(result.get("targets")),
            ]
        )
    return table


def verdicts(checks: dict[str, dict[str, Any]] | None) -> str:
    if checks is None:
        return "(warm-up, not counted)"
    names = {"calls_per_generation": "calls", "added_latency_p50": "p50", "added_latency_p95": "p95"}
    return " ".join(f"{names[key]} {'PASS' if check['pass'] else 'MISS'}" for key, check in checks.items())


def readme_section(document: dict[str, Any]) -> str:
    machine = document["machine"]
    lines = [
        "## Latency (`python -m bench.latency`)",
        "",
        f"{machine['date']}, {machine['cpu_count']} CPUs ({machine['cpu_model']}), Python {machine['python']}, "
        f"commit {_commits(machine)}. Service by its Procfile "
        "command, one gevent worker, default poll settings, against the emulator on loopback; a fresh service per "
        "generation length after one warm-up generation (first row of each length, not counted).",
        "",
        f"Added latency = client completion - emulator `ready` (seconds). Targets: ≤ {TARGET_CALLS_8S:g} upstream "
        f"calls per 8 s generation, added p50 ≤ {TARGET_P50} s, p95 ≤ {TARGET_P95} s. "
        "`ready→poll`: ready to the first poll answer showing the result; `poll→client`: from there to the client.",
        "",
        harness.markdown_table(HEADER, rows(document)),
    ]
    lines += [f"\nSkipped: {item['reason']}." for item in _unique_reasons(document["skipped"])]
    return "\n".join(lines)


def _commits(machine: dict[str, Any]) -> str:
    text = machine["git_commit"] + (" (dirty tree)" if machine["git_dirty"] else "")
    if machine.get("git_commit_at_end"):
        text += f" (HEAD was {machine['git_commit_at_end']} at the end of the run)"
    return text


def _unique_reasons(skipped: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for item in skipped:
        seen.setdefault(item["reason"], item)
    return list(seen.values())


def failures(document: dict[str, Any]) -> int:
    return sum(r["generations"] - r["succeeded"] for r in document["warm_ups"] + document["scenarios"])


REPORT = harness.Report(NAME, HEADER, rows, readme_section)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    document = harness.execute(REPORT, args, run)
    for item in _unique_reasons(document["skipped"]):
        print(f"skipped: {item['reason']}")
    return harness.report_failures(document["warm_ups"] + document["scenarios"], "generation", failures(document))


if __name__ == "__main__":
    sys.exit(main())
