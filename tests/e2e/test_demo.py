"""`jimeng-api demo`: the service and the emulator together, as the README's first command runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import requests

from tests.support import ROOT, free_port, wait_until_up


def test_demo_serves_the_api_against_the_emulator_and_stops_on_sigterm() -> None:
    port = free_port()
    command = [sys.executable, "-m", "app.cli", "demo", "--port", str(port), "--image-seconds", "0.5"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/ping", process=process)  # type: ignore[arg-type]
        response = requests.post(
            f"http://127.0.0.1:{port}/v1/images/generations",
            json={"prompt": "a cute kitten"},
            headers={"Authorization": "Bearer demo"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        assert len(response.json()["data"]) == 4
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert b"curl http://127.0.0.1:" in output


def test_serve_runs_the_production_server_from_any_directory(tmp_path: object) -> None:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "WEB_CONCURRENCY": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"],
        cwd=str(tmp_path),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/ping", process=process)  # type: ignore[arg-type]
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["status"] == "ok"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
