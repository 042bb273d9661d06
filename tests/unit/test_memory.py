from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from app.memory import one_malloc_arena, return_large_buffers_to_the_os
from tests.support import ROOT


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's mmap threshold is glibc's")
def test_the_mmap_threshold_is_fixed_on_glibc() -> None:
    assert return_large_buffers_to_the_os() is True


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's arena limit is glibc's")
def test_the_arena_limit_is_set_on_glibc() -> None:
    assert one_malloc_arena() is True


HOOK = (
    "import app.memory, config.gunicorn as hooks; calls = []; app.memory.one_malloc_arena = lambda: calls.append(1);"
    " hooks.post_fork(None, None); print(len(calls))"
)


@pytest.mark.parametrize(("environment", "calls"), [({}, "1"), ({"MALLOC_ARENA_MAX": "4"}, "0")])
def test_each_worker_gets_one_arena_unless_the_environment_says_otherwise(
    environment: dict[str, str], calls: str
) -> None:
    """In a process of its own: loading config/gunicorn.py reads the settings and may set the metrics folder."""
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | {"WEB_CONCURRENCY": "1", **environment}
    done = subprocess.run([sys.executable, "-c", HOOK], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, calls), done.stderr
