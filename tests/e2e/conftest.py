"""End-to-end fixtures: the real app on a loopback port against the emulator on another, over HTTP."""

from __future__ import annotations

import base64
import io
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import requests
from loguru import logger
from PIL import Image

from app.emulator import EmulatorServer, start_emulator

FAST_POLLING = {
    "poll_max_late_seconds_image": 0.2,
    "poll_max_late_seconds_video": 0.2,
    "poll_min_seconds": 0.05,
    "poll_max_seconds": 0.5,
}
EMULATOR_TIMES = {"image_seconds": 0.5, "video_seconds": 0.8}


@pytest.fixture(scope="session")
def emulator_session() -> Iterator[EmulatorServer]:
    with start_emulator(port=0, **EMULATOR_TIMES) as server:
        yield server


@pytest.fixture
def emu(emulator_session: EmulatorServer) -> EmulatorServer:
    emulator_session.reset()
    return emulator_session


SESSION_IDS_SEEN: set[str] = set()


@pytest.fixture(autouse=True)
def log_lines() -> Iterator[list[str]]:
    """Every log line written while an e2e test runs; afterwards none may hold a full session id."""
    lines: list[str] = []
    sink = logger.add(lines.append, level="TRACE", format="{message} | {extra} | {exception}")
    SESSION_IDS_SEEN.clear()
    yield lines
    logger.remove(sink)
    secrets = {s for s in SESSION_IDS_SEEN if len(s) > 8}
    leaked = [line for line in lines if any(secret in line for secret in secrets)]
    assert not leaked, f"full session ids in log lines: {leaked[:3]}"


@dataclass
class Api:
    """A client of the service under test, remembering every response body it saw."""

    url: str
    emulator: EmulatorServer
    token: str = field(default_factory=lambda: f"sess-{uuid.uuid4().hex}")
    bodies: list[str] = field(default_factory=list)

    def post(self, path: str, body: Any = None, *, token: str | None = None, **kw: Any) -> requests.Response:
        headers = kw.pop("headers", {})
        if token != "":
            headers.setdefault("Authorization", f"Bearer {token or self.token}")
        return self._record(requests.post(self.url + path, json=body, headers=headers, timeout=30, **kw), headers)

    def get(self, path: str, *, token: str | None = None, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return self._record(requests.get(self.url + path, headers=headers, timeout=30, **kw), headers)

    def _record(self, response: requests.Response, headers: dict[str, str]) -> requests.Response:
        """Remember the body, and check it holds none of the session ids this request sent."""
        tokens = [t.strip() for t in headers.get("Authorization", "").removeprefix("Bearer ").split(",")]
        SESSION_IDS_SEEN.update(t for t in tokens if t)
        self.bodies.append(response.text)
        leaked = [t for t in tokens if len(t) > 8 and t in response.text]
        assert not leaked, f"a response body holds a full session id: {response.text[:300]}"
        return response

    def stats(self) -> dict[str, Any]:
        return self.emulator.stats()

    def generations(self) -> dict[str, Any]:
        return self.stats().get("generations", {})

    def submits(self) -> int:
        return int(self.stats().get("requests", {}).get("by_path", {}).get("/mweb/v1/aigc_draft/generate", 0))


@pytest.fixture
def start_api(live_server: Callable[..., str], emu: EmulatorServer) -> Callable[..., Api]:
    def start(**overrides: Any) -> Api:
        settings = {"jimeng_base_url": emu.url, "jimeng_imagex_url": emu.url, **FAST_POLLING, **overrides}
        return Api(live_server(**settings), emu)

    return start


@pytest.fixture
def api(start_api: Callable[..., Api]) -> Api:
    return start_api()


def assert_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code", "history_id"}
    assert error["code"] == code, error
    return error


def png_bytes(width: int = 8, height: int = 6) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


class _ImageHost(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        if self.path.startswith("/missing"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        size = re.match(r"^/(\d+)x(\d+)/", self.path)  # /40x30/cat.png: an image of that size
        body = png_bytes(int(size[1]), int(size[2])) if size else png_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def image_host() -> Iterator[tuple[str, list[str]]]:
    """A user's image host on loopback, counting every fetch."""
    _ImageHost.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ImageHost)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", _ImageHost.hits
    server.shutdown()
    server.server_close()
