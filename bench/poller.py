"""The poller against the reference's "once a second from submit", side by side in one run (issue 17).

Every scenario runs twice, each time on a fresh service (its Procfile command, one gevent worker) against the
same emulator: once with the service's poller (`POLL_POLICY=schedule`, the default) and once with the
reference gateway's policy (`POLL_POLICY=every-second`: each job looked at on its own, 1, 2, 3 ... s after its
submit; the setting exists for this comparison only). The two runs of a scenario use the same prompts, so the
emulator gives them the same durations (`[gen=…]`, and `[sigma=…]`'s draws come from the prompt).

    python -m bench.poller [--quick] [--no-write] [--reference-1000]

Added latency = when the client got the result - when the emulator made it ready (`ready` of its history id);
every generation counts, the cold first job of each fresh service too. Calls per generation = every upstream
request of the scenario's sessions (the emulator's `requests.by_session`) / generations; looks per
generation = polls that asked about a generation (a batched call looks at several). Scenarios:

- stationary: 20 sequential 8 s images;
- lognormal: 40 images, durations lognormal (median 20 s, sigma 0.6; Jimeng's forecast knows the median
  only), 8 at once;
- regime shift: 10 sequential 5 s images, then 10 of 30 s (calls: the second half, as the issue measures);
- burst: 200 x 15 s images at once on one session;
- videos: 5 sequential 20 s videos (the emulator forecasts videos at 2x their time, as the notes saw);
- in flight: 1,000 x 10 s images at once over 10 sessions, this poller only (peak RSS of the worker, added p95).

The sequential and 8-at-once scenarios run side by side (both policies at the same time, on four services:
they use little CPU); the burst and the 1,000 in flight run alone. Figures, not tests: a missed target prints
MISS; only generations failing outright exit non-zero.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from bench import harness

NAME = "poller"
POLICIES = {"reference": "every-second", "poller": "schedule"}
ENDPOINTS = {"image": "/v1/images/generations", "video": "/v1/videos/generations"}
VIDEO_MODEL = "jimeng-video-seedance-2.0-fast"
EXPECTED_ITEMS = {"image": 4, "video": 1}
MAX_LATE = {"image": 1.0, "video": 2.0}  # acceptance: added latency max per kind (seconds)
P50_LIMIT = 0.4
CALL_RATIO = {"stationary": 0.7, "lognormal": 0.5, "regime": 0.5}  # of the reference's calls per generation
IN_FLIGHT_RSS_MIB, IN_FLIGHT_P95 = 88.0, 0.33  # the 1,000 in flight before this poller (issue 17)
CLIENT_SLACK_SECONDS = 240.0
EMULATOR_CONFIG = {"initial_gift_credit": 1_000_000}  # credits are not what is measured


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    kind: str
    seconds: tuple[float, ...]  # one phase per entry (regime: 5 s, then 30 s)
    count: int  # generations per phase
    at_once: int = 1  # generations in flight at a time (1: sequential)
    sigma: float = 0.0
    sessions: int = 1
    calls_from_phase: int = 0  # calls per generation counted from this phase on


FULL = [
    Scenario("stationary", "20 sequential 8 s images", "image", (8.0,), 20),
    Scenario(
        "lognormal",
        "40 images, lognormal (median 20 s, sigma 0.6), 8 at once",
        "image",
        (20.0,),
        40,
        at_once=8,
        sigma=0.6,
    ),
    Scenario("regime", "10 x 5 s images, then 10 x 30 s", "image", (5.0, 30.0), 10, calls_from_phase=1),
    Scenario("videos", "5 sequential 20 s videos", "video", (20.0,), 5),
    Scenario("burst", "200 x 15 s images at once, one session", "image", (15.0,), 200, at_once=200),
    Scenario("inflight", "1,000 x 10 s images at once, 10 sessions", "image", (10.0,), 1000, at_once=1000, sessions=10),
]
QUICK = [
    replace(FULL[0], title="5 sequential 3 s images", seconds=(3.0,), count=5),
    replace(
        FULL[1], title="12 images, lognormal (median 5 s, sigma 0.6), 4 at once", seconds=(5.0,), count=12, at_once=4
    ),
    replace(FULL[2], title="3 x 2 s images, then 3 x 8 s", seconds=(2.0, 8.0), count=3),
    replace(FULL[3], title="2 sequential 5 s videos", seconds=(5.0,), count=2),
    replace(FULL[4], title="50 x 5 s images at once, one session", seconds=(5.0,), count=50, at_once=50),
    replace(FULL[5], title="200 x 5 s images at once, 10 sessions", seconds=(5.0,), count=200, at_once=200),
]
SIDE_BY_SIDE = ("regime", "stationary", "videos", "lognormal")  # lanes: regime alone, the others in a row


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.poller", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short scenarios (about a minute); no results written")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/results/ as it is")
    parser.add_argument("--reference-1000", action="store_true", help="also run the 1,000 in flight once a second")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated scenarios (stationary, lognormal, regime, videos, burst, inflight); default all",
    )
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # run_all passes every benchmark the same arguments
        print(f"bench.poller: ignoring {' '.join(unknown)}", file=sys.stderr)
    return args


# -- one generation ---------------------------------------------------------------------------------------


def prompt(scenario: Scenario, phase: int, index: int) -> str:
    """The same prompt for both policies: the emulator then gives them the same durations."""
    sigma = f" [sigma={scenario.sigma:g}]" if scenario.sigma else ""
    return f"poller bench {scenario.key} {phase}-{index}, a lighthouse [gen={scenario.seconds[phase]:g}s]{sigma}"


def generate(url: str, token: str, scenario: Scenario, phase: int, index: int) -> harness.Reply:
    body: dict[str, Any] = {"prompt": prompt(scenario, phase, index)}
    if scenario.kind == "video":
        body["model"] = VIDEO_MODEL
    timeout = (30.0, scenario.seconds[phase] * 4 + CLIENT_SLACK_SECONDS)
    return harness.post_generation(url + ENDPOINTS[scenario.kind], token, body, timeout)


# -- one scenario under one policy ------------------------------------------------------------------------


def run_policy(emulator_url: str, log_dir: Path, scenario: Scenario, policy: str) -> dict[str, Any]:
    """A fresh service with ``policy``; the scenario's generations; what the emulator saw of its sessions."""
    tag = uuid.uuid4().hex[:8]
    tokens = [f"bench-poller-{scenario.key}-{policy}-{tag}-s{i}" for i in range(scenario.sessions)]
    overrides = {"POLL_POLICY": POLICIES[policy], "WEB_CONCURRENCY": "1"}
    if scenario.at_once > 900:
        overrides["GUNICORN_WORKER_CONNECTIONS"] = str(max(1000, scenario.at_once + 50))
    replies: list[tuple[int, harness.Reply]] = []
    marks: list[dict[str, Any]] = []
    started = time.time()
    with harness.service(emulator_url, log_dir, overrides) as service:
        sampler = harness.RssSampler(service.pid) if scenario.key == "inflight" else None
        for phase in range(len(scenario.seconds)):
            marks.append(harness.get_json(f"{emulator_url}/__stats"))
            calls = [partial(generate, service.url, tokens[i % len(tokens)], scenario, phase, i)
                     for i in range(scenario.count)]  # fmt: skip
            if sampler is not None:
                with sampler:
                    replies += [(phase, reply) for reply in _run(calls, scenario.at_once)]
            else:
                replies += [(phase, reply) for reply in _run(calls, scenario.at_once)]
        after = harness.get_json(f"{emulator_url}/__stats")
    result = measure(scenario, policy, tokens, replies, marks, after)
    result["wall_seconds"] = round(time.time() - started, 1)
    if sampler is not None:
        result["peak_rss_mib"] = harness.mib(sampler.peak)
        result["rss_before_mib"] = harness.mib(sampler.first)
    print(f"  {scenario.key:<10} {policy:<9} {_line(result)}", flush=True)
    return result


def _run(calls: Sequence[Callable[[], harness.Reply]], at_once: int) -> list[harness.Reply]:
    if at_once >= len(calls) > 1:
        return harness.run_all_at_once(calls)
    if at_once <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="client") as pool:
        return list(pool.map(lambda call: call(), calls))


def measure(
    scenario: Scenario,
    policy: str,
    tokens: list[str],
    replies: list[tuple[int, harness.Reply]],
    marks: list[dict[str, Any]],
    after: dict[str, Any],
) -> dict[str, Any]:
    generations = after.get("generations", {})
    expected = EXPECTED_ITEMS[scenario.kind]
    late, errors = harness.Lateness(), []
    first = min(replies, key=lambda item: item[1].submitted)[1] if replies else None
    cold: float | None = None
    for _, reply in replies:
        record = generations.get(reply.history_id or "")
        if reply.status != 200 or reply.items != expected or not record or record.get("ready") is None:
            errors.append(reply.error or f"HTTP {reply.status}, {reply.items} items")
            continue
        added = late.add(reply.completed, record)
        if reply is first:
            cold = round(added, 3)
    counted = [reply for phase, reply in replies if phase >= scenario.calls_from_phase]
    calls = _session_calls(after, tokens) - _session_calls(marks[scenario.calls_from_phase], tokens)
    return {
        "scenario": scenario.key,
        "title": scenario.title,
        "kind": scenario.kind,
        "policy": policy,
        "generations": len(replies),
        "succeeded": len(late.added),
        "errors": errors[:5],
        "added_latency": harness.summary(late.added),
        "cold_first": cold,
        "added_latency_samples": [round(value, 3) for value in late.added],
        "ready_to_terminal_poll": harness.summary(late.detect),
        "terminal_poll_to_client": harness.summary(late.deliver),
        "calls_per_generation": round(calls / max(len(counted), 1), 2),
        "calls_counted_over": "second phase" if scenario.calls_from_phase else "all generations",
        "calls_per_generation_all": round(_session_calls(after, tokens) / max(len(replies), 1), 2),
        "looks_per_generation": round(sum(late.looks) / len(late.looks), 2) if late.looks else None,
    }


def _session_calls(stats: dict[str, Any], tokens: list[str]) -> int:
    by_session = stats["requests"].get("by_session", {})
    return sum(by_session.get(token, 0) for token in tokens)


def _line(result: dict[str, Any]) -> str:
    added = result["added_latency"]
    return (
        f"{result['succeeded']}/{result['generations']} ok, added p50 {harness.fmt_seconds(added['p50'])} "
        f"max {harness.fmt_seconds(added['max'])} (cold {harness.fmt_seconds(result['cold_first'])}), "
        f"ready→poll p95 {harness.fmt_seconds(result['ready_to_terminal_poll']['p95'])}, "
        f"poll→client p95 {harness.fmt_seconds(result['terminal_poll_to_client']['p95'])}, "
        f"{result['calls_per_generation']} calls/gen"
        + (f", peak RSS {result['peak_rss_mib']} MiB" if "peak_rss_mib" in result else "")
    )


# -- the run ----------------------------------------------------------------------------------------------


def run(args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    scenarios = {scenario.key: scenario for scenario in (QUICK if args.quick else FULL)}
    wanted = {key.strip() for key in args.only.split(",") if key.strip()} or set(scenarios)
    if wanted - set(scenarios):
        raise ValueError(f"unknown scenarios: {', '.join(sorted(wanted - set(scenarios)))}")
    document: dict[str, Any] = {"benchmark": NAME, "machine": harness.machine_info(), "settings": settings(args)}
    document["machine"]["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    results: list[dict[str, Any]] = []
    lock = threading.Lock()
    with harness.emulator(log_dir) as emulator:
        harness.post_json(f"{emulator.url}/__config", EMULATOR_CONFIG)

        def lane(keys: Sequence[str], policy: str) -> None:
            for key in keys:
                result = run_policy(emulator.url, log_dir, scenarios[key], policy)
                with lock:
                    results.append(result)

        print("side by side: regime shift | stationary, videos, lognormal; each under both policies", flush=True)
        first, rest = [k for k in SIDE_BY_SIDE[:1] if k in wanted], [k for k in SIDE_BY_SIDE[1:] if k in wanted]
        lanes = [(keys, policy) for keys in (first, rest) if keys for policy in POLICIES]
        with ThreadPoolExecutor(max_workers=max(len(lanes), 1), thread_name_prefix="lane") as pool:
            for future in [pool.submit(lane, keys, policy) for keys, policy in lanes]:
                future.result()
        print("alone: the burst under each policy, then the 1,000 in flight", flush=True)
        for policy in POLICIES if "burst" in wanted else ():
            results.append(run_policy(emulator.url, log_dir, scenarios["burst"], policy))
        for policy in (("reference", "poller") if args.reference_1000 else ("poller",)) if "inflight" in wanted else ():
            results.append(run_policy(emulator.url, log_dir, scenarios["inflight"], policy))
    order = list(scenarios)
    results.sort(key=lambda r: (order.index(r["scenario"]), list(POLICIES).index(r["policy"])))
    for result in results:
        result["targets"] = targets(result, results)
    document["results"] = results
    document["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    end_commit = harness.machine_info()["git_commit"]
    if end_commit != document["machine"]["git_commit"]:
        document["machine"]["git_commit_at_end"] = end_commit
    return document


def settings(args: argparse.Namespace) -> dict[str, Any]:
    recorded = harness.service_settings(EMULATOR_CONFIG)
    recorded["poll_settings"] = "service defaults; POLL_POLICY=every-second for the reference rows"
    return {
        "mode": "quick" if args.quick else "full",
        **recorded,
        "targets": {
            "added_max": MAX_LATE,
            "added_p50": P50_LIMIT,
            "calls_ratio": CALL_RATIO,
            "in_flight_rss_mib": IN_FLIGHT_RSS_MIB,
            "in_flight_p95": IN_FLIGHT_P95,
        },
    }


def targets(result: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The issue's acceptance, for this poller's rows: lateness everywhere, calls against the reference's."""
    if result["policy"] != "poller":
        return {}
    added, checks = result["added_latency"], {}
    if result["scenario"] == "inflight":
        rss, p95 = result.get("peak_rss_mib"), added["p95"]
        checks["rss"] = {
            "target": IN_FLIGHT_RSS_MIB,
            "value": rss,
            "pass": rss is not None and rss <= IN_FLIGHT_RSS_MIB,
        }
        checks["p95"] = {"target": IN_FLIGHT_P95, "value": p95, "pass": p95 is not None and p95 <= IN_FLIGHT_P95}
        return checks
    limit = MAX_LATE[result["kind"]]
    checks["max"] = {"target": limit, "value": added["max"], "pass": added["max"] is not None and added["max"] <= limit}
    checks["p50"] = {"target": P50_LIMIT, "value": added["p50"], "pass": added["p50"] is not None and added["p50"] <= P50_LIMIT}  # fmt: skip
    ratio = call_ratio(result, results)
    if result["scenario"] in CALL_RATIO and ratio is not None:
        goal = CALL_RATIO[result["scenario"]]
        checks["calls"] = {"target": goal, "value": ratio, "pass": ratio <= goal}
    return checks


def call_ratio(result: dict[str, Any], results: list[dict[str, Any]]) -> float | None:
    reference = next((r for r in results if r["scenario"] == result["scenario"] and r["policy"] == "reference"), None)
    if reference is None or result["policy"] == "reference" or not reference["calls_per_generation"]:
        return None
    return round(result["calls_per_generation"] / reference["calls_per_generation"], 2)


# -- output -----------------------------------------------------------------------------------------------

HEADER = ["scenario", "policy", "ok", "added p50", "p95", "max", "cold first", "calls/gen", "looks/gen", "calls ratio",
          "targets"]  # fmt: skip


def rows(document: dict[str, Any]) -> list[list[str]]:
    table = []
    for result in document["results"]:
        added = result["added_latency"]
        ratio = call_ratio(result, document["results"])
        calls = f"{result['calls_per_generation']:g}"
        if result["calls_counted_over"] != "all generations":
            calls += f" (all: {result['calls_per_generation_all']:g})"
        extra = f", RSS {result['peak_rss_mib']} MiB" if "peak_rss_mib" in result else ""
        table.append(
            [
                result["title"],
                result["policy"],
                f"{result['succeeded']}/{result['generations']}",
                harness.fmt_seconds(added["p50"]),
                harness.fmt_seconds(added["p95"]),
                harness.fmt_seconds(added["max"]),
                harness.fmt_seconds(result["cold_first"]),
                calls,
                f"{result['looks_per_generation']:g}" if result["looks_per_generation"] is not None else "-",
                "-" if ratio is None else f"{ratio:.2f}",
                verdicts(result["targets"]) + extra,
            ]
        )
    return table


def verdicts(checks: dict[str, dict[str, Any]]) -> str:
    if not checks:
        return ""
    return " ".join(f"{name} {'PASS' if check['pass'] else 'MISS'}" for name, check in checks.items())


def readme_section(document: dict[str, Any]) -> str:
    machine = document["machine"]
    commit = machine["git_commit"] + (" (dirty tree)" if machine["git_dirty"] else "")
    if machine.get("git_commit_at_end"):
        commit += f" (HEAD was {machine['git_commit_at_end']} at the end of the run)"
    lines = [
        "## Poller against once a second (`python -m bench.poller`)",
        "",
        f"{machine['date']}, {machine['cpu_count']} CPUs ({machine['cpu_model']}), Python {machine['python']}, "
        f"commit {commit}. Each scenario on a fresh service (Procfile command, one gevent worker, default "
        "settings) against the emulator, once with the service's poller and once with `POLL_POLICY=every-second` "
        "(the reference gateway's policy: each job looked at on its own, 1, 2, 3 ... s after its submit), with "
        "the same prompts and so the same durations. The four sequential or 8-at-once scenarios run side by "
        "side (both policies at once); the burst and the 1,000 in flight run alone.",
        "",
        "Added latency = client completion - emulator `ready` (seconds), every generation counted, the cold first "
        "one of each fresh service too (`cold first`). Calls/gen: every upstream request of the scenario's "
        "sessions per generation (regime shift: the second half, the 30 s jobs; all 20 in brackets); looks/gen: "
        "polls that asked about a generation (one batched call looks at several). Calls ratio: this poller's "
        "calls/gen over the reference's. Targets: added max ≤ 1.0 s images, ≤ 2.0 s videos, p50 ≤ 0.4 s; calls "
        "≤ 70 % of the reference's (stationary), ≤ 50 % (lognormal, regime shift); 1,000 in flight: peak worker "
        f"RSS ≤ {IN_FLIGHT_RSS_MIB:g} MiB, added p95 ≤ {IN_FLIGHT_P95} s. The reference's looks at whole seconds "
        "from the submit meet the emulator's whole-second generation times just after they end (its small "
        "latencies in the sequential rows); with durations that are not whole seconds it waits about 0.5 s on "
        "average (the lognormal row).",
        "",
        harness.markdown_table(HEADER, rows(document)),
    ]
    return "\n".join(lines)


def failures(document: dict[str, Any]) -> int:
    return sum(r["generations"] - r["succeeded"] for r in document["results"])


REPORT = harness.Report(NAME, HEADER, rows, readme_section)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    document = harness.execute(REPORT, args, run)
    named = [{**r, "name": f"{r['scenario']} {r['policy']}"} for r in document["results"]]
    return harness.report_failures(named, "generation", failures(document))


if __name__ == "__main__":
    sys.exit(main())
