"""Starting and stopping the emulator in a background thread (tests, demo, benchmarks)."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from app.emulator.config import Config
from app.emulator.httpd import EmulatorWSGIServer, make_server
from app.emulator.server import EmulatorApp
from app.emulator.state import State

HOST = "127.0.0.1"


class EmulatorServer:
    """A running emulator: ``url``, ``port``, the live ``state``, and reset/configure/shutdown."""

    def __init__(self, app: EmulatorApp, server: EmulatorWSGIServer, host: str) -> None:
        self.app = app
        self._server = server
        self.host = host
        self.port: int = server.port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.1,), name=f"emulator-{self.port}", daemon=True
        )
        self._thread.start()

    @property
    def state(self) -> State:
        return self.app.state

    def stats(self) -> dict[str, Any]:
        return self.app.stats.snapshot(self.app.state, self.app.now())

    def reset(self) -> None:
        self.app.reset()

    def configure(self, **overrides: Any) -> dict[str, Any]:
        return self.app.configure(overrides).to_json()

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.shutdown()


def start_emulator(port: int = 0, host: str = HOST, **config_overrides: Any) -> EmulatorServer:
    """Serve the emulator on ``host:port`` (0 picks a free port) in a daemon thread."""
    app = EmulatorApp(Config().updated(config_overrides))
    return EmulatorServer(app, make_server(host, port, app), host)
