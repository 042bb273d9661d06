"""Request bodies: lenient JSON (the reference's own curl examples carry trailing commas); their bytes are read
through ``app/api/body_guard.py`` (cap, deadline).

Strict ``json`` is tried first because it is fast on the common, valid case (a body can hold megabytes of
base64 images); ``json5`` (a maintained parser for trailing commas, single quotes and comments) only sees
bodies that strict JSON refused, and its errors give line and column. ``json5`` is pure Python (about 4 s of
CPU per MB, blocking the worker's event loop), so it only reads bodies up to ``LENIENT_JSON_MAX_BYTES``. A
larger body is checked by ``app/api/json_gate.py`` before it is decoded: strict syntax and a bound on its
values, without building anything, so a refused 16 MB body costs no more memory than its own bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any

import json5
from flask import Request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from app.api import context
from app.api.json_gate import require_strict_json
from app.domain.errors import InvalidJsonError, RequestTooLargeError, UnsupportedMediaTypeError

JSON_TYPES = ("application/json", "text/json")
READ_PIECE = 1024 * 1024
_JSON5_POSITION = re.compile(r"^<string>:(?P<line>\d+) (?P<what>.*?)(?: at column (?P<column>\d+))?$")


def parse_lenient_json(
    raw: bytes | bytearray | str, *, lenient_max_bytes: int, max_values: int, size: int | None = None
) -> dict[str, Any]:
    """A JSON object from a body's bytes, lenient JSON up to ``lenient_max_bytes``; InvalidJsonError (400) for
    anything else. A ``str`` is a body's text that ``body_text`` already checked; ``size``: its length in
    bytes."""
    text = raw if isinstance(raw, str) else body_text(raw, lenient_max_bytes=lenient_max_bytes, max_values=max_values)
    if not text.strip():
        raise InvalidJsonError("Request body is empty; send a JSON object")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        if size is None:  # a text longer than the limit in characters is longer in bytes: no need to encode it
            size = (
                len(raw)
                if not isinstance(raw, str) or len(raw) > lenient_max_bytes
                else len(raw.encode(errors="replace"))
            )
        if size > lenient_max_bytes:
            raise InvalidJsonError(
                f"Malformed JSON body: {err.msg} at line {err.lineno}, column {err.colno}. Lenient JSON (trailing "
                f"commas, single quotes, comments) is only accepted in bodies up to {lenient_max_bytes} bytes; "
                f"this one has {size}: send strict JSON"
            ) from None
        value = _parse_json5(text)
    except ValueError as err:  # valid syntax Python will not read: an integer of thousands of digits
        raise InvalidJsonError("Malformed JSON body: a number has too many digits") from err
    except RecursionError as err:
        raise InvalidJsonError("Malformed JSON body: nested too deeply") from err
    if not isinstance(value, dict):
        raise InvalidJsonError(f"Request body must be a JSON object, not {_json_kind(value)}")
    return value


def body_text(raw: bytes | bytearray, *, lenient_max_bytes: int, max_values: int) -> str:
    """The body decoded, once a body too large for lenient JSON passed the gate (strict syntax, bounded values)."""
    if len(raw) > lenient_max_bytes:
        require_strict_json(raw, lenient_max_bytes=lenient_max_bytes, max_values=max_values)
    return _utf8(raw)


def _parse_json5(text: str) -> Any:
    try:
        return json5.loads(text)
    except ValueError as err:
        raise InvalidJsonError(f"Malformed JSON body: {_describe_json5_error(err)}") from err
    except RecursionError as err:
        raise InvalidJsonError("Malformed JSON body: nested too deeply") from err


def _utf8(raw: bytes | bytearray) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidJsonError(f"Request body is not valid UTF-8 (byte {err.start})") from err


def _describe_json5_error(err: ValueError) -> str:
    match = _JSON5_POSITION.match(str(err))
    if not match:  # Python's own errors (a number of over 4300 digits ...) name its internals: not shown
        return "a number has too many digits" if "digits" in str(err) else "not valid JSON"
    where = f"line {match['line']}" + (f", column {match['column']}" if match["column"] else "")
    return f"{match['what']} at {where}"


def _json_kind(value: Any) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")


def _content_type(request: Request) -> str:
    return (request.mimetype or "").lower()


def _is_json_type(mimetype: str) -> bool:
    return not mimetype or mimetype in JSON_TYPES or mimetype.endswith("+json") or mimetype == "text/plain"


def read_json_body(request: Request) -> dict[str, Any]:
    """The body of a JSON-only endpoint; 415 for other content types, 413 past MAX_BODY_BYTES."""
    mimetype = _content_type(request)
    if not _is_json_type(mimetype):
        raise UnsupportedMediaTypeError(f"Unsupported content type {mimetype!r}; send application/json")
    settings = context.settings()
    limits = {"lenient_max_bytes": settings.lenient_json_max_bytes, "max_values": settings.max_json_values}
    raw = _read_body(request)
    size = len(raw)
    text = body_text(raw, **limits)
    del raw  # a 16 MB body is not held twice while it is parsed
    return parse_lenient_json(text, **limits, size=size)


def read_json_or_form(request: Request) -> tuple[dict[str, Any], MultiDict[str, Any]]:
    """For endpoints that also take multipart: (fields, files). Form fields come back as strings."""
    mimetype = _content_type(request)
    if mimetype == "multipart/form-data":
        try:
            form, files = request.form, request.files
        except RequestEntityTooLarge as err:
            raise RequestTooLargeError("Request body is larger than the limit") from err
        return form_fields(form), files
    if mimetype == "application/x-www-form-urlencoded":
        raise UnsupportedMediaTypeError("Send application/json or multipart/form-data")
    return read_json_body(request), MultiDict()


def form_fields(form: MultiDict[str, str]) -> dict[str, Any]:
    """Form fields as a dict; repeated keys (``images``, ``images[]``) become lists."""
    fields: dict[str, Any] = {}
    for key in form:
        values = form.getlist(key)
        name = key[:-2] if key.endswith("[]") else key
        fields[name] = values if len(values) > 1 or key.endswith("[]") else values[0]
    return fields


def _read_body(request: Request) -> bytearray:
    """The body's bytes, read in pieces into one buffer (``get_data`` would hold the pieces and their join at
    once: twice the body); the cap and the read deadline are the body guard's (``app/api/body_guard.py``)."""
    stream = request.stream
    body = bytearray()
    try:
        while piece := stream.read(READ_PIECE):
            body += piece
    except BaseException:
        body.clear()  # refused (413, 408): the traceback keeps this frame, not the megabytes read so far
        raise
    return body
