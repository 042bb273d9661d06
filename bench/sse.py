"""Streamed chat completions (issue 7): time to first byte, and the result's way from upstream to the client.

The service (Procfile command, one gevent worker, default poll and keep-alive settings) runs against the
emulator; both are subprocesses on loopback ports. Each stream is a raw HTTP/1.1 socket, all of them read by
one selector loop, so the figures are the server's, not a client library's or client threads'. Per stream:

- first byte: from the connect to the first byte of the response (headers and the role chunk go together);
- ready→client: the arrival of the result chunk (the ``![image_1](...)`` lines) minus the emulator's ``ready``
  time of that history id, split into ready→poll (the first poll answer that showed the result) and
  poll→client.

Scenarios on one fresh service: a warm-up stream (reported apart: the poller learns the generation length),
then 1 stream at a time (``--repeat`` times), then ``--concurrency`` streams opened at once.

    python -m bench.sse [--quick] [--concurrency 100] [--repeat 5] [--no-write]

Figures, not tests: a missed target is printed as MISS; only streams failing outright exit non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import selectors
import socket
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import harness

NAME = "sse"
TARGET_FIRST_BYTE = {1: 0.050, 100: 0.200}  # seconds, p95 of the streams of a scenario
SUBMIT_PATH = "/mweb/v1/aigc_draft/generate"
POLL_PATH = "/mweb/v1/get_history_by_ids"
CLIENT_SLACK_SECONDS = 120.0
EMULATOR_CONFIG = {"initial_gift_credit": 100_000}  # credits are not what is measured
ROLE = b'"role":"assistant"'
RESULT = b"![image_"
DONE = b"data: [DONE]"
ERROR = b'data: {"error"'
KEEPALIVE = b": keep-alive"
HISTORY = re.compile(rb'"history_id":"(\d+)"')


@dataclass(frozen=True)
class Scenario:
    mode: str  # "warm-up", "sequential" or "concurrent"
    streams: int
    seconds: float

    @property
    def name(self) -> str:
        return f"{self.mode} x{self.streams}"

    @property
    def concurrency(self) -> int:
        return self.streams if self.mode == "concurrent" else 1


@dataclass
class Outcome:
    ok: bool = False
    status: int = 0
    history_id: str | None = None
    first_byte: float | None = None  # seconds after the connect started
    role_chunk: float | None = None
    result_at: float | None = None  # unix seconds (same clock as the emulator's: same machine)
    keepalives: int = 0
    error: str = ""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sse", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s generations, 3 sequential; no results written")
    parser.add_argument("--concurrency", type=int, default=100, help="streams opened at once (default 100)")
    parser.add_argument("--repeat", type=int, default=None, help="single streams one after another (default 5)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/results/ as it is")
    args = parser.parse_args(argv)
    args.repeat = args.repeat or (3 if args.quick else 5)
    args.seconds = 3.0 if args.quick else 10.0
    if args.concurrency < 1 or args.repeat < 1:
        parser.error("--concurrency and --repeat must be at least 1")
    return args


# -- the streams ------------------------------------------------------------------------------------------


def chat_request(service_url: str, token: str, seconds: float) -> bytes:
    address = urlsplit(service_url)
    prompt = f"sse benchmark, a lighthouse [gen={seconds:g}s]"
    body = json.dumps({"model": "jimeng-4.0", "stream": True, "messages": [{"role": "user", "content": prompt}]})
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {address.netloc}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return (head + body).encode()


@dataclass
class _Connection:
    sock: socket.socket
    began: float  # perf_counter at connect
    outcome: Outcome = field(default_factory=Outcome)
    sent: int = 0
    buffer: bytes = b""

    def feed(self, data: bytes) -> bool:
        """Take bytes as they arrive; True once the stream ended (``[DONE]`` or EOF)."""
        arrived, arrived_unix = time.perf_counter() - self.began, time.time()
        outcome = self.outcome
        if not data:
            outcome.error = f"connection closed before [DONE] after {len(self.buffer)} bytes: {self.buffer[-200:]!r}"
            return True
        self.buffer += data
        if outcome.first_byte is None:
            outcome.first_byte = arrived
            outcome.status = int(self.buffer.split(b" ", 2)[1]) if self.buffer.startswith(b"HTTP/1.1 ") else 0
        if outcome.role_chunk is None and ROLE in self.buffer:
            outcome.role_chunk = arrived
        if outcome.history_id is None and (match := HISTORY.search(self.buffer)):
            outcome.history_id = match[1].decode()
        if outcome.result_at is None and RESULT in self.buffer:
            outcome.result_at = arrived_unix
        if DONE not in self.buffer:
            return False
        self._judge()
        return True

    def _judge(self) -> None:
        outcome, buffer = self.outcome, self.buffer
        outcome.keepalives = buffer.count(KEEPALIVE)
        if ERROR in buffer:
            outcome.error = buffer[buffer.index(ERROR) :].split(b"\n", 1)[0].decode(errors="replace")[:300]
        elif outcome.status != 200 or outcome.result_at is None:
            outcome.error = f"HTTP {outcome.status}, no result chunk: {buffer[:200]!r}"
        else:
            outcome.ok = True


def run_streams(service_url: str, token: str, seconds: float, count: int) -> list[Outcome]:
    """``count`` streamed chats opened at once and read to the end by one selector loop (no client threads,
    so the times are the server's, not the client's scheduling)."""
    address = urlsplit(service_url)
    request = chat_request(service_url, token, seconds)
    selector = selectors.DefaultSelector()
    connections = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        connection = _Connection(sock, time.perf_counter())
        sock.connect_ex((address.hostname, address.port))
        selector.register(sock, selectors.EVENT_WRITE, connection)
        connections.append(connection)
    deadline = time.monotonic() + seconds + CLIENT_SLACK_SECONDS
    open_count = count
    try:
        while open_count and time.monotonic() < deadline:
            for key, events in selector.select(timeout=1.0):
                if _step(selector, key.data, request, events):
                    selector.unregister(key.fileobj)
                    key.data.sock.close()
                    open_count -= 1
    finally:
        for connection in connections:
            if connection.sock.fileno() != -1:
                connection.outcome.error = connection.outcome.error or "timed out"
                selector.unregister(connection.sock)
                connection.sock.close()
        selector.close()
    return [connection.outcome for connection in connections]


def _step(selector: selectors.BaseSelector, connection: _Connection, request: bytes, events: int) -> bool:
    """Send the request, then read; True when this connection is finished."""
    try:
        if events & selectors.EVENT_WRITE:
            error = connection.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error:
                raise OSError(error, os.strerror(error))
            connection.sent += connection.sock.send(request[connection.sent :])
            if connection.sent == len(request):
                selector.modify(connection.sock, selectors.EVENT_READ, connection)
            return False
        return connection.feed(connection.sock.recv(65536))
    except OSError as err:
        connection.outcome.error = f"{type(err).__name__}: {err}"
        return True


# -- one scenario -----------------------------------------------------------------------------------------


def run_scenario(service_url: str, emulator_url: str, scenario: Scenario) -> dict[str, Any]:
    """The streams of one scenario on its own session, bracketed by two /__stats snapshots."""
    token = f"bench-sse-{scenario.mode}-{uuid.uuid4().hex[:8]}"
    before = harness.get_json(f"{emulator_url}/__stats")
    started = time.time()
    if scenario.mode == "concurrent":
        outcomes = run_streams(service_url, token, scenario.seconds, scenario.streams)
    else:
        outcomes = [run_streams(service_url, token, scenario.seconds, 1)[0] for _ in range(scenario.streams)]
    wall = time.time() - started
    after = harness.get_json(f"{emulator_url}/__stats")
    return measure(scenario, outcomes, before, after, wall)


def measure(
    scenario: Scenario, outcomes: list[Outcome], before: dict[str, Any], after: dict[str, Any], wall: float
) -> dict[str, Any]:
    generations = after.get("generations", {})
    late = harness.Lateness()
    for outcome in outcomes:
        record = generations.get(outcome.history_id or "")
        if outcome.ok and record and outcome.result_at is not None:
            late.add(outcome.result_at, record)
    first_bytes = [o.first_byte for o in outcomes if o.first_byte is not None]
    old, new = before["requests"]["by_path"], after["requests"]["by_path"]
    per = max(len(outcomes), 1)
    return {
        "name": scenario.name,
        "mode": scenario.mode,
        "streams": scenario.streams,
        "concurrency": scenario.concurrency,
        "seconds": scenario.seconds,
        "succeeded": sum(o.ok for o in outcomes),
        "errors": [o.error for o in outcomes if not o.ok][:5],
        "wall_seconds": round(wall, 2),
        "first_byte": harness.summary(first_bytes),
        "role_chunk": harness.summary([o.role_chunk for o in outcomes if o.role_chunk is not None]),
        "ready_to_client": harness.summary(late.added),
        "ready_to_terminal_poll": harness.summary(late.detect),
        "terminal_poll_to_client": harness.summary(late.deliver),
        "keepalives_per_stream": round(sum(o.keepalives for o in outcomes) / per, 2),
        "submits_per_stream": round((new.get(SUBMIT_PATH, 0) - old.get(SUBMIT_PATH, 0)) / per, 2),
        "polls_per_stream": round((new.get(POLL_PATH, 0) - old.get(POLL_PATH, 0)) / per, 2),
    }


def targets(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """First byte (p95) against the issue's target for this concurrency, when it names one."""
    limit = TARGET_FIRST_BYTE.get(result["concurrency"])
    if limit is None or result["mode"] == "warm-up":
        return {}
    value = result["first_byte"]["p95"]
    return {"first_byte_p95": {"target": limit, "value": value, "pass": value is not None and value <= limit}}


# -- the run ----------------------------------------------------------------------------------------------


def run(args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = {"benchmark": NAME, "machine": harness.machine_info(), "settings": settings(args)}
    results = []
    with harness.emulator(log_dir) as emulator:
        harness.post_json(f"{emulator.url}/__config", EMULATOR_CONFIG)
        with harness.service(emulator.url, log_dir) as service:
            plan = [
                Scenario("warm-up", 1, args.seconds),
                Scenario("sequential", args.repeat, args.seconds),
                Scenario("concurrent", args.concurrency, args.seconds),
            ]
            for scenario in plan:
                result = run_scenario(service.url, emulator.url, scenario)
                result["targets"] = targets(result)
                print(f"  {result['name']}: {_line(result)}", flush=True)
                results.append(result)
    document["scenarios"] = results
    return document


def settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "mode": "quick" if args.quick else "default",
        "generation_seconds": args.seconds,
        "repeat": args.repeat,
        "concurrency": args.concurrency,
        **harness.service_settings(EMULATOR_CONFIG),
        "sse_keepalive_seconds": "service default",
        "targets": {"first_byte_p95": {str(k): v for k, v in TARGET_FIRST_BYTE.items()}},
    }


def _line(result: dict[str, Any]) -> str:
    return (
        f"{result['succeeded']}/{result['streams']} ok, first byte p50 {_ms(result['first_byte']['p50'])} "
        f"p95 {_ms(result['first_byte']['p95'])}, ready→client p50 {_ms(result['ready_to_client']['p50'])}"
    )


# -- output -----------------------------------------------------------------------------------------------

HEADER = [
    "scenario",
    "ok",
    "first byte p50",
    "p95",
    "max",
    "ready→client p50",
    "p95",
    "max",
    "ready→poll p50",
    "poll→client p50",
    "submits/stream",
    "target",
]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


def rows(document: dict[str, Any]) -> list[list[str]]:
    table = []
    for result in document["scenarios"]:
        first, gap = result["first_byte"], result["ready_to_client"]
        table.append(
            [
                f"{result['seconds']:g}s {result['name']}",
                f"{result['succeeded']}/{result['streams']}",
                _ms(first["p50"]),
                _ms(first["p95"]),
                _ms(first["max"]),
                _ms(gap["p50"]),
                _ms(gap["p95"]),
                _ms(gap["max"]),
                _ms(result["ready_to_terminal_poll"]["p50"]),
                _ms(result["terminal_poll_to_client"]["p50"]),
                f"{result['submits_per_stream']:g}",
                verdict(result),
            ]
        )
    return table


def verdict(result: dict[str, Any]) -> str:
    if result["mode"] == "warm-up":
        return "(warm-up, not counted)"
    check = result["targets"].get("first_byte_p95")
    if check is None:
        return "(no target at this concurrency)"
    return f"first byte p95 ≤ {check['target'] * 1000:g} ms {'PASS' if check['pass'] else 'MISS'}"


def readme_section(document: dict[str, Any]) -> str:
    machine, config = document["machine"], document["settings"]
    return "\n".join(
        [
            "## SSE streams (`python -m bench.sse`)",
            "",
            f"{machine['date']}, {machine['cpu_count']} CPUs ({machine['cpu_model']}), Python {machine['python']}, "
            f"commit {machine['git_commit']}{' (dirty tree)' if machine['git_dirty'] else ''}. Service by its "
            "Procfile command, one gevent worker, default poll and keep-alive settings, against the emulator on "
            f"loopback; streamed `jimeng-4.0` chats of {config['generation_seconds']:g} s generations, each on a raw "
            "HTTP/1.1 socket. One warm-up stream (not counted), then single streams one after another, then "
            f"{config['concurrency']} streams opened at once.",
            "",
            "First byte: connect to the first response byte (the role chunk goes out with the headers). "
            "ready→client: the emulator's `ready` to the arrival of the result chunk, split into ready→poll (first "
            "poll answer showing the result) and poll→client. Targets: first byte p95 ≤ 50 ms at 1 stream, ≤ 200 ms "
            "at 100.",
            "",
            harness.markdown_table(HEADER, rows(document)),
        ]
    )


def failures(document: dict[str, Any]) -> int:
    return sum(result["streams"] - result["succeeded"] for result in document["scenarios"])


REPORT = harness.Report(NAME, HEADER, rows, readme_section)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    document = harness.execute(REPORT, args, run)
    return harness.report_failures(document["scenarios"], "stream", failures(document))


if __name__ == "__main__":
    sys.exit(main())
