"""A real redis-server for tests: started on a free loopback port in a temporary folder, no persistence.

``.ci/run`` installs the Debian package when it is missing. Where it is missing, the ``redis_url`` fixture
fails under CI (the env var ``CI`` set: a test silently skipped there would hide a broken store) and skips
with the reason elsewhere.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.support import free_port, missing

MISSING = "redis-server not installed; .ci/run installs it (apt-get install redis-server)"


@dataclass(frozen=True)
class RedisServer:
    port: int
    password: str | None
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, decode_responses=True, socket_timeout=5)


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


def require_redis_server() -> str:
    """The redis-server binary; without one the calling test fails under CI and is skipped elsewhere."""
    binary = redis_server_binary()
    if binary is None:
        missing(MISSING)
    return binary


@contextmanager
def redis_server(password: str | None = None, binary: str | None = None) -> Iterator[RedisServer]:
    """Start redis-server (optionally with ``requirepass``), wait until it answers PING, stop it on exit."""
    binary = binary or require_redis_server()
    with tempfile.TemporaryDirectory(prefix="jimeng-redis-") as folder:
        server = _start(binary, Path(folder), password)
        try:
            yield server
        finally:
            server.process.terminate()
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait(timeout=10)


def _start(binary: str, folder: Path, password: str | None, attempts: int = 3) -> RedisServer:
    for _ in range(attempts):  # the free port may be taken between choosing and binding it
        port = free_port()
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(folder), "--logfile", str(folder / f"redis-{port}.log")]
        if password:
            command += ["--requirepass", password]
        process = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = RedisServer(port=port, password=password, process=process)
        if _answers(server):
            return server
        process.kill()
        process.wait(timeout=10)
    log = "\n".join(path.read_text(errors="replace")[-2000:] for path in folder.glob("redis-*.log"))
    raise RuntimeError(f"redis-server did not answer PING after {attempts} attempts:\n{log}")


def _answers(server: RedisServer, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    client = server.client()
    try:
        while time.monotonic() < deadline and server.process.poll() is None:
            try:
                if client.ping():
                    return True
            except redis.ConnectionError:
                time.sleep(0.02)
        return False
    finally:
        client.close()
