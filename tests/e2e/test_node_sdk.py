"""The official OpenAI Node SDK (npm `openai` 6.x) at its default retries (maxRetries 2) pays once.

The SDK is installed once per test session into `.cache/node-sdk` (gitignored) from `tests/node/package.json`;
`tests/node/call.mjs` makes one SDK call and reports its outcome and every HTTP attempt the SDK sent. Without
node or npm (or when the install fails) these tests fail under CI (env `CI` set: `.ci/run` installs the
Debian packages `nodejs` and `npm` when missing) and are skipped elsewhere.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.emulator import EmulatorServer
from tests.e2e.conftest import FAST_POLLING, SESSION_IDS_SEEN
from tests.support import LiveServer, missing

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "tests" / "node"
SDK_DIR = ROOT / ".cache" / "node-sdk"
MIN_NODE_MAJOR = 18  # global fetch; the SDK documents Node 20 LTS or later, Debian 12 ships 18
INSTALL_SECONDS = 300.0
CALL_SECONDS = 90.0


@dataclass(frozen=True)
class NodeSdk:
    node: str
    sdk_dir: Path

    def call(self, base_url: str, api_key: str, kind: str, body: dict[str, Any], **options: Any) -> dict[str, Any]:
        """One SDK call by tests/node/call.mjs; its outcome and attempts (see the script)."""
        spec = {"baseURL": base_url, "apiKey": api_key, "kind": kind, "body": body, **options}
        done = subprocess.run(
            [self.node, str(NODE_DIR / "call.mjs"), json.dumps(spec)],
            env={**os.environ, "NODE_SDK_DIR": str(self.sdk_dir)},
            capture_output=True,
            text=True,
            timeout=CALL_SECONDS,
            check=False,
        )
        assert done.returncode == 0, f"node exited with {done.returncode}: {done.stderr[-2000:]}"
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def node_major(node: str) -> int:
    done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)
    try:
        return int(done.stdout.strip().lstrip("v").split(".")[0])
    except ValueError:
        return 0


@pytest.fixture(scope="session")
def node_sdk() -> NodeSdk:
    """node, and the openai package installed into .cache/node-sdk (again only when package.json changed)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing("node or npm is not installed; .ci/run installs them (apt-get install nodejs npm)")
    assert node is not None and npm is not None
    if (major := node_major(node)) < MIN_NODE_MAJOR:
        missing(f"node {major} is too old for the openai SDK (need {MIN_NODE_MAJOR} or later)")
    SDK_DIR.mkdir(parents=True, exist_ok=True)
    wanted = (NODE_DIR / "package.json").read_text()
    with open(SDK_DIR / ".lock", "w") as lock:  # two test runs at once install once
        fcntl.flock(lock, fcntl.LOCK_EX)
        installed = SDK_DIR / "node_modules" / "openai" / "package.json"
        manifest = SDK_DIR / "package.json"
        if not installed.exists() or not manifest.exists() or manifest.read_text() != wanted:
            manifest.write_text(wanted)
            command = [npm, "install", "--prefix", str(SDK_DIR), "--no-audit", "--no-fund", "--no-save"]
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_SECONDS, check=False)
            except subprocess.TimeoutExpired:
                manifest.unlink(missing_ok=True)
                missing(f"npm install of the openai SDK took over {INSTALL_SECONDS:.0f} s")
            if done.returncode != 0:
                manifest.unlink(missing_ok=True)  # the next session tries again
                missing(f"npm install of the openai SDK failed: {done.stderr[-1000:]}")
    return NodeSdk(node, SDK_DIR)


@dataclass
class Seen:
    """The HTTP requests that reached the service: path and x-stainless-retry-count of each."""

    requests: list[tuple[str, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, app: Flask) -> None:
        inner = app.wsgi_app

        def counted(environ: dict[str, Any], start_response: Any) -> Any:
            with self.lock:
                self.requests.append((environ.get("PATH_INFO", ""), environ.get("HTTP_X_STAINLESS_RETRY_COUNT")))
            return inner(environ, start_response)

        app.wsgi_app = counted  # type: ignore[method-assign]

    def retry_counts(self, path: str) -> list[str | None]:
        with self.lock:
            return [count for seen_path, count in self.requests if seen_path == path]


@dataclass
class Service:
    url: str
    emulator: EmulatorServer
    seen: Seen
    token: str = field(default_factory=lambda: f"sess-{uuid.uuid4().hex}")

    def generations(self) -> dict[str, Any]:
        return dict(self.emulator.stats().get("generations", {}))


@pytest.fixture
def start_service(make_app: Callable[..., Flask], emu: EmulatorServer) -> Iterator[Callable[..., Service]]:
    """The app on a loopback port against the emulator (as `start_api`), counting the requests it receives."""
    servers: list[LiveServer] = []

    def start(**overrides: Any) -> Service:
        settings = {"jimeng_base_url": emu.url, "jimeng_imagex_url": emu.url, **FAST_POLLING, **overrides}
        app, seen = make_app(**settings), Seen()
        seen.wrap(app)
        server = LiveServer(app)
        servers.append(server)
        service = Service(server.url, emu, seen)
        SESSION_IDS_SEEN.add(service.token)  # no log line may hold it
        return service

    yield start
    for server in servers:
        server.stop()
        server.app.extensions["generation"].poller.stop()


IMAGES, CHAT = "/v1/images/generations", "/v1/chat/completions"


def call(sdk: NodeSdk, service: Service, kind: str, body: dict[str, Any], **options: Any) -> dict[str, Any]:
    outcome = sdk.call(service.url + "/v1", service.token, kind, body, **options)
    assert service.token not in json.dumps(outcome), "an answer holds the full session id"
    return outcome


def test_a_client_timeout_on_a_long_generation_makes_one_generation(
    node_sdk: NodeSdk, start_service: Callable[..., Service]
) -> None:
    """timeout 2 s on a 5 s generation: each retry (x-stainless-retry-count 1, 2) resumes the first one."""
    service = start_service()
    outcome = call(
        node_sdk, service, "images", {"model": "jimeng-4.5", "prompt": "a slow ridge [gen=5s]"}, timeout=2000
    )
    generations = service.generations()
    assert len(generations) == 1, outcome
    sent = [attempt["retry_count"] for attempt in outcome["attempts"]]
    assert len(sent) >= 2 and sent[:2] == ["0", "1"], outcome  # the first try timed out; the SDK retried
    received = service.seen.retry_counts(IMAGES)
    assert len(received) >= 2 and received[:2] == ["0", "1"], received  # and the retries reached the service
    if outcome["ok"]:  # the last try arrived after the generation ended; a slow machine may time out thrice
        assert outcome["history_id"] in generations and outcome["items"] > 0


def assert_one_paid_failure(service: Service, outcome: dict[str, Any], status: int, code: str, path: str) -> None:
    """One generation, one HTTP request (x-should-retry: false), and the SDK's error carries its history id."""
    generations = service.generations()
    assert len(generations) == 1, outcome
    assert outcome["ok"] is False, outcome  # an APIError: it has a status and the error object
    assert outcome["status"] == status and outcome["error"]["code"] == code, outcome
    assert outcome["error"]["history_id"] in generations, outcome
    assert [a["should_retry"] for a in outcome["attempts"]] == ["false"], outcome  # the SDK did not retry
    assert service.seen.retry_counts(path) == ["0"]


def test_a_generation_failing_after_submit_is_not_retried_and_names_its_history_id(
    node_sdk: NodeSdk, start_service: Callable[..., Service]
) -> None:
    service = start_service()
    outcome = call(node_sdk, service, "images", {"prompt": "a cat [fail=77] [gen=300ms]"})
    assert_one_paid_failure(service, outcome, 502, "generation_failed", IMAGES)


def test_a_generation_timeout_is_not_retried_and_names_its_history_id(
    node_sdk: NodeSdk, start_service: Callable[..., Service]
) -> None:
    service = start_service(image_timeout_seconds=1.0)
    outcome = call(node_sdk, service, "images", {"prompt": "a slow cat [gen=3s]"})
    assert_one_paid_failure(service, outcome, 504, "generation_timeout", IMAGES)


def test_a_chat_completion_failing_after_submit_is_not_retried(
    node_sdk: NodeSdk, start_service: Callable[..., Service]
) -> None:
    service = start_service()
    body = {"model": "jimeng-4.5", "messages": [{"role": "user", "content": "a fox [fail=77] [gen=300ms]"}]}
    outcome = call(node_sdk, service, "chat", body)
    assert_one_paid_failure(service, outcome, 502, "generation_failed", CHAT)
