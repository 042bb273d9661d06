"""What every route handler gets (the request and the emulator's parts) and the response helpers."""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from typing import Any

from werkzeug.wrappers import Request, Response

from app.emulator.config import Config
from app.emulator.faults import FaultInjector
from app.emulator.state import State
from app.emulator.stats import Stats

CHINA_OFFSET = 8 * 3600  # emulator days (and logids) run on Asia/Shanghai time


class Refused(Exception):
    """A cookie-API refusal: answered HTTP 200 with a non-zero string ``ret`` (sections 5 and 6).

    ``ret`` None means "invalid parameters": ``"1000"`` in strict mode, the baseline's ``"4002"`` otherwise.
    """

    def __init__(self, ret: str | None, message: str, reason: str, data: Any = None, detail: str = "") -> None:
        super().__init__(message)
        self.ret = ret
        self.message = message
        self.reason = reason
        self.data = data
        self.detail = detail or message  # for the stats' recent_refusals when the errmsg is terse


@dataclasses.dataclass
class Ctx:
    request: Request
    config: Config
    state: State
    stats: Stats
    now: float
    route: str
    secret: bytes
    faults: FaultInjector
    answer_lost: bool = False

    def refuse(self, reason: str, message: str) -> None:
        self.stats.refusal(self.route, reason, message)

    @property
    def cluster(self) -> str:
        """``cn``, or the international cluster whose host the request reached (``sites.py``)."""
        return str(self.request.environ.get("emulator.cluster", "cn"))

    @property
    def base_url(self) -> str:
        """Scheme and Host of the request, so media URLs point back at whatever address the client used."""
        return f"{self.request.scheme}://{self.request.host}"

    @property
    def day(self) -> int:
        """The emulator day (midnight to midnight, Asia/Shanghai) of the emulator clock."""
        return int((self.now + CHINA_OFFSET) // 86400)

    def invalid_ret(self) -> str:
        return "1000" if self.config.strict else "4002"

    def ok(self, data: Any) -> Response:
        if self.cluster != "cn" and self.request.path.startswith("/commerce/"):  # 9.3: a JSON string abroad
            payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            return json_response({"ret": "0", "errmsg": "success", **_trace(self.now), "response": payload})
        return json_response({"ret": "0", "errmsg": "success", **_trace(self.now), "data": data})

    def error(self, ret: str, errmsg: str, data: Any = None) -> Response:
        return json_response({"ret": ret, "errmsg": errmsg, **_trace(self.now), "data": data})


def _trace(now: float) -> dict[str, str]:
    """``systime`` (a string of Unix seconds) and a ``logid`` shaped like the captured ones (2.6)."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now + CHINA_OFFSET))
    return {"systime": str(int(now)), "logid": stamp + secrets.token_hex(10).upper()}


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Compact UTF-8 JSON, uncompressed, always with a Content-Length."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status=status, headers=headers, content_type="application/json; charset=utf-8")


def refusal_response(ctx: Ctx, refusal: Refused) -> Response:
    ret = refusal.ret or ctx.invalid_ret()
    return ctx.error(ret, refusal.message, refusal.data)
