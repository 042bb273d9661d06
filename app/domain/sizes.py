"""The contract's size rules: OpenAI ``size`` strings and video width/height to the nearest ratio and tier a
model offers. Pure functions of the request and the model's tables.

Every number read from a caller's text is bounded before ``int()`` (a few digits, ASCII only), so no input
reaches big-number arithmetic, a float overflow or a math domain error: ``parse_size`` raises ValueError with
a plain message, nothing else.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from app.domain.text import shown

MAX_SIDE = 16384  # pixels: no model comes near it; the video endpoint's width/height have the same bound
_SIZE = re.compile(r"\s*([0-9]+)\s*[xX×]\s*([0-9]+)\s*")
_RATIO = re.compile(r"([0-9]{1,4}):([0-9]{1,4})")


AUTO = "auto"  # OpenAI's default size and the SDKs' own value: the model's default ratio and tier


def is_auto(text: str | None) -> bool:
    """``size="auto"`` (any case, blanks around it): no size at all."""
    return isinstance(text, str) and text.strip().lower() == AUTO


def parse_size(text: str) -> tuple[int, int]:
    """``"1792x1024"`` -> ``(1792, 1024)``; ValueError for anything else or a side outside 1..MAX_SIDE."""
    match = _SIZE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"size must look like 1024x1024, got {shown(text)}")
    sides = (match[1].lstrip("0"), match[2].lstrip("0"))
    if any(not side or len(side) > len(str(MAX_SIDE)) or int(side) > MAX_SIDE for side in sides):
        raise ValueError(f"size sides must be from 1 to {MAX_SIDE} pixels, got {shown(text)}")
    return int(sides[0]), int(sides[1])


def _ratio_log(ratio: str) -> float:
    """log(width/height) of a table's ``"16:9"``; infinity (never the nearest) for a malformed entry."""
    match = _RATIO.fullmatch(ratio)
    if match is None or int(match[1]) == 0 or int(match[2]) == 0:
        return math.inf
    return math.log(int(match[1]) / int(match[2]))


def ratio_for_size(width: int, height: int, ratios: Sequence[str]) -> str:
    """The supported ratio nearest to width/height, on a log scale so 2:1 and 1:2 are equally far from 1:1.

    Ties go to the earlier entry of ``ratios``.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"width and height must be positive, got {width}x{height}")
    if not ratios:
        raise ValueError("no supported ratios")
    target = math.log(width) - math.log(height)  # math.log takes ints of any size; a quotient may overflow
    return min(ratios, key=lambda ratio: abs(_ratio_log(ratio) - target))


def tier_for_size(width: int, height: int, tier_sides: Mapping[str, int]) -> str:
    """The tier whose longest side (``tier_sides``: a model's tiers, each the longest side of its size for the
    chosen ratio) is nearest, on a log scale, to the size's longest side. Ties go to the earlier tier."""
    if width <= 0 or height <= 0:
        raise ValueError(f"width and height must be positive, got {width}x{height}")
    if not tier_sides:
        raise ValueError("no tiers")
    target = math.log(max(width, height))
    return min(tier_sides, key=lambda tier: abs(math.log(max(1, tier_sides[tier])) - target))


def video_size(ratio: str, short: int) -> tuple[int, int]:
    """Pixel size of a video from its ratio and short side (16:9 at 720 -> 1280x720)."""
    w, _, h = ratio.partition(":")
    rw, rh = int(w), int(h)
    long_side = round(short * max(rw, rh) / min(rw, rh) / 2) * 2
    return (long_side, short) if rw >= rh else (short, long_side)
