"""A large body's JSON checked before anything is built from it: strict syntax, and a bound on how many values
it holds.

Python's ``json`` needs the body decoded to a ``str`` (a second copy) and builds every value before it can say
a body is malformed: a 16 MB body with a trailing comma at its end costs two more 16 MB copies, and a valid
16 MB ``[{},{},…]`` builds five million dicts (400 MB, a third of a second of the event loop). So a body
larger than ``LENIENT_JSON_MAX_BYTES`` first has its values bounded: every value but the first of its array
or object follows a comma, and every array or object starts with a bracket, so commas + opening brackets + 1
bound the values (and the keys) a parser would build. They are counted inside strings too, by C scans a
megabyte at a time that stop past the bound, so no crafted body can make the count slow (telling string
contents apart costs a pass of Python's ``re`` that escapes stretch to seconds). Then ``msgspec`` reads the
body into a ``Raw`` value, which checks strict syntax in C and builds nothing. Only a body that passes both
is decoded.
"""

from __future__ import annotations

import re

import msgspec

from app.domain.errors import InvalidJsonError

_SYNTAX = msgspec.json.Decoder(msgspec.Raw)
_POSITION = re.compile(r"^JSON is malformed: (?P<what>.+) \(byte (?P<byte>\d+)\)$")
_NOT_CONTINUATION = bytes(b for b in range(256) if not 0x80 <= b < 0xC0)
_COUNT_PIECE = 256 * 1024  # the column is counted in pieces of this size: never a copy of the body
_SCAN_PIECE = 1024 * 1024  # values are counted a megabyte at a time, to stop soon past the bound


def require_strict_json(raw: bytes | bytearray, *, lenient_max_bytes: int, max_values: int) -> None:
    """InvalidJsonError (400) unless ``raw`` is strict JSON of at most ``max_values`` values; nothing is built.
    The values are bounded first: counting stops at the bound, so a body of millions of tiny values is refused
    after a scan of its first megabyte, before the syntax check walks every one of them."""
    if count_values(raw, stop_after=max_values) > max_values:
        raise InvalidJsonError(
            f"Request body holds more than {max_values} JSON values (counted as its commas and opening brackets, "
            "also inside strings); no request needs that many"
        )
    try:
        _SYNTAX.decode(raw)
    except msgspec.DecodeError as err:
        what, byte = _described(str(err), len(raw))
        line, column = line_and_column(raw, byte)
        raise InvalidJsonError(
            f"Malformed JSON body: {what} at line {line}, column {column}. Lenient JSON (trailing commas, single "
            f"quotes, comments) is only accepted in bodies up to {lenient_max_bytes} bytes; this one has "
            f"{len(raw)}: send strict JSON"
        ) from None
    except RecursionError:
        raise InvalidJsonError("Malformed JSON body: nested too deeply") from None


def count_values(raw: bytes | bytearray, *, stop_after: int | None = None) -> int:
    """An upper bound on the body's values: its commas and opening brackets, plus one; counted a piece at a
    time, and no further once the count passes ``stop_after``."""
    count = 1
    for start in range(0, len(raw), _SCAN_PIECE):
        end = start + _SCAN_PIECE
        count += raw.count(b",", start, end) + raw.count(b"[", start, end) + raw.count(b"{", start, end)
        if stop_after is not None and count > stop_after:
            break
    return count


def line_and_column(raw: bytes | bytearray, byte: int) -> tuple[int, int]:
    """The 1-based line and column (in characters) of the byte at offset ``byte``, without copying the body."""
    byte = max(0, min(byte, len(raw)))
    start = raw.rfind(b"\n", 0, byte) + 1
    continuation = 0  # UTF-8 continuation bytes: a character is its first byte
    with memoryview(raw) as view:
        for offset in range(start, byte, _COUNT_PIECE):
            piece = bytes(view[offset : min(byte, offset + _COUNT_PIECE)])
            if not piece.isascii():
                continuation += len(piece.translate(None, _NOT_CONTINUATION))
    return raw.count(b"\n", 0, byte) + 1, byte - start - continuation + 1


def _described(message: str, size: int) -> tuple[str, int]:
    """What msgspec found and the byte where: a body that stops inside a value is malformed at its end."""
    match = _POSITION.match(message)
    if match:
        return match["what"], int(match["byte"])
    if "truncated" in message:
        return "the body ends inside a value", size
    return "not valid JSON", 0
