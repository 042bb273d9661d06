"""The contract's size rules: OpenAI ``size`` strings and video width/height to the nearest ratio and tier a
model offers. Pure functions of the request and the model's tables."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

_SIZE = re.compile(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*")


def parse_size(text: str) -> tuple[int, int]:
    """``"1792x1024"`` -> ``(1792, 1024)``; ValueError for anything else or a zero side."""
    match = _SIZE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"size must look like 1024x1024, got {text!r}")
    width, height = int(match[1]), int(match[2])
    if width <= 0 or height <= 0:
        raise ValueError(f"size sides must be positive, got {text!r}")
    return width, height


def _ratio_value(ratio: str) -> float:
    width, _, height = ratio.partition(":")
    return int(width) / int(height)


def ratio_for_size(width: int, height: int, ratios: Sequence[str]) -> str:
    """The supported ratio nearest to width/height, on a log scale so 2:1 and 1:2 are equally far from 1:1.

    Ties go to the earlier entry of ``ratios``.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"width and height must be positive, got {width}x{height}")
    if not ratios:
        raise ValueError("no supported ratios")
    target = math.log(width / height)
    return min(ratios, key=lambda ratio: abs(math.log(_ratio_value(ratio)) - target))


def tier_for_size(width: int, height: int, tier_sides: Mapping[str, int]) -> str:
    """The tier whose longest side (``tier_sides``: a model's tiers, each the longest side of its size for the
    chosen ratio) is nearest, on a log scale, to the size's longest side. Ties go to the earlier tier."""
    if width <= 0 or height <= 0:
        raise ValueError(f"width and height must be positive, got {width}x{height}")
    if not tier_sides:
        raise ValueError("no tiers")
    target = math.log(max(width, height))
    return min(tier_sides, key=lambda tier: abs(math.log(tier_sides[tier]) - target))


def video_size(ratio: str, short: int) -> tuple[int, int]:
    """Pixel size of a video from its ratio and short side (16:9 at 720 -> 1280x720)."""
    w, _, h = ratio.partition(":")
    rw, rh = int(w), int(h)
    long_side = round(short * max(rw, rh) / min(rw, rh) / 2) * 2
    return (long_side, short) if rw >= rh else (short, long_side)
