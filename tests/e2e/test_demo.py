"""`jimeng-api demo`: the service and the emulator together, as the README's first command runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.support import ROOT, free_port, upstream_file_without_video_fps, wait_until_up


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


def test_demo_refuses_a_bad_protocol_file_with_one_line_before_starting_anything(tmp_path: Path) -> None:
    bad = upstream_file_without_video_fps(tmp_path)
    env = {**os.environ, "JIMENG_UPSTREAM_CONFIG": str(bad)}
    command = [sys.executable, "-m", "app.cli", "demo", "--port", str(free_port())]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr == f"jimeng-api: configuration error: {bad}: missing key video.fps\n"
    assert done.stdout == ""  # no banner: neither the emulator nor the service was started
