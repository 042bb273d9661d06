"""Webhooks end to end: the real service (gunicorn) against the emulator, a real receiver on loopback that
fails the first three deliveries; the service is restarted between them, and the fourth arrives, signed."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from app.domain.store import StoreUnavailableError
from app.domain.webhooks import Delivery, Outbox
from app.emulator import EmulatorServer
from tests.e2e.conftest import Api, assert_error, data_uri, png_bytes
from tests.e2e.test_idempotency import service_env
from tests.support import gunicorn_server

SECRET = "whsec-e2e-0123456789abcdef"
FAILURES = 3


def verify_signature(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """The receiver's check as docs/api.md shows it."""
    fields = dict(part.split("=", 1) for part in header.split(","))
    timestamp = int(fields["t"])
    if abs(time.time() - timestamp) > tolerance:  # refuse replays older than five minutes
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["v1"])


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers 500 to the first ``failures`` deliveries."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.arrived:
                    receiver.deliveries.append((body, dict(self.headers)))
                    failed = len(receiver.deliveries) <= receiver.failures
                    receiver.arrived.notify_all()
                self.send_response(500 if failed else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 90.0) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.deliveries) >= count, timeout=timeout), self.deliveries

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(FAILURES)
    yield server
    server.close()


def test_the_fourth_delivery_arrives_signed_across_a_restart(
    emu: EmulatorServer, tmp_path: Path, receiver: Receiver
) -> None:
    env = service_env(
        emu, WEB_CONCURRENCY="2", STATE_DB=str(tmp_path / "state.sqlite3"), WEBHOOK_SECRET=SECRET,
        ALLOW_PRIVATE_CALLBACK_URLS="1", WEBHOOK_RETRY_MIN_SECONDS="3", WEBHOOK_RETRY_MAX_SECONDS="3",
        WEBHOOK_CHECK_SECONDS="0.3",
    )  # fmt: skip
    token = "webhook-caller-session"
    with gunicorn_server(env) as url:
        accepted = requests.post(
            f"{url}/v1/images/generations", json={"prompt": "a webhook", "async": True, "callback_url": receiver.url},
            headers={"Authorization": f"Bearer {token}"}, timeout=60,
        )  # fmt: skip
        assert accepted.status_code == 202, accepted.text
        task_id = accepted.json()["id"]
        receiver.wait_for(1)  # the first attempt failed; the service stops before the next
    assert len(receiver.deliveries) < FAILURES + 1  # the delivery that succeeds is the next process's
    with gunicorn_server(env) as url:  # a new master and new workers: the outbox is in the state file
        receiver.wait_for(FAILURES + 1)
        task = requests.get(f"{url}/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    body, headers = receiver.deliveries[FAILURES]
    assert verify_signature(SECRET, headers["Jimeng-Signature"], body)
    assert not verify_signature("another-secret-0123456789", headers["Jimeng-Signature"], body)
    delivered = json.loads(body)
    assert delivered["id"] == task_id and delivered["status"] == "succeeded"
    assert {k: v for k, v in delivered.items() if k != "created"} == {
        k: v for k, v in task.json().items() if k != "created"
    }
    assert len({h["Webhook-Id"] for _, h in receiver.deliveries}) == 1  # one delivery, tried four times
    assert token not in body.decode() and SECRET not in body.decode()
    assert len(receiver.deliveries) == FAILURES + 1


def test_a_private_callback_url_is_refused_before_any_upstream_call(start_api: object) -> None:
    api: Api = start_api(webhook_secret=SECRET, allow_private_callback_urls=False)  # type: ignore[operator]
    body = {"prompt": "private", "async": True, "callback_url": "http://127.0.0.1:9/hook"}
    error = assert_error(api.post("/v1/images/generations", body), 400, "invalid_value")
    assert error["param"] == "callback_url" and "loopback" in error["message"]
    for url in ("http://10.1.2.3/hook", "ftp://example.com/x", "http://user:pw@example.com/", 42):
        assert_error(api.post("/v1/images/generations", {**body, "callback_url": url}), 400, "invalid_value")
    waiting = {"prompt": "sync", "callback_url": "https://example.com/hook"}
    assert "async" in assert_error(api.post("/v1/images/generations", waiting), 400, "invalid_value")["message"]
    assert api.submits() == 0


def test_the_post_edit_endpoints_take_a_callback_url_like_the_others(start_api: object) -> None:
    body = {"image": data_uri(png_bytes(16, 16)), "async": True, "callback_url": "http://127.0.0.1:9/hook"}
    strict: Api = start_api(webhook_secret=SECRET, allow_private_callback_urls=False)  # type: ignore[operator]
    error = assert_error(strict.post("/v1/images/upscale", body), 400, "invalid_value")
    assert error["param"] == "callback_url"
    assert strict.emulator.stats()["requests"]["total"] == 0
    loopback: Api = start_api(webhook_secret=SECRET, allow_private_callback_urls=True)  # type: ignore[operator]
    registered = loopback.post("/v1/images/upscale", body)
    assert registered.status_code == 202 and registered.headers["Callback-Status"] == "registered"


def test_callback_url_is_refused_when_webhooks_are_off(api: Api) -> None:
    body = {"prompt": "off", "async": True, "callback_url": "https://example.com/hook"}
    error = assert_error(api.post("/v1/images/generations", body), 400, "invalid_value")
    assert "WEBHOOK_SECRET" in error["message"]
    assert api.submits() == 0


def test_an_accepted_job_is_answered_202_with_its_history_id_when_the_store_fails_on_the_outbox(
    start_api: object, log_lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The money principle: Jimeng accepted (and will bill) the job, so the caller gets its history id even
    though the callback could not be written; the header says so and an error line names the history id."""
    api: Api = start_api(webhook_secret=SECRET, allow_private_callback_urls=True)  # type: ignore[operator]
    body = {"prompt": "store down", "async": True, "callback_url": "http://127.0.0.1:9/hook"}
    registered = api.post("/v1/images/generations", body)
    assert registered.status_code == 202 and registered.headers["Callback-Status"] == "registered"

    def down(self: Outbox, delivery: Delivery) -> bool:
        raise StoreUnavailableError("redis: connection refused")

    monkeypatch.setattr(Outbox, "add", down)
    accepted = api.post("/v1/images/generations", {**body, "prompt": "store down again"})
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["Callback-Status"] == "not-registered"
    history_id = accepted.json()["history_id"]
    assert history_id and api.submits() == 2
    errors = [line for line in log_lines if history_id in line and "will not be sent" in line]
    assert errors, log_lines[-5:]
    assert api.get(f"/v1/tasks/{history_id}").status_code == 200
