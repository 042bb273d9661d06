"""The Procfile command (gunicorn, gevent workers) against the emulator: the production shape end to end."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import requests

from app.emulator import EmulatorServer
from tests.support import ROOT, free_port, gunicorn_server, procfile_command, upstream_file_without_video_fps

SECRET = "feedfacecafebeef0123456789abcdef"


def test_procfile_server_generates_images_and_keeps_session_ids_out_of_logs(
    emu: EmulatorServer, tmp_path: Path
) -> None:
    log = tmp_path / "gunicorn.log"
    env = {
        "JIMENG_BASE_URL": emu.url,
        "JIMENG_IMAGEX_URL": emu.url,
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": "DEBUG",
        "POLL_MAX_LATE_SECONDS_IMAGE": "0.3",
    }
    with gunicorn_server(env, log_path=log) as url:
        headers = {"Authorization": f"Bearer {SECRET}"}
        response = requests.post(
            f"{url}/v1/images/generations", json={"prompt": "a cat [gen=500ms]"}, headers=headers, timeout=30
        )
        assert response.status_code == 200, response.text
        assert len(response.json()["data"]) == 4
        task = requests.get(f"{url}/v1/tasks/{response.json()['history_id']}", headers=headers, timeout=30)
        assert task.json()["status"] == "succeeded"
        expired = requests.post(
            f"{url}/v1/images/generations",
            json={"prompt": "x"},
            headers={"Authorization": "Bearer a-expired-1234567"},
            timeout=30,
        )
        assert expired.status_code == 401
    text = log.read_text()
    assert "POST /v1/images/generations 200" in text
    assert SECRET not in text
    assert SECRET[-4:] in text  # masked, not dropped: logs still tell which session served the job


def test_a_bad_protocol_file_stops_the_master_with_one_line(tmp_path: Path) -> None:
    bad = upstream_file_without_video_fps(tmp_path)
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(free_port()), "JIMENG_UPSTREAM_CONFIG": str(bad)}
    done = subprocess.run(procfile_command(), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr == f"jimeng-api: configuration error: {bad}: missing key video.fps\n"
    assert "Traceback" not in done.stdout + done.stderr
