"""Logging: loguru configured once, stdlib and gunicorn routed through it, session ids never in clear.

A session id is a password. The service's own credentials (``JIMENG_SESSION_IDS``, ``API_KEYS``, the Redis
password) are registered for good with ``register_own_secret``; the session ids of a request that is used
(Bearer mode: a header that parsed) with ``register_secret``, in a bounded registry that forgets the least
recently seen first. A patcher masks (``…last4``) every registered secret of 9 or more characters wherever it
stands in a log line, even inside a longer token (a URL, a JSON string), whatever code wrote the line; and
values next to key names (``sessionid=``, ``Bearer``, ``Authorization:``, ``api_key=``, ``password=``,
``token=``) are masked even when nobody registered them (a wrong API key is never registered).

Masking costs the same whatever the number of registered secrets: one fixed regex finds the runs of
non-blank characters, each 9-character window of a run is looked up in a dict of the secrets' first 9
characters, and only a hit compares the run against the (few) lengths of secrets with that beginning.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import threading
import time
import traceback
import uuid
from collections import OrderedDict
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from loguru import logger

from app.secrets import mask

_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
TEXT_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> | <level>{level: <7}</level> | {extra[request_id]} | {message}"
    "{extra[traceback]}"
)

HEAD = 9  # a registered secret this long or longer is masked anywhere in a line; shorter ones as whole words
_MIN_SECRET = 4
_RUN = re.compile(rf"\S{{{HEAD},}}")
_WORD = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{4,8}(?![A-Za-z0-9_\-])")
_VALUE = r"(?!…)[^\s,;\"'\\&]+"
# values next to a key name: masked whether or not anybody registered them
_COOKIE = re.compile(rf"(?i)(\b(?:sessionid|sessionid_ss|sid_tt|sid_guard)=)({_VALUE})")
_BEARER = re.compile(rf"(?i)(\bbearer\s+)({_VALUE}(?:\s*,\s*{_VALUE})*)")
_KEYED = re.compile(
    r"(?i)(\b(?:proxy-)?authorization|\bx-api-key|\bapi[_-]?key|\bpassw(?:or)?d|\btoken)"
    rf"([\"']?\s*[:=]\s*[\"']?(?:(?:basic|digest|token)\s+)?)(?!bearer\s)({_VALUE})"
)
_LIST_PART = re.compile(_VALUE)
_SPACED_CAP = 64


def _mask_value(match: re.Match[str]) -> str:
    return match.group(1) + mask(match.group(2))


def _mask_list(match: re.Match[str]) -> str:
    return match.group(1) + _LIST_PART.sub(lambda part: mask(part.group(0)), match.group(2))


def _mask_keyed(match: re.Match[str]) -> str:
    return match.group(1) + match.group(2) + mask(match.group(3))


def mask_by_shape(text: str) -> str:
    """``text`` with the values next to credential key names masked (cookies, Bearer lists, keys, passwords)."""
    text = _COOKIE.sub(_mask_value, text)
    text = _BEARER.sub(_mask_list, text)
    return _KEYED.sub(_mask_keyed, text)


class SecretRegistry:
    """The secrets of this process: the service's own for good, the requests' in a bounded LRU.

    ``redact`` costs O(length of the line), independent of how many secrets are registered; memory is at most
    ``capacity`` request secrets (each at most what the caller sent: Bearer ids are at most 512 characters).
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._own: set[str] = set()
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._members: set[str] = set()  # own | recent, secrets of HEAD characters or more
        self._heads: dict[str, dict[int, int]] = {}  # first HEAD characters -> {length: how many secrets}
        self._short: set[str] = set()  # 4 to 8 characters: masked as whole words only
        self._spaced: OrderedDict[str, None] = OrderedDict()  # secrets with blanks (a password): plain search
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._own) + len(self._recent)

    def add(self, secret: str, *, own: bool = False) -> None:
        """Register ``secret``: for good when it is the service's own, else as the most recently seen."""
        if len(secret) < _MIN_SECRET:
            return
        with self._lock:
            if own:
                self._recent.pop(secret, None)  # already indexed: now kept for good
                self._own.add(secret)
                self._index(secret)
                return
            if secret in self._own:
                return
            if secret in self._recent:
                self._recent.move_to_end(secret)
                return
            self._recent[secret] = None
            self._index(secret)
            if len(self._recent) > self._capacity:
                oldest, _ = self._recent.popitem(last=False)
                self._forget(oldest)

    def _index(self, secret: str) -> None:
        if any(c.isspace() for c in secret):
            self._spaced[secret] = None
            while len(self._spaced) > _SPACED_CAP:
                self._spaced.popitem(last=False)
        elif len(secret) < HEAD:
            self._short.add(secret)
        elif secret not in self._members:
            self._members.add(secret)
            lengths = self._heads.setdefault(secret[:HEAD], {})
            lengths[len(secret)] = lengths.get(len(secret), 0) + 1

    def _forget(self, secret: str) -> None:
        self._spaced.pop(secret, None)
        self._short.discard(secret)
        if secret in self._members:
            self._members.discard(secret)
            head = secret[:HEAD]
            lengths = dict(self._heads[head])
            lengths[len(secret)] -= 1
            if not lengths[len(secret)]:
                del lengths[len(secret)]
            if lengths:
                self._heads[head] = lengths
            else:
                del self._heads[head]

    def redact(self, text: str) -> str:
        """``text`` with every registered secret masked, then the values next to key names."""
        if self._heads:
            text = self._mask_contained(text)
        if self._short:
            short = self._short
            text = _WORD.sub(lambda m: mask(m.group(0)) if m.group(0) in short else m.group(0), text)
        for secret in list(self._spaced):
            if secret in text:
                text = text.replace(secret, mask(secret))
        return mask_by_shape(text)

    def _mask_contained(self, text: str) -> str:
        heads = self._heads
        spans: list[tuple[int, int]] = []
        for run in _RUN.finditer(text):
            token, start = run.group(), run.start()
            windows = map(token.__getitem__, map(slice, range(len(token) - HEAD + 1), range(HEAD, len(token) + 1)))
            if not any(map(heads.__contains__, windows)):
                continue  # the usual case: no window of the run begins a secret
            i, end = 0, len(token) - HEAD
            while i <= end:
                found = self._longest_at(token, i)
                if found:
                    spans.append((start + i, start + i + found))
                    # a mask keeps the last 4 characters: a secret beginning among them must be found too
                    i += found - 4
                else:
                    i += 1
        if not spans:
            return text
        parts, last = [], 0
        for begin, finish in _merged(spans):
            parts += [text[last:begin], mask(text[begin:finish])]
            last = finish
        parts.append(text[last:])
        return "".join(parts)

    def _longest_at(self, token: str, i: int) -> int:
        """The length of the longest registered secret at ``token[i:]``; 0 when none begins there."""
        lengths = self._heads.get(token[i : i + HEAD])
        if lengths:
            for length in sorted(lengths, reverse=True):
                if i + length <= len(token) and token[i : i + length] in self._members:
                    return length
        return 0


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Ascending spans with overlapping ones joined."""
    joined: list[tuple[int, int]] = []
    for begin, finish in spans:
        if joined and begin < joined[-1][1]:
            joined[-1] = (joined[-1][0], max(finish, joined[-1][1]))
        else:
            joined.append((begin, finish))
    return joined


secrets = SecretRegistry()


def register_secret(secret: str) -> None:
    """A secret a request brought (its session ids): masked while among the most recently seen."""
    secrets.add(secret)


def register_own_secret(secret: str) -> None:
    """One of the service's own credentials (its sessions, API keys, Redis password): masked for good."""
    secrets.add(secret, own=True)


def _patch(record: Any) -> None:
    record["message"] = secrets.redact(record["message"])
    extra = record["extra"]
    exception = record["exception"]
    extra["traceback"] = ""
    if exception is not None and exception.type is not None:
        # loguru would render the traceback after the message, outside this patcher: render it here, masked
        trace = "".join(traceback.format_exception(exception.type, exception.value, exception.traceback))
        extra["traceback"] = "\n" + secrets.redact(trace).rstrip("\n")
        record["exception"] = None
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
        if exception is not None and exception.type is not None:
            payload["exception"] = secrets.redact(repr(exception.value))
            payload["traceback"] = extra["traceback"].lstrip("\n")
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
    logging.getLogger("PIL").setLevel(logging.INFO)  # a line per PNG chunk read is noise


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
