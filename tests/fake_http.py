"""A stand-in for the client's pooled ``requests.Session``: answers from a script and records every call."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from app.jimeng.client import ClientConfig, JimengClient
from config.upstream import load_upstream


@dataclass
class FakeHttp:
    """Each script entry answers one call: a JSON value (200), ``(status, body)``, bytes, or an exception to raise."""

    script: list[Any]
    calls: list[dict[str, Any]] = field(default_factory=list)

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:
        self.calls.append({"method": method, "url": url, **kw})
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body = answer if isinstance(answer, tuple) else (200, answer)
        response = requests.Response()
        response.status_code = status
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response._content_consumed = True
        return response

    def url(self, index: int) -> str:
        """The full URL of call ``index``, query string included."""
        call = self.calls[index]
        return requests.Request(call["method"], call["url"], params=call.get("params")).prepare().url or ""

    def path(self, index: int) -> str:
        return urlsplit(self.calls[index]["url"]).path

    def body(self, index: int) -> dict[str, Any]:
        body: dict[str, Any] = self.calls[index]["json"]
        return body


def client_on(script: list[Any]) -> tuple[JimengClient, FakeHttp]:
    """A ``JimengClient`` whose calls ``script`` answers (test hosts, no settle period, no real sleeping)."""
    http = FakeHttp(script)
    config = ClientConfig(
        base_url="https://jimeng.example",
        imagex_url="https://x",
        connect_timeout=1,
        read_timeout=1,
        submit_settle_seconds=0,
    )
    return JimengClient(load_upstream(), config, http=http, sleep=lambda _: None), http  # type: ignore[arg-type]
