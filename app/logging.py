"""Logging: loguru configured once, stdlib and gunicorn routed through it, session ids never in clear.

A session id is a password. Every id the service sees is registered with ``register_secret`` and masked
(``…last4``) in every log line by a patcher, whatever code wrote the line; cookie-shaped ``sessionid=...``
values are masked even when unregistered.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from loguru import logger

from app.secrets import mask

_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
_COOKIE_SECRET = re.compile(r"(?i)\b(sessionid|sessionid_ss|sid_tt|sid_guard)=([^;\s&\"']+)")
TEXT_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> | <level>{level: <7}</level> | {extra[request_id]} | {message}"
)


class SecretRegistry:
    """The session ids seen by this process, compiled into one pattern to mask them in log messages."""

    def __init__(self, capacity: int = 20_000) -> None:
        self._secrets: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity
        # Re-entrant: compiling may run the garbage collector, whose finalizers may log (an unclosed HTTP
        # stream of a library does), and that log line comes back here on the same thread.
        self._lock = threading.RLock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, secret: str) -> None:
        if len(secret) < 4:
            return
        with self._lock:
            if secret in self._secrets:
                self._secrets.move_to_end(secret)
                return
            self._secrets[secret] = None
            if len(self._secrets) > self._capacity:
                self._secrets.popitem(last=False)
            self._pattern = None

    def redact(self, text: str) -> str:
        text = _COOKIE_SECRET.sub(lambda m: f"{m.group(1)}={mask(m.group(2))}", text)
        pattern = self._compiled()
        if pattern is None:
            return text
        return pattern.sub(lambda m: mask(m.group(0)), text)

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._secrets:
                longest_first = sorted(self._secrets, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(s) for s in longest_first))
            return self._pattern


secrets = SecretRegistry()


def register_secret(secret: str) -> None:
    secrets.add(secret)


def _patch(record: Any) -> None:
    record["message"] = secrets.redact(record["message"])
    extra = record["extra"]
    if "request_id" not in extra:
        extra["request_id"] = g.get("request_id", "-") if has_request_context() else "-"
    if extra.get("_json"):
        payload = {
            "time": record["time"].isoformat(),
            "level": record["level"].name,
            "message": record["message"],
            "request_id": extra["request_id"],
            "logger": record["name"],
        }
        if record["exception"] is not None:
            payload["exception"] = secrets.redact(repr(record["exception"].value))
        extra["serialized"] = json.dumps(payload, ensure_ascii=False)


class InterceptHandler(logging.Handler):
    """Send stdlib (werkzeug, gunicorn, urllib3) records to loguru, keeping level and caller."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, "{}", record.getMessage())


_own_sinks: list[int] = []


def configure_logging(level: str = "INFO", json_lines: bool = False) -> None:
    """One stdout sink; safe to call again (tests build many apps). Sinks added by others (tests) stay."""
    for sink_id in [0, *_own_sinks]:  # 0 is loguru's default stderr sink
        with contextlib.suppress(ValueError):
            logger.remove(sink_id)
    _own_sinks.clear()
    logger.configure(patcher=_patch, extra={"_json": json_lines})
    if json_lines:
        sink = logger.add(sys.stdout, level=level, format="{extra[serialized]}", colorize=False, backtrace=False)
    else:
        sink = logger.add(sys.stdout, level=level, format=TEXT_FORMAT, colorize=None, backtrace=False, diagnose=False)
    _own_sinks.append(sink)
    logging.basicConfig(handlers=[InterceptHandler()], level=0, force=True)
    for name in ("gunicorn.error", "gunicorn.access", "werkzeug", "urllib3"):
        named = logging.getLogger(name)
        named.handlers = [InterceptHandler()]
        named.propagate = False
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # "pool is full" under bursts is expected
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the app writes its own access line


def _start_request() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if _REQUEST_ID_OK.match(incoming) else uuid.uuid4().hex
    g.started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    if "request_id" not in g:  # a before_request hook refused the request before ours ran
        _start_request()
    response.headers["X-Request-Id"] = g.request_id
    method, path, status, started = request.method, request.path, response.status_code, g.started
    request_id = g.request_id

    def access_line() -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.bind(request_id=request_id).info("{} {} {} {:.0f}ms", method, path, status, elapsed_ms)

    response.call_on_close(access_line)
    return response


def register_request_logging(app: Flask) -> None:
    app.before_request(_start_request)
    app.after_request(_finish_request)
