"""The WSGI application: routing by path, fault injection around the handlers, introspection routes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from app.emulator import admin, cookie_api, gate, imagex, mediahost, rets, sites, verify
from app.emulator.config import Config
from app.emulator.context import Ctx, json_response
from app.emulator.faults import FaultInjector, FaultPlan, group_for
from app.emulator.state import State
from app.emulator.stats import Stats

MAX_BODY = 64 * 1024 * 1024
ERROR_RET = "3018"  # the "error" fault's ret: the upstream's "permission denied" (2026 notes 2.6)


class ConnectionResetByEmulator(ConnectionError):
    """Raised by the app to make the request handler drop the connection with a TCP RST."""


class EmulatorApp:
    """One WSGI callable for every host the client talks to (cookie API, ImageX, upload host, media)."""

    def __init__(self, config: Config) -> None:
        self.base_config = config
        self.config = config
        self.state = State()
        self.stats = Stats()
        self.faults = FaultInjector(config.fault_seed)
        self.secret = os.urandom(16)

    def now(self) -> float:
        return time.time() + self.config.clock_offset

    def reset(self) -> None:
        """Forget everything and return to the configuration the emulator was started with."""
        self.config = self.base_config
        self.faults.reseed(self.config.fault_seed)
        self.state.clear()
        self.stats.clear()

    def configure(self, changes: dict[str, Any]) -> Config:
        config = self.config.updated(changes)
        self.config = config
        if "fault_seed" in changes:
            self.faults.reseed(config.fault_seed)
        return config

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        cluster, path = sites.split(environ.get("PATH_INFO", ""))
        if cluster != sites.CN:  # an international host, by its path prefix (sites.py)
            environ = {**environ, "PATH_INFO": path, sites.ENVIRON_KEY: cluster}
        request = Request(environ)
        request.max_content_length = MAX_BODY
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/__"):
            return admin.handle(self, request)
        ctx = Ctx(request, self.config, self.state, self.stats, self.now(), _route(request), self.secret, self.faults)
        if path.startswith("/media/"):
            return mediahost.serve_media(ctx)
        session = gate.session_id(request.headers.get("Cookie", "")) if path != "/" else None
        self.stats.request(ctx.route, session)
        self.stats.site_request(ctx.cluster, ctx.route, session, _site_facts(request))
        handler = _handler_for(request)
        if handler is None:
            return json_response({"error": f"no route for {path}"}, 404)
        if path in cookie_api.HANDLERS and request.method != "POST":
            return json_response({"error": "method not allowed"}, 405)
        return self._with_faults(ctx, group_for(path, request.args.get("Action")), handler)

    def _with_faults(self, ctx: Ctx, group: str | None, handler: Callable[[Ctx], Response]) -> Response:
        plan = self.faults.plan(group, ctx.config)
        if plan.latency:
            self.stats.fault(group or "", "latency")
            time.sleep(plan.latency)
            ctx.now = self.now()
        if plan.kind is not None:
            self.stats.fault(group or "", plan.kind)
        if plan.before:
            return _before_fault(ctx, plan)
        ctx.answer_lost = plan.answer_lost
        response = handler(ctx)
        if plan.kind == "reset_after":
            raise ConnectionResetByEmulator("emulated reset after processing")
        if plan.kind == "truncate":
            body = response.get_data()
            response.set_data(body[: max(1, len(body) // 2)])
        return response


def _before_fault(ctx: Ctx, plan: FaultPlan) -> Response:
    if plan.kind == "reset_before":
        raise ConnectionResetByEmulator("emulated reset before processing")
    if plan.kind == "error":
        return _protocol_error(ctx)
    if plan.kind == "http_429":
        return Response("Too Many Requests", status=429, headers={"Retry-After": "1"}, content_type="text/plain")
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
    return Response(page, status=502, content_type="text/html")


def _protocol_error(ctx: Ctx) -> Response:
    """An upstream error in the protocol's own shape, for the path's host (Appendix A)."""
    path = ctx.request.path
    if path == "/":
        action = ctx.request.args.get("Action", "")
        error = {"Code": "InternalError", "Message": "emulated ImageX error"}
        metadata = {"RequestId": "emulated", "Action": action, "Version": "2018-08-01", "Service": "imagex",
                    "Region": "cn-north-1", "Error": error}  # fmt: skip
        return json_response({"ResponseMetadata": metadata}, 500)
    if path.startswith("/upload/v1/"):
        return json_response({"code": 5000, "apiversion": "v1", "message": "emulated upload error", "data": {}}, 500)
    if path == cookie_api.PASSPORT:
        return json_response({"message": "error", "data": {"error_code": 3018, "description": "emulated error"}})
    return ctx.error(ERROR_RET, rets.message(ERROR_RET), rets.generate_error_data(ERROR_RET))


def _site_facts(request: Request) -> dict[str, str]:
    """What a request says about the site it was built for (for ``/__stats`` ``sites``), and a ``Via`` header
    (a forward proxy's mark)."""
    facts = {
        "aid": request.args.get("aid", ""),
        "region": request.args.get("region", ""),
        "appid": request.headers.get("Appid", ""),
        "loc": request.headers.get("Loc", ""),
        "lan": request.headers.get("Lan", ""),
        "store_country_code": request.headers.get("store-country-code", ""),
        "via": request.headers.get("Via", ""),
    }
    auth = verify.parse_authorization(request.headers.get("Authorization", "")) if request.path == "/" else None
    if auth is not None:
        facts["imagex_region"] = auth.region
    return {name: value for name, value in facts.items() if value}


def _route(request: Request) -> str:
    """The stats key of a request: the path, with ImageX by Action and uploads collapsed."""
    if request.path == "/":
        return f"/?Action={request.args.get('Action', '')}"
    if request.path.startswith("/upload/v1/"):
        return "/upload/v1"
    if request.path.startswith("/media/"):
        return "/media"
    return request.path


def _handler_for(request: Request) -> Callable[[Ctx], Response] | None:
    path = request.path
    if path in cookie_api.HANDLERS:
        return cookie_api.handle
    if path == "/" and "Action" in request.args:
        return imagex.handle
    if path.startswith("/upload/v1/"):
        return imagex.upload
    return None
