"""Shared by the benchmark scripts: the emulator and the service as real subprocesses, and the results files.

The service is started by its Procfile command (gunicorn, gevent workers) so the figures describe what is
deployed, not a test server. Everything listens on 127.0.0.1 and every wait is bounded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
README = RESULTS_DIR / "README.md"
README_HEADER = (
    "# Benchmark results\n\n"
    "Recorded by `make bench` (`python -m bench.run_all`) on the machine described in each section. Each script\n"
    "rewrites only its own section (between its markers) and its own `<name>.json`; the JSON files hold every\n"
    "figure and the machine details.\n"
)
STARTUP_SECONDS = 30.0
STOP_SECONDS = 15.0
# Poller knobs the benchmark must not inherit from the caller's shell: the figures are for the defaults.
TUNING_ENV_PREFIXES = ("POLL_", "IMAGE_TIMEOUT", "VIDEO_TIMEOUT", "CREDIT_CACHE", "UPSTREAM_")


@dataclass
class Process:
    """A started server subprocess: its base URL, handle and log file."""

    name: str
    url: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid


def free_port() -> int:
    """A port free on 127.0.0.1 right now (gunicorn needs a number, it cannot report an ephemeral one)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _popen(command: Sequence[str], env: Mapping[str, str], log_path: Path, stdout_pipe: bool) -> subprocess.Popen:
    """Own session, so a Ctrl-C in the terminal reaches only us and we stop the children in order."""
    log = open(log_path, "ab")  # noqa: SIM115 - the child keeps it; closed by the OS when it exits
    try:
        return subprocess.Popen(
            list(command),
            cwd=ROOT,
            env=dict(env),
            stdout=subprocess.PIPE if stdout_pipe else log,
            stderr=log,
            start_new_session=True,
        )
    finally:
        log.close()


def _read_announcement(popen: subprocess.Popen[bytes], timeout: float) -> str:
    """The emulator prints exactly one `EMULATOR_LISTENING <url>` line; wait for it, bounded."""
    assert popen.stdout is not None
    deadline = time.monotonic() + timeout
    buffer = b""
    while b"\n" not in buffer:
        left = deadline - time.monotonic()
        if left <= 0 or popen.poll() is not None:
            raise RuntimeError(f"emulator did not announce its URL (exit code {popen.poll()})")
        ready, _, _ = select.select([popen.stdout], [], [], min(left, 0.5))
        if ready:
            chunk = os.read(popen.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError("emulator closed stdout before announcing its URL")
            buffer += chunk
    match = re.search(rb"EMULATOR_LISTENING (http://\S+)", buffer)
    if not match:
        raise RuntimeError(f"unexpected emulator output: {buffer[:200]!r}")
    return match.group(1).decode()


@contextlib.contextmanager
def emulator(log_dir: Path) -> Iterator[Process]:
    """`python -m app.emulator --port 0` in a subprocess; stopped on exit, also on errors and Ctrl-C."""
    log_path = log_dir / "emulator.log"
    popen = _popen([sys.executable, "-m", "app.emulator", "--port", "0"], os.environ, log_path, stdout_pipe=True)
    try:
        url = _read_announcement(popen, STARTUP_SECONDS)
        wait_http(f"{url}/__health", popen)
        yield Process("emulator", url, popen, log_path)
    finally:
        stop(popen)


def procfile_command() -> list[str]:
    """The Procfile's web command, gunicorn run by this interpreter (the venv's)."""
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    words = line.removeprefix("web:").split()
    if words[0] != "gunicorn":
        raise RuntimeError(f"unexpected Procfile command: {line}")
    return [sys.executable, "-m", "gunicorn", *words[1:]]


def service_env(upstream_url: str, port: int, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment minus poller/timeout tuning, pointed at the emulator, one worker by default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(TUNING_ENV_PREFIXES)}
    env.update(
        {"HOST": "127.0.0.1", "PORT": str(port), "JIMENG_BASE_URL": upstream_url, "JIMENG_IMAGEX_URL": upstream_url}
    )
    env.setdefault("WEB_CONCURRENCY", "1")
    # the benchmarks measure requests submitted at once (the emulator has no per-account limit); a run that
    # measures the per-session caps says SESSION_CONCURRENCY in its overrides
    env.setdefault("SESSION_CONCURRENCY", "0")
    env.update(overrides or {})
    return env


@contextlib.contextmanager
def service(upstream_url: str, log_dir: Path, overrides: Mapping[str, str] | None = None) -> Iterator[Process]:
    """The service by its Procfile command on a free port; stopped on exit, also on errors and Ctrl-C."""
    port = free_port()
    log_path = log_dir / f"service-{port}.log"
    env = service_env(upstream_url, port, overrides)
    popen = _popen(procfile_command(), env, log_path, stdout_pipe=False)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/ping", popen)
        yield Process("service", url, popen, log_path)
    finally:
        stop(popen, first_signal=signal.SIGINT)  # gunicorn: SIGINT is the quick shutdown


def wait_http(url: str, popen: subprocess.Popen[bytes], timeout: float = STARTUP_SECONDS) -> None:
    """Until `url` answers below 500; fails early when the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"process exited with {popen.returncode} before answering {url}")
        with contextlib.suppress(requests.RequestException), requests.get(url, timeout=1) as response:
            if response.status_code < 500:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


def stop(popen: subprocess.Popen[bytes], first_signal: int = signal.SIGTERM) -> None:
    """Signal, wait, then kill: the process and any children it left (by pid, never by name)."""
    if popen.poll() is not None:
        return
    children = _children(popen.pid)
    with contextlib.suppress(ProcessLookupError):
        popen.send_signal(first_signal)
    try:
        popen.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait(timeout=STOP_SECONDS)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.wait(timeout=STOP_SECONDS)
        with contextlib.suppress(psutil.Error):
            child.kill()


def _children(pid: int) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        return psutil.Process(pid).children(recursive=True)
    return []


def exit_on_sigterm() -> None:
    """SIGTERM raises like Ctrl-C does, so the `finally` blocks stop the subprocesses."""

    def _raise(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


# -- figures ------------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Lateness:
    """Where each generation's added latency went, against the emulator's record of it: ``added`` (ready to
    the client), ``detect`` (ready to the first poll answer showing it finished), ``deliver`` (from there to the
    client) and the polls that asked about it."""

    added: list[float] = field(default_factory=list)
    detect: list[float] = field(default_factory=list)
    deliver: list[float] = field(default_factory=list)
    looks: list[int] = field(default_factory=list)

    def add(self, completed: float, record: Mapping[str, Any]) -> float:
        """One generation the client had at ``completed``; its added latency."""
        late = completed - record["ready"]
        self.added.append(late)
        self.looks.append(record["poll_count"])
        if record.get("first_terminal_answer"):
            self.detect.append(record["first_terminal_answer"] - record["ready"])
            self.deliver.append(completed - record["first_terminal_answer"])
        return late


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """p50/p95/max (and min, mean, count) rounded to milliseconds."""

    def _round(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    return {
        "count": len(values),
        "min": _round(min(values) if values else None),
        "p50": _round(percentile(values, 50)),
        "p95": _round(percentile(values, 95)),
        "max": _round(max(values) if values else None),
        "mean": _round(sum(values) / len(values) if values else None),
    }


def fmt_seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def get_json(url: str, timeout: float = 10.0) -> dict[str, Any]:
    response = requests.get(url, timeout=timeout)
    response.raise_for_status()
    return response.json()


def post_json(url: str, body: Mapping[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    response = requests.post(url, json=dict(body), timeout=timeout)
    response.raise_for_status()
    return response.json()


# -- results ------------------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """What the figures depend on, recorded next to them."""
    memory = psutil.virtual_memory().total
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_count_physical": psutil.cpu_count(logical=False),
        "cpu_model": _cpu_model(),
        "memory_gb": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _git(*args: str) -> str:
    """Read-only git queries (commit, dirty flag); empty when git is unavailable."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False)
        return done.stdout.strip()
    return ""


def write_json(name: str, document: Mapping[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return path


def update_readme(name: str, section: str) -> Path:
    """Replace this benchmark's section between its markers; other benchmarks' sections stay as they are."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{section.strip()}\n{end}"
    text = README.read_text() if README.exists() else README_HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    README.write_text(text)
    return README


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Fixed-width columns for the terminal."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


# -- many clients at once, worker memory, upstream traffic (added for load.py and faults.py) -----------------

BARRIER_SECONDS = 60.0  # every client thread must be started by then, or the run is abandoned
RSS_SAMPLE_SECONDS = 0.1


@dataclass(frozen=True)
class Reply:
    """One client request as the client saw it; the raw body is kept so history ids can be searched in it."""

    status: int  # 0 when no HTTP answer arrived at all
    text: str
    payload: dict[str, Any] | None
    submitted: float  # unix seconds, client clock (the emulator runs on the same machine)
    completed: float
    error: str = ""

    @property
    def history_id(self) -> str | None:
        """`history_id` of a success body, or of the error object of an error body."""
        payload = self.payload or {}
        error = payload.get("error")
        value = payload.get("history_id") or (error.get("history_id") if isinstance(error, dict) else None)
        return str(value) if value else None

    @property
    def items(self) -> int:
        data = (self.payload or {}).get("data")
        return len(data) if isinstance(data, list) else 0


def post_generation(url: str, token: str, body: Mapping[str, Any], timeout: tuple[float, float]) -> Reply:
    """One blocking POST, without a shared session: its connection closes with it, as a one-shot client's does."""
    submitted = time.time()
    try:
        response = requests.post(url, json=dict(body), headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
        text = response.text
    except requests.RequestException as err:
        return Reply(0, "", None, submitted, time.time(), f"{type(err).__name__}: {err}")
    completed = time.time()
    try:
        payload = response.json()
    except ValueError:
        payload = None
    payload = payload if isinstance(payload, dict) else None
    error = "" if response.status_code == 200 else f"HTTP {response.status_code}: {text[:200]}"
    return Reply(response.status_code, text, payload, submitted, completed, error)


def run_all_at_once(calls: Sequence[Any]) -> list[Any]:
    """One thread per call, all released together by a barrier; results in call order.

    Threads block in socket reads with the GIL released, so a thousand of them cost almost no CPU while they
    wait, and the client needs neither gevent's monkey-patching (which would also stall on psutil's blocking
    reads in the sampler) nor a second process. The client's cyclic garbage collector is off meanwhile: late in
    a long benchmark its heap holds every earlier reply, a full collection then takes a while, and no client
    thread can take its completion time until it ends, so the pause would be counted as the service's.
    """
    import gc
    import threading

    barrier = threading.Barrier(len(calls) + 1)
    results: list[Any] = [None] * len(calls)

    def _run(index: int) -> None:
        barrier.wait(timeout=BARRIER_SECONDS)
        results[index] = calls[index]()

    threads = [threading.Thread(target=_run, args=(i,), name=f"client-{i}", daemon=True) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    collecting = gc.isenabled()
    gc.disable()
    try:
        barrier.wait(timeout=BARRIER_SECONDS)
        for thread in threads:
            thread.join()
    finally:
        if collecting:
            gc.enable()
    return results


def worker_processes(master_pid: int) -> list[psutil.Process]:
    """gunicorn's workers: the master's children (the master itself is never sampled)."""
    with contextlib.suppress(psutil.Error):
        return psutil.Process(master_pid).children(recursive=False)
    return []


class RssSampler:
    """Peak resident memory of the gunicorn worker(s), sampled every ~100 ms on a thread while in the block."""

    def __init__(self, master_pid: int, interval: float = RSS_SAMPLE_SECONDS) -> None:
        import threading

        self.master_pid = master_pid
        self.interval = interval
        self.peak_by_pid: dict[int, int] = {}
        self.samples = 0
        self.first: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample()

    @property
    def peak(self) -> int:
        """Bytes: the highest single-worker RSS seen."""
        return max(self.peak_by_pid.values(), default=0)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        total = 0
        for worker in worker_processes(self.master_pid):
            with contextlib.suppress(psutil.Error):
                rss = worker.memory_info().rss
                self.peak_by_pid[worker.pid] = max(self.peak_by_pid.get(worker.pid, 0), rss)
                total += rss
        self.samples += 1
        self.first = total if self.first is None else self.first


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of these processes so far (0 for any already gone)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


def request_delta(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Upstream requests the emulator saw between two /__stats snapshots: total and by path."""
    old, new = before["requests"]["by_path"], after["requests"]["by_path"]
    by_path = {path: count - old.get(path, 0) for path, count in new.items() if count - old.get(path, 0)}
    return {"total": after["requests"]["total"] - before["requests"]["total"], "by_path": by_path}


def mib(value: float | None) -> float | None:
    return None if value is None else round(value / 2**20, 1)


# -- the common frame of every benchmark's main() ----------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """How a benchmark prints and records its document."""

    name: str
    header: Sequence[str]
    rows: Callable[[dict[str, Any]], list[list[str]]]
    readme_section: Callable[[dict[str, Any]], str]


def service_settings(emulator_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """How every benchmark runs the service: recorded with its figures so they can be compared."""
    recorded: dict[str, Any] = {
        "service_command": " ".join(procfile_command()[2:]),
        "web_concurrency": 1,
        "poll_settings": "service defaults (POLL_* not set)",
    }
    if emulator_config is not None:
        recorded["emulator_config"] = emulator_config
    return recorded


def execute(report: Report, args: Any, run: Callable[[Any, Path], dict[str, Any]]) -> dict[str, Any]:
    """Run a benchmark with its logs in a fresh folder, print its table, record it unless --quick/--no-write.

    Exits 130 on Ctrl-C and 1 when the benchmark could not run at all; a missed target is not an error.
    """
    exit_on_sigterm()
    log_dir = Path(tempfile.mkdtemp(prefix=f"bench-{report.name}-"))
    print(f"logs of the emulator and the service: {log_dir}", flush=True)
    try:
        document = run(args, log_dir)
    except KeyboardInterrupt:
        print("interrupted; the emulator and the service were stopped", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as err:  # start-up failed, the emulator went away: not a missed target
        print(f"bench.{report.name} could not run: {type(err).__name__}: {err}", file=sys.stderr)
        raise SystemExit(1) from err
    print()
    print(text_table(report.header, report.rows(document)))
    if getattr(args, "quick", False) or getattr(args, "no_write", False):
        print("\nresults not written (--quick / --no-write)")
    else:
        written = (write_json(report.name, document), update_readme(report.name, report.readme_section(document)))
        print(f"\nwrote {written[0]} and {written[1]}")
    return document


def report_failures(results: Sequence[Mapping[str, Any]], what: str, failed: int) -> int:
    """Exit status 1 with the first errors when ``failed`` requests failed outright, else 0."""
    if not failed:
        return 0
    print(f"\n{failed} {what}(s) failed; first errors:", file=sys.stderr)
    for result in results:
        for error in result["errors"]:
            print(f"  {result['name']}: {error}", file=sys.stderr)
    return 1
