"""What a caller's free text may hold, and how it is quoted back in an error: pure functions the planner uses.

Text forwarded to Jimeng (prompts, negative prompts, image URLs) must not carry control characters (NUL and
the other C0 controls but tab, newline and carriage return; DEL) nor lone surrogates (a JSON ``\\ud800``
escape without its pair is not a character and cannot be encoded as UTF-8).
"""

from __future__ import annotations

import re

_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SHOWN = 40  # characters of a caller's text quoted in an error


def forbidden_character(text: str) -> str | None:
    """Why ``text`` cannot be forwarded ("a control character U+0000 at position 5"), or None."""
    match = _FORBIDDEN.search(text)
    if match is None:
        return None
    code = ord(match[0])
    what = "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "a control character"
    return f"{what} U+{code:04X} at position {match.start()}"


def shown(text: object) -> str:
    """A caller's text quoted for an error message: cut to a few dozen characters, never the whole input."""
    if not isinstance(text, str):
        return type(text).__name__
    value = text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
    return repr(value)
