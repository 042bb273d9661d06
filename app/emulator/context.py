"""What every route handler gets (the request and the emulator's parts) and the response helpers."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from werkzeug.wrappers import Request, Response

from app.emulator.config import Config
from app.emulator.state import State
from app.emulator.stats import Stats


class Refused(Exception):
    """A cookie-API refusal: answered HTTP 200 with a non-zero string ``ret`` (section 5)."""

    def __init__(self, ret: str, message: str, reason: str) -> None:
        super().__init__(message)
        self.ret = ret
        self.message = message
        self.reason = reason


@dataclasses.dataclass
class Ctx:
    request: Request
    config: Config
    state: State
    stats: Stats
    now: float
    route: str
    secret: bytes
    answer_lost: bool = False

    def refuse(self, reason: str, message: str) -> None:
        self.stats.refusal(self.route, reason, message)

    @property
    def base_url(self) -> str:
        """Scheme and Host of the request, so media URLs point back at whatever address the client used."""
        return f"{self.request.scheme}://{self.request.host}"


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Compact UTF-8 JSON, uncompressed, always with a Content-Length."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status=status, headers=headers, content_type="application/json; charset=utf-8")


def envelope_ok(data: Any) -> Response:
    return json_response({"ret": "0", "errmsg": "success", "data": data})


def envelope_error(ret: str, errmsg: str) -> Response:
    return json_response({"ret": ret, "errmsg": errmsg, "data": None})
