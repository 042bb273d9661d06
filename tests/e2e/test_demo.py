"""`jimeng-api demo`: the service and the emulator together, as the README's first command runs them."""

from __future__ import annotations

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
