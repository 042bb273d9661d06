"""Never pay twice (issue 14): the official SDKs at their default retries against the service, under faults.

Every scenario runs a fresh service (Procfile command, one gevent worker, its own STATE_DB) against the emulator
after `POST /__reset`. Every call uses its own Bearer session, so the emulator's `generations` (each names its
session) tell how many generations each call caused.

- sdk-faults: the official Python SDK (`openai.OpenAI`, default max_retries=2, timeout 30 s), N image
  generations at once (threads) while every upstream path (emulator fault group `all`) answers 20% HTTP 502,
  10% connection resets and 5% truncated JSON, with a fixed fault seed.
- sdk-timeouts: the Python SDK with timeout=2 s on 5 s generations (`[gen=5s]`): every try times out, and each
  retry (x-stainless-retry-count 1, 2) must resume the first generation.
- slow-submit: the service with `UPSTREAM_READ_TIMEOUT=1.0` while the emulator delays every submit
  (`aigc_draft/generate`) by 1.5 s or 3 s before creating the generation: the submit answer is always late.
  Plain HTTP clients (no retries); every request must find its one generation.
- node-sdk: the official Node SDK (npm `openai` 6.x, installed into `.cache/node-sdk` from
  `tests/node/package.json`, run by `tests/node/call.mjs`), timeout 2000 ms on 5 s generations; skipped when
  node or npm is missing or the install fails.

Figures per scenario: SDK calls; HTTP attempts that reached the service (counted on the client: an httpx event
hook, or the Node script's fetch wrapper) and how many of them were retries; upstream requests (emulator);
generations created; calls that caused more than one generation ("twice"); lost generations (created, but
neither its history id nor its submit id is in any answer the client returned or raised); answers without a
history id ("no id"); successes. Client seconds: p50 and max over all calls (max is the worst case).

    python -m bench.retries [--quick] [--count 40] [--no-node] [--no-write]

Figures, not tests: a missed target prints MISS; only a benchmark that could not run exits non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bench import harness

NAME = "retries"
FAULTS = {"http_502": 0.20, "reset": 0.10, "truncate": 0.05}
FAULT_SEED = 14
CREDITS = 100_000
SDK_TIMEOUT = 30.0  # seconds, sdk-faults
FAULT_GEN_SECONDS = 3.0
TIMEOUT_SDK_SECONDS = 2.0  # sdk-timeouts and node-sdk: below the generation time
TIMEOUT_GEN_SECONDS = 5.0
READ_TIMEOUT = 1.0  # the service's UPSTREAM_READ_TIMEOUT in slow-submit
SUBMIT_LATENCIES_MS = (1500, 3000)
SLOW_GEN_SECONDS = 1.0
CLIENT_SLACK_SECONDS = 300.0
NODE_DIR = harness.ROOT / "tests" / "node"
NODE_SDK_DIR = harness.ROOT / ".cache" / "node-sdk"
NODE_CALL_SECONDS = 120.0
NPM_INSTALL_SECONDS = 300.0


@dataclass(frozen=True)
class Counts:
    faults: int
    timeouts: int
    slow: int
    node: int


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.retries", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls per scenario; not written")
    parser.add_argument("--count", type=int, default=40, help="SDK calls of sdk-faults (default 40, --quick 20)")
    parser.add_argument("--no-node", action="store_true", help="leave out the node-sdk scenario")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/results/ as it is")
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # run_all passes every benchmark the same arguments; others' options are not errors here
        print(f"bench.retries: ignoring {' '.join(unknown)}", file=sys.stderr)
    if args.count < 1:
        parser.error("--count must be positive")
    return args


def counts(args: argparse.Namespace) -> Counts:
    if args.quick:
        return Counts(faults=min(args.count, 20), timeouts=5, slow=10, node=3)
    return Counts(faults=args.count, timeouts=10, slow=25, node=5)


# -- one call, as its client saw it ---------------------------------------------------------------------------


@dataclass
class Outcome:
    """One call: how it ended, every HTTP attempt its client sent, and the text of what it returned or raised."""

    token: str
    ok: bool = False
    history_id: str | None = None
    text: str = ""  # the answer (success) or the error body; searched for history and submit ids
    kind: str = ""  # "ok", or the error: SDK exception class, HTTP status and error code
    attempts: list[dict[str, Any]] = field(default_factory=list)  # retry_count, status, should_retry
    started: float = 0.0
    seconds: float = 0.0


def sdk_call(base_url: str, token: str, prompt: str, timeout: float) -> Outcome:
    """One `images.generate` by the official Python SDK at its default retries, its attempts counted."""
    import openai

    outcome = Outcome(token, started=time.time())
    lock = threading.Lock()

    def on_request(request: Any) -> None:
        with lock:
            outcome.attempts.append({"retry_count": request.headers.get("x-stainless-retry-count")})

    def on_response(response: Any) -> None:
        with lock:
            outcome.attempts[-1].update(
                status=response.status_code, should_retry=response.headers.get("x-should-retry")
            )

    hooks: dict[str, list[Callable[..., Any]]] = {"request": [on_request], "response": [on_response]}
    with openai.DefaultHttpxClient(event_hooks=hooks) as http_client:
        client = openai.OpenAI(base_url=base_url + "/v1", api_key=token, timeout=timeout, http_client=http_client)
        try:
            result = client.images.generate(prompt=prompt)
            outcome.ok = True
            outcome.history_id = getattr(result, "history_id", None)
            outcome.text = result.model_dump_json()
            outcome.kind = "ok"
        except openai.APIStatusError as err:
            body = err.body if isinstance(err.body, dict) else {}
            outcome.history_id = body.get("history_id")
            outcome.text = json.dumps(err.body, ensure_ascii=False)
            outcome.kind = f"{type(err).__name__} {err.status_code} {body.get('code', '')}".rstrip()
        except openai.APIError as err:  # a timeout or a connection error: no answer at all
            outcome.kind = type(err).__name__
    outcome.seconds = time.time() - outcome.started
    return outcome


def http_call(url: str, token: str, prompt: str, timeout: tuple[float, float]) -> Outcome:
    """One plain POST (no retries), as harness.post_generation makes it."""
    reply = harness.post_generation(url + "/v1/images/generations", token, {"prompt": prompt}, timeout)
    error = (reply.payload or {}).get("error")
    code = error.get("code", "") if isinstance(error, dict) else ""
    kind = "ok" if reply.status == 200 else (f"HTTP {reply.status} {code}".rstrip() if reply.status else "no answer")
    return Outcome(
        token,
        ok=reply.status == 200,
        history_id=reply.history_id,
        text=reply.text,
        kind=kind,
        attempts=[{"retry_count": None, "status": reply.status}],
        started=reply.submitted,
        seconds=reply.completed - reply.submitted,
    )


def node_call(node: str, base_url: str, token: str, prompt: str, timeout_ms: int) -> Outcome:
    """One `images.generate` by the Node SDK through tests/node/call.mjs."""
    outcome = Outcome(token, started=time.time())
    spec = {"baseURL": base_url + "/v1", "apiKey": token, "kind": "images", "body": {"prompt": prompt}}
    done = subprocess.run(
        [node, str(NODE_DIR / "call.mjs"), json.dumps({**spec, "timeout": timeout_ms})],
        env={**os.environ, "NODE_SDK_DIR": str(NODE_SDK_DIR)},
        capture_output=True,
        text=True,
        timeout=NODE_CALL_SECONDS,
        check=False,
    )
    outcome.seconds = time.time() - outcome.started
    if done.returncode != 0:
        outcome.kind = f"node exit {done.returncode}: {done.stderr.strip()[-200:]}"
        return outcome
    result = json.loads(done.stdout.strip().splitlines()[-1])
    outcome.ok, outcome.attempts = bool(result["ok"]), result["attempts"]
    error = result.get("error") if isinstance(result.get("error"), dict) else {}
    outcome.history_id = result.get("history_id") or error.get("history_id")
    outcome.text = json.dumps(result if result["ok"] else result.get("error"), ensure_ascii=False)
    status = f" {result['status']}" if result.get("status") else ""
    outcome.kind = "ok" if result["ok"] else f"{result['name']}{status} {error.get('code', '')}".rstrip()
    return outcome


def node_sdk() -> tuple[str | None, str]:
    """node, with the openai npm package installed into .cache/node-sdk; (None, why) when it cannot be."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None, "node or npm is not installed"
    wanted = (NODE_DIR / "package.json").read_text()
    manifest, installed = NODE_SDK_DIR / "package.json", NODE_SDK_DIR / "node_modules" / "openai" / "package.json"
    if installed.exists() and manifest.exists() and manifest.read_text() == wanted:
        return node, ""
    NODE_SDK_DIR.mkdir(parents=True, exist_ok=True)
    manifest.write_text(wanted)
    command = [npm, "install", "--prefix", str(NODE_SDK_DIR), "--no-audit", "--no-fund", "--no-save"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=NPM_INSTALL_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        done = None
    if done is None or done.returncode != 0:
        manifest.unlink(missing_ok=True)
        return None, "npm install of the openai package failed" + (f": {done.stderr[-300:]}" if done else "")
    return node, ""


# -- one scenario -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    client: str  # "python-sdk", "http", "node-sdk"
    count: int
    prompt: str
    client_timeout: float
    emulator: dict[str, Any]
    service_env: dict[str, str]
    note: str


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    n = counts(args)
    runs = [
        Scenario(
            "sdk-faults",
            "python-sdk",
            n.faults,
            f"retries benchmark, a windmill in the rain [gen={FAULT_GEN_SECONDS:g}s]",
            SDK_TIMEOUT,
            {"fault_seed": FAULT_SEED, "faults": {"all": FAULTS}},
            {},
            f"Python SDK, timeout {SDK_TIMEOUT:g} s; faults on every upstream path, seed {FAULT_SEED}",
        ),
        Scenario(
            "sdk-timeouts",
            "python-sdk",
            n.timeouts,
            f"retries benchmark, a slow ridge [gen={TIMEOUT_GEN_SECONDS:g}s]",
            TIMEOUT_SDK_SECONDS,
            {},
            {},
            f"Python SDK, timeout {TIMEOUT_SDK_SECONDS:g} s on {TIMEOUT_GEN_SECONDS:g} s generations",
        ),
    ]
    for latency in SUBMIT_LATENCIES_MS:
        runs.append(
            Scenario(
                f"slow-submit {latency / 1000:g}s",
                "http",
                n.slow,
                f"retries benchmark, a late submit [gen={SLOW_GEN_SECONDS:g}s]",
                CLIENT_SLACK_SECONDS,
                {"faults": {"generate": {"latency_ms": latency}}},
                {"UPSTREAM_READ_TIMEOUT": f"{READ_TIMEOUT:g}"},
                f"plain HTTP; submit answered after {latency} ms, UPSTREAM_READ_TIMEOUT={READ_TIMEOUT:g}",
            )
        )
    if not args.no_node:
        runs.append(
            Scenario(
                "node-sdk",
                "node-sdk",
                n.node,
                f"retries benchmark, a slow ridge [gen={TIMEOUT_GEN_SECONDS:g}s]",
                TIMEOUT_SDK_SECONDS,
                {},
                {},
                f"Node SDK, timeout {TIMEOUT_SDK_SECONDS * 1000:g} ms on {TIMEOUT_GEN_SECONDS:g} s generations",
            )
        )
    return runs


def configure(emulator_url: str, config: dict[str, Any]) -> None:
    """A clean emulator (no accounts, generations or counters) with this scenario's faults."""
    harness.post_json(f"{emulator_url}/__reset", {})
    harness.post_json(f"{emulator_url}/__config", {"initial_gift_credit": CREDITS, **config})


def make_calls(scenario: Scenario, url: str, tokens: list[str], node: str | None) -> list[Callable[[], Outcome]]:
    if scenario.client == "python-sdk":
        return [partial(sdk_call, url, token, scenario.prompt, scenario.client_timeout) for token in tokens]
    if scenario.client == "node-sdk":
        assert node is not None
        timeout_ms = round(scenario.client_timeout * 1000)
        return [partial(node_call, node, url, token, scenario.prompt, timeout_ms) for token in tokens]
    timeout = (30.0, scenario.client_timeout)
    return [partial(http_call, url, token, scenario.prompt, timeout) for token in tokens]


def run_scenario(emulator_url: str, log_dir: Path, scenario: Scenario, node: str | None) -> dict[str, Any]:
    """Fresh emulator state and service; all calls at once; then the emulator's record of them."""
    configure(emulator_url, scenario.emulator)
    tokens = [f"retries-{uuid.uuid4().hex[:8]}-c{i}" for i in range(scenario.count)]
    slug = scenario.name.replace(" ", "-")
    env = {"WEB_CONCURRENCY": "1", "STATE_DB": str(log_dir / f"state-{slug}.sqlite3"), **scenario.service_env}
    with harness.service(emulator_url, log_dir, env) as service:
        calls = make_calls(scenario, service.url, tokens, node)
        started = time.time()
        outcomes: list[Outcome] = harness.run_all_at_once(calls)
        wall = time.time() - started
    stats = harness.get_json(f"{emulator_url}/__stats", timeout=30)
    result = measure(scenario, outcomes, stats)
    result["wall_seconds"] = round(wall, 2)
    result["targets"] = targets(result, scenario)
    return result


def measure(scenario: Scenario, outcomes: list[Outcome], stats: dict[str, Any]) -> dict[str, Any]:
    """Per call: its generations (by session), whether one of them reached no answer, and its attempts."""
    tokens = {outcome.token for outcome in outcomes}
    created = {hid: g for hid, g in stats.get("generations", {}).items() if g.get("session") in tokens}
    per_call = Counter(g["session"] for g in created.values())
    texts = [outcome.text for outcome in outcomes]
    lost = sorted(hid for hid, g in created.items() if not any(hid in t or str(g.get("submit_id")) in t for t in texts))
    by_task_id_only = sorted(
        hid
        for hid, g in created.items()
        if hid not in lost and not any(hid in text for text in texts) and g.get("submit_id")
    )
    our_submits = {g["submit_id"] for g in created.values()}
    submits_twice = {sid: n for sid, n in stats.get("submit_ids", {}).items() if sid in our_submits and n > 1}
    attempts = [attempt for outcome in outcomes for attempt in outcome.attempts]
    retries = [a for a in attempts if a.get("retry_count") not in (None, "0")]
    ordered = sorted(outcomes, key=lambda outcome: outcome.started)
    return {
        "name": scenario.name,
        "client": scenario.client,
        "note": scenario.note,
        "calls": len(outcomes),
        "succeeded": sum(outcome.ok for outcome in outcomes),
        "outcomes": dict(Counter(outcome.kind for outcome in outcomes)),
        "http_attempts": len(attempts),
        "http_retries": len(retries),
        "should_retry_false_answers": sum(a.get("should_retry") == "false" for a in attempts),
        "attempts_by_status": dict(Counter(str(a.get("status", a.get("error", "no answer"))) for a in attempts)),
        "upstream_requests": stats["requests"]["total"],
        "submits": stats["requests"]["by_path"].get("/mweb/v1/aigc_draft/generate", 0),
        "faults_injected": stats.get("faults", {}),
        "created": len(created),
        "made_twice": sum(1 for n in per_call.values() if n > 1),
        "made_twice_calls": {token: n for token, n in per_call.items() if n > 1},
        "submit_ids_twice": submits_twice,
        "lost": len(lost),
        "lost_history_ids": lost,
        "found_by_task_id_only": len(by_task_id_only),
        "no_history_id": sum(not outcome.history_id for outcome in outcomes),
        "no_history_id_outcomes": dict(Counter(outcome.kind for outcome in outcomes if not outcome.history_id)),
        "client_seconds": harness.summary([outcome.seconds for outcome in outcomes]),
        "first_call_seconds": round(ordered[0].seconds, 3) if ordered else None,
    }


def targets(result: dict[str, Any], scenario: Scenario) -> dict[str, dict[str, Any]]:
    """0 twice always; 0 lost where every call ends with an answer (a call that timed out on the client can
    carry no id, so the timeout scenarios have no lost target); created ≤ calls under faults, = calls
    otherwise; slow-submit: 0 answers without a history id."""
    calls, created = result["calls"], result["created"]
    checks: dict[str, dict[str, Any]] = {
        "twice": {"target": 0, "value": result["made_twice"], "pass": result["made_twice"] == 0},
    }
    if scenario.client_timeout > TIMEOUT_SDK_SECONDS:
        checks["lost"] = {"target": 0, "value": result["lost"], "pass": result["lost"] == 0}
    if scenario.name == "sdk-faults":
        checks["created"] = {"target": f"<= {calls}", "value": created, "pass": created <= calls}
    else:
        checks["created"] = {"target": f"= {calls}", "value": created, "pass": created == calls}
    if scenario.client == "http":
        checks["no id"] = {"target": 0, "value": result["no_history_id"], "pass": result["no_history_id"] == 0}
    return checks


def skipped(scenario: Scenario, reason: str) -> dict[str, Any]:
    return {"name": scenario.name, "client": scenario.client, "note": scenario.note, "skipped": reason}


# -- the run ----------------------------------------------------------------------------------------------


def run(args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = {"benchmark": NAME, "machine": harness.machine_info(), "settings": settings(args)}
    results = []
    node, why = (None, "left out (--no-node)") if args.no_node else node_sdk()
    with harness.emulator(log_dir) as emulator:
        for scenario in scenarios(args):
            if scenario.client == "node-sdk" and node is None:
                print(f"{scenario.name}: skipped ({why})", flush=True)
                results.append(skipped(scenario, why))
                continue
            print(f"{scenario.name}: {scenario.count} calls, {scenario.note} ...", flush=True)
            result = run_scenario(emulator.url, log_dir, scenario, node)
            print(f"  {_line(result)}", flush=True)
            results.append(result)
    document["scenarios"] = results
    return document


def settings(args: argparse.Namespace) -> dict[str, Any]:
    n = counts(args)
    return {
        "mode": "quick" if args.quick else "default",
        "counts": {"sdk-faults": n.faults, "sdk-timeouts": n.timeouts, "slow-submit": n.slow, "node-sdk": n.node},
        "faults": {"all": FAULTS},
        "fault_seed": FAULT_SEED,
        "sdk_timeout_seconds": SDK_TIMEOUT,
        "timeout_scenarios": {"client_timeout": TIMEOUT_SDK_SECONDS, "generation_seconds": TIMEOUT_GEN_SECONDS},
        "slow_submit": {"upstream_read_timeout": READ_TIMEOUT, "latencies_ms": list(SUBMIT_LATENCIES_MS)},
        "sdk_max_retries": "default (2)",
        **harness.service_settings(),
        "targets": {
            "made_twice": 0,
            "lost": "0 (not in sdk-timeouts and node-sdk: a client timeout carries no id)",
            "created": "<= calls (sdk-faults), = calls (others)",
            "no_history_id": "0 (slow-submit)",
        },
    }


def _line(result: dict[str, Any]) -> str:
    return (
        f"{result['succeeded']}/{result['calls']} ok, {result['http_attempts']} HTTP attempts "
        f"({result['http_retries']} retries), {result['created']} created, {result['made_twice']} twice, "
        f"{result['lost']} lost, {result['no_history_id']} without id, wall {result['wall_seconds']} s, "
        f"{verdicts(result)}"
    )


# -- output -----------------------------------------------------------------------------------------------

HEADER = [
    "scenario",
    "calls",
    "ok",
    "HTTP attempts (retries)",
    "upstream reqs",
    "created",
    "twice",
    "lost",
    "no id",
    "s p50 / max",
    "first call s",
    "targets",
]


def rows(document: dict[str, Any]) -> list[list[str]]:
    table = []
    for result in document["scenarios"]:
        if "skipped" in result:
            table.append([result["name"], "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "skipped"])
            continue
        seconds = result["client_seconds"]
        table.append(
            [
                result["name"],
                str(result["calls"]),
                str(result["succeeded"]),
                f"{result['http_attempts']} ({result['http_retries']})",
                str(result["upstream_requests"]),
                str(result["created"]),
                str(result["made_twice"]),
                str(result["lost"]),
                str(result["no_history_id"]),
                f"{harness.fmt_seconds(seconds['p50'])} / {harness.fmt_seconds(seconds['max'])}",
                harness.fmt_seconds(result["first_call_seconds"]),
                verdicts(result),
            ]
        )
    return table


def verdicts(result: dict[str, Any]) -> str:
    return " ".join(f"{key} {'PASS' if c['pass'] else 'MISS'}" for key, c in result["targets"].items())


def readme_section(document: dict[str, Any]) -> str:
    machine = document["machine"]
    mix = ", ".join(f"{value:.0%} {kind}" for kind, value in FAULTS.items())
    return "\n".join(
        [
            "## Retries (`python -m bench.retries`)",
            "",
            f"{machine['date']}, {machine['cpu_count']} CPUs ({machine['cpu_model']}), Python {machine['python']}, "
            f"commit {machine['git_commit']}{' (dirty tree)' if machine['git_dirty'] else ''}. Service by its Procfile "
            "command, one gevent worker, default settings except those named, a fresh service and `POST /__reset` "
            "per row; every call has its own Bearer session, all calls start at once. The SDKs run at their default "
            "retries (2).",
            "",
            f"- sdk-faults: the official Python SDK (timeout {SDK_TIMEOUT:g} s), {FAULT_GEN_SECONDS:g} s image "
            f"generations, emulator faults on every upstream path (group `all`): {mix}, seed {FAULT_SEED}.",
            f"- sdk-timeouts / node-sdk: the Python / Node SDK with a {TIMEOUT_SDK_SECONDS:g} s timeout on "
            f"{TIMEOUT_GEN_SECONDS:g} s generations: every try but perhaps the last times out.",
            f"- slow-submit: `UPSTREAM_READ_TIMEOUT={READ_TIMEOUT:g}`, the emulator answers every submit after the "
            "latency named (before creating the generation); plain HTTP clients, no retries.",
            "",
            "HTTP attempts = requests the clients sent to the service (retries: those with x-stainless-retry-count "
            "≥ 1); upstream reqs = requests the emulator saw; twice = calls that caused more than one generation; "
            "lost = a generation whose history id and submit id are in no answer the client returned or raised; "
            "no id = answers without a history id. Seconds per call: p50 and max (the worst call), first call = "
            "the first started on the fresh service. Targets: 0 twice; 0 lost except in sdk-timeouts and node-sdk "
            "(a call that timed out on the client carries no id); created ≤ calls (sdk-faults) or = calls "
            "(others); slow-submit 0 without id.",
            "",
            harness.markdown_table(HEADER, rows(document)),
            "",
            outcome_summary(document["scenarios"]),
        ]
    )


def outcome_summary(results: list[dict[str, Any]]) -> str:
    """How the calls ended, per scenario (the figures say how many failed, this says with what)."""
    parts = []
    for result in results:
        if "skipped" in result:
            parts.append(f"{result['name']}: skipped ({result['skipped']})")
            continue
        listed = ", ".join(f"{count} x `{kind}`" for kind, count in Counter(result["outcomes"]).most_common())
        parts.append(f"{result['name']}: {listed}")
    return "Outcomes: " + "; ".join(parts) + "."


REPORT = harness.Report(NAME, HEADER, rows, readme_section)


def main(argv: Sequence[str] | None = None) -> int:
    harness.execute(REPORT, parse_args(argv), run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
