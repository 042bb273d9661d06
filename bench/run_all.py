"""Run every benchmark present in bench/ in sequence (`make bench`), each in its own process.

Every module of bench/ with a main() is a benchmark (the known ones first), so a new script joins by existing.
Arguments are passed to each, so use the ones they share (`--quick`, `--no-write`). Exit status: non-zero when
any benchmark failed outright.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
# first, in this order; any other bench/<name>.py with a main() follows
ORDER = ("latency", "poller", "load", "faults", "retries", "sse", "hostile")
NOT_BENCHMARKS = {"__init__", "harness", "run_all"}
TIMEOUT_SECONDS = 3 * 3600  # per benchmark: a hung run must not hang `make bench` forever


def available() -> list[str]:
    """The benchmarks in this checkout: modules of bench/ with a main(), the known ones first."""
    found = {
        path.stem
        for path in BENCH_DIR.glob("*.py")
        if path.stem not in NOT_BENCHMARKS and "\ndef main(" in path.read_text()
    }
    return [name for name in ORDER if name in found] + sorted(found - set(ORDER))


def run_one(name: str, args: Sequence[str]) -> int:
    """`python -m bench.<name> ARGS` from the project root; its own process, so state never leaks between them."""
    print(f"=== bench.{name} {' '.join(args)}".rstrip(), flush=True)
    started = time.monotonic()
    try:
        code = subprocess.run(
            [sys.executable, "-m", f"bench.{name}", *args], cwd=BENCH_DIR.parent, timeout=TIMEOUT_SECONDS, check=False
        ).returncode
    except subprocess.TimeoutExpired:
        print(f"bench.{name} exceeded {TIMEOUT_SECONDS} s and was stopped", file=sys.stderr)
        code = 124
    print(f"=== bench.{name}: exit {code} after {time.monotonic() - started:.0f} s\n", flush=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    names = available()
    if not names:
        print("no benchmarks found in bench/", file=sys.stderr)
        return 1
    codes = {name: run_one(name, args) for name in names}
    failed = [name for name, code in codes.items() if code != 0]
    print("benchmarks: " + ", ".join(f"{name} {'ok' if code == 0 else f'exit {code}'}" for name, code in codes.items()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
