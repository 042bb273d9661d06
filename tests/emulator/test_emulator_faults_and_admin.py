"""Fault injection, introspection (/__stats, /__reset, /__config), keep-alive, and the CLI."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from app.emulator import EmulatorServer, start_emulator
from tests.emulator.emulator_client import Wire, image_body

ROOT = Path(__file__).resolve().parents[2]
GENERATE = "/mweb/v1/aigc_draft/generate"
CREDIT = "/commerce/v1/benefits/user_credit"


def _always(emulator: EmulatorServer, group: str, kind: str) -> None:
    emulator.configure(faults={group: {kind: 1.0}})


def test_http_502_is_answered_before_processing(wire: Wire, emulator: EmulatorServer) -> None:
    _always(emulator, "generate", "http_502")
    answer = wire.call(GENERATE, image_body("x"))
    assert answer.status_code == 502 and "Bad Gateway" in answer.text
    assert emulator.state.generations == {}
    assert emulator.stats()["faults"] == {"generate": {"http_502": 1}}


def test_http_429_is_answered_before_processing(wire: Wire, emulator: EmulatorServer) -> None:
    _always(emulator, "all", "http_429")
    assert wire.call(CREDIT, {}).status_code == 429
    assert wire.call(GENERATE, image_body("x")).status_code == 429
    assert emulator.state.generations == {}


def test_a_reset_raises_a_connection_error_and_records_before_or_after(wire: Wire, emulator: EmulatorServer) -> None:
    emulator.configure(faults={"generate": {"reset": 1.0}}, fault_seed=7)
    for _ in range(12):
        with pytest.raises(requests.ConnectionError):
            wire.call(GENERATE, image_body("x", count=1))
    resets = emulator.stats()["faults"]["generate"]
    assert resets["reset_before"] + resets["reset_after"] == 12
    assert resets["reset_before"] > 0 and resets["reset_after"] > 0
    assert len(emulator.state.generations) == resets["reset_after"]  # created and charged, answer lost
    emulator.configure(faults={"generate": {"reset": 0.0}})
    assert wire.credits()["gift_credit"] == 100 - resets["reset_after"]


def test_a_truncated_answer_is_invalid_json_but_the_generation_exists(wire: Wire, emulator: EmulatorServer) -> None:
    _always(emulator, "generate", "truncate")
    body = image_body("x")
    answer = wire.call(GENERATE, body)
    assert answer.status_code == 200 and int(answer.headers["Content-Length"]) == len(answer.content)
    with pytest.raises(ValueError):
        json.loads(answer.content)
    emulator.configure(faults={"generate": {"truncate": 0.0}})
    found = wire.history(submit_ids=[body["submit_id"]])
    assert found[body["submit_id"]]["status"] in (0, 20, 42, 45, 50)
    assert emulator.stats()["submit_ids"] == {body["submit_id"]: 1}


def test_a_lost_terminal_answer_is_not_counted_as_the_first_terminal_answer(
    wire: Wire, emulator: EmulatorServer
) -> None:
    history_id = wire.submit(image_body("x [gen=10ms]"))
    time.sleep(0.05)
    _always(emulator, "poll", "truncate")
    wire.call("/mweb/v1/get_history_by_ids", {"history_ids": [history_id]})
    assert emulator.stats()["generations"][history_id]["first_terminal_answer"] is None
    emulator.configure(faults={"poll": {"truncate": 0.0}})
    wire.history([history_id])
    entry = emulator.stats()["generations"][history_id]
    assert entry["first_terminal_answer"] >= entry["ready"] and entry["poll_count"] == 2


def test_latency_delays_the_answer(wire: Wire, emulator: EmulatorServer) -> None:
    emulator.configure(faults={"credit": {"latency_ms": 300, "jitter_ms": 50}})
    started = time.monotonic()
    assert wire.call(CREDIT, {}).json()["ret"] == "0"
    assert 0.3 <= time.monotonic() - started < 2
    assert emulator.stats()["faults"]["credit"]["latency"] == 1


def test_faults_never_touch_introspection_or_media(emulator: EmulatorServer, http: requests.Session) -> None:
    _always(emulator, "all", "http_502")
    assert http.get(f"{emulator.url}/__health", timeout=5).json() == {"status": "ok"}


def test_a_seeded_fault_sequence_is_reproducible(wire: Wire, emulator: EmulatorServer) -> None:
    def run() -> list[int]:
        emulator.configure(faults={"credit": {"http_502": 0.5}}, fault_seed=42)
        return [wire.call(CREDIT, {}).status_code for _ in range(10)]

    first = run()
    assert first == run() and set(first) == {200, 502}


def test_stats_count_requests_refusals_and_submit_ids(wire: Wire, emulator: EmulatorServer) -> None:
    body = image_body("x [gen=10ms]", count=6)
    first = wire.submit(body)
    wire.submit({**image_body("y", count=1, placement="generate"), "submit_id": body["submit_id"]})
    wire.call(CREDIT, {}, sign_value="0" * 32)
    time.sleep(0.05)
    stats = emulator.stats()
    assert stats["requests"]["by_path"] == {GENERATE: 2, CREDIT: 1}
    assert stats["requests"]["by_session"] == {wire.sessionid: 3}
    assert stats["refusals"] == {"sign_mismatch": 1}
    assert stats["submit_ids"] == {body["submit_id"]: 2}
    assert stats["totals"] == {"generations_created": 2, "credits_charged": 8}
    entry = stats["generations"][first]
    assert set(entry) >= {"submit_id", "session", "kind", "created", "ready", "first_terminal_answer",
                          "poll_count", "status", "items", "images_made", "gen_count", "gen_count_placement"}  # fmt: skip
    assert (entry["items"], entry["images_made"], entry["status"], entry["ready"]) == (6, 4, 42, None)
    second = next(e for hid, e in stats["generations"].items() if hid != first)
    assert (second["gen_count"], second["gen_count_placement"], second["items"]) == (1, "generate", 4)


def test_reset_and_config_over_http(wire: Wire, emulator: EmulatorServer, http: requests.Session) -> None:
    wire.submit(image_body("x"))
    changed = http.post(f"{emulator.url}/__config", json={"image_seconds": 2, "faults": {"poll": {"http_429": 0.5}}},
                        timeout=5).json()  # fmt: skip
    assert changed["image_seconds"] == 2.0 and changed["faults"]["poll"]["http_429"] == 0.5
    assert http.get(f"{emulator.url}/__config", timeout=5).json() == changed
    assert http.post(f"{emulator.url}/__config", json={"nope": 1}, timeout=5).status_code == 400
    assert (
        http.post(f"{emulator.url}/__config", json={"faults": {"poll": {"reset": 0.9}}}, timeout=5).status_code == 400
    )
    assert http.post(f"{emulator.url}/__reset", timeout=5).json() == {"status": "reset"}
    assert http.get(f"{emulator.url}/__config", timeout=5).json()["image_seconds"] == 0.4
    stats = http.get(f"{emulator.url}/__stats", timeout=5).json()
    assert stats["generations"] == {} and stats["requests"]["total"] == 0
    assert emulator.state.accounts == {}


def test_connections_are_kept_alive_between_requests(emulator: EmulatorServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
    try:
        connection.request("GET", "/__health")
        first = connection.getresponse()
        assert first.read() == b'{"status":"ok"}' and first.getheader("Connection") is None
        sock = connection.sock
        connection.request("POST", "/__config", body=b"{}")
        assert connection.getresponse().status == 200 and connection.sock is sock
    finally:
        connection.close()


def test_a_second_emulator_in_process_is_independent() -> None:
    with start_emulator(image_seconds=1) as other, requests.get(f"{other.url}/__config", timeout=5) as answer:
        assert answer.json()["image_seconds"] == 1.0


def test_the_cli_announces_its_url_and_serves_health() -> None:
    env = {**os.environ, "EMULATOR_IMAGE_SECONDS": "3", "EMULATOR_STRICT": "0"}
    command = [sys.executable, "-m", "app.emulator", "--port", "0"]
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) as process:
        try:
            line = process.stdout.readline() if process.stdout else ""
            assert line.startswith("EMULATOR_LISTENING http://127.0.0.1:")
            url = line.split()[1]
            with requests.get(f"{url}/__health", timeout=5) as health:
                assert health.json() == {"status": "ok"}
            with requests.get(f"{url}/__config", timeout=5) as config:
                assert config.json()["image_seconds"] == 3.0 and config.json()["strict"] is False
        finally:
            process.terminate()
            assert process.wait(timeout=10) == 0


def test_the_error_fault_answers_each_host_in_its_own_error_shape(wire: Wire, emulator: EmulatorServer) -> None:
    token = wire.ok("/mweb/v1/get_upload_token", {"scene": 2})
    _always(emulator, "all", "error")
    assert wire.call(GENERATE, image_body("x")).json()["ret"] == "3018"
    params = [("Action", "ApplyImageUpload"), ("Version", "2018-08-01"), ("ServiceId", "tb4s082cfz"), ("FileSize", "9")]
    answer = wire.imagex(token, "GET", params)
    assert answer.status_code == 500 and answer.json()["ResponseMetadata"]["Error"]["Code"] == "InternalError"
    assert emulator.state.generations == {}


@pytest.mark.parametrize(
    "change",
    [{"appvr_accepted": "8.4.0"}, {"appvr_accepted": [8]}, {"queue_share": 0.5}, {"poll_2008_share": 1.5},
     {"url_u0026_share": -0.1}, {"image_config_failure": "boom"}, {"strict": "yes"}, {"max_running_jobs": -1}],
)  # fmt: skip
def test_bad_values_of_the_2026_knobs_are_400(emulator: EmulatorServer, http: requests.Session, change: dict) -> None:
    assert http.post(f"{emulator.url}/__config", json=change, timeout=5).status_code == 400


def test_the_2026_knobs_read_back_as_json(emulator: EmulatorServer, http: requests.Session) -> None:
    config = http.get(f"{emulator.url}/__config", timeout=5).json()
    assert config["strict"] is True and config["appvr_accepted"] == ["8.4.0"]
    assert config["da_versions"][0] == "3.3.9" and config["da_versions"][-1] == "3.3.28"
    changed = http.post(f"{emulator.url}/__config", json={"video_config_failure": "-6", "queue_share": 0.3},
                        timeout=5).json()  # fmt: skip
    assert (changed["video_config_failure"], changed["queue_share"]) == ("-6", 0.3)


def test_the_error_fault_carries_the_empty_generation_object(wire: Wire, emulator: EmulatorServer) -> None:
    _always(emulator, "generate", "error")
    answer = wire.call(GENERATE, image_body("x")).json()
    assert (answer["ret"], answer["errmsg"]) == ("3018", "permission denied")
    assert answer["data"] == {"aigc_data": None, "fail_code": "", "fail_starling_key": "", "fail_starling_message": ""}


def test_stats_count_the_images_made(wire: Wire, emulator: EmulatorServer) -> None:
    wire.wait(wire.submit(image_body("x [gen=50ms]", count=2)))
    wire.wait(wire.submit(image_body("y [gen=50ms] [fail=2002]", count=3)))
    assert emulator.stats()["images_made"] == 2
