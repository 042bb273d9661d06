"""Test helpers: real servers on loopback ports (a WSGI app in a thread, gunicorn in a subprocess)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.serving import BaseWSGIServer, make_server

ROOT = Path(__file__).resolve().parent.parent


class LiveServer:
    """A WSGI app served on 127.0.0.1:<free port> by werkzeug in a daemon thread."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)  # type: ignore[arg-type]
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def missing(reason: str) -> None:
    """A real component the test needs is not installed: fail under CI (``.ci/run`` installs it, so a skip
    would hide a broken test), skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, timeout: float = 20.0, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            with requests.get(url, timeout=1) as response:
                if response.status_code < 500:
                    return
        except (requests.ConnectionError, requests.Timeout):  # a worker still booting may not answer yet
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def upstream_file_without_video_fps(directory: Path) -> Path:
    """A copy of the shipped protocol file missing one key, to see how start-up refuses it."""
    shipped = (ROOT / "config" / "upstream.yml").read_text(encoding="utf-8")
    text = shipped.replace("\n  fps: 24\n", "\n")
    assert text != shipped, "config/upstream.yml no longer has the line this helper removes"
    path = directory / "upstream.yml"
    path.write_text(text, encoding="utf-8")
    return path


def procfile_command() -> list[str]:
    """The Procfile's web command, with gunicorn run by this interpreter (the venv's)."""
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    words = line.removeprefix("web:").split()
    assert words[0] == "gunicorn", line
    return [sys.executable, "-m", "gunicorn", *words[1:]]


@contextmanager
def gunicorn_server(env: Mapping[str, str], log_path: Path | None = None) -> Iterator[str]:
    """The Procfile command (gevent workers) on a free port; yields its base URL."""
    with gunicorn_process(env, log_path) as (url, _):
        yield url


@contextmanager
def gunicorn_process(
    env: Mapping[str, str], log_path: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """As gunicorn_server, also yielding the master process (to inspect its workers)."""
    port = free_port()
    full_env = {**os.environ, "HOST": "127.0.0.1", **env, "PORT": str(port)}
    command = procfile_command()
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/ping", process=process)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log_path:
            out.close()  # type: ignore[union-attr]
