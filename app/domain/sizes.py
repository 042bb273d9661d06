"""The contract's size rules: OpenAI ``size`` strings and video width/height to Jimeng's ratios and tiers,
and the jimeng-4.0 multi-image rule (protocol 12.3, 12.4). Pure functions of the request."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from config.upstream import ModelInfo

MULTI_IMAGE_KEYWORDS = ("连续", "绘本", "故事")  # [12.4] "consecutive", "picture book", "story"
MULTI_IMAGE_COUNT = re.compile(r"(\d+)张")  # [12.4] "N张": N images
MULTI_IMAGE_DEFAULT = 4  # [12.4] a keyword without a number
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
    """The resolution tier whose nominal longest side (``tier_sides``) is nearest, on a log scale, to the
    size's longest side."""
    if width <= 0 or height <= 0:
        raise ValueError(f"width and height must be positive, got {width}x{height}")
    target = math.log(max(width, height))
    return min(tier_sides, key=lambda tier: abs(math.log(tier_sides[tier]) - target))


def multi_image_target(model: ModelInfo, prompt: str) -> int | None:
    """How many images a multi-image prompt asks for (12.4), or None when the rule does not fire.

    The rule follows the model's ``multi_image`` flag, not its literal name, so the default model qualifies
    (quirk 15.11); ``0张`` counts as 1 so a poller never waits for nothing.
    """
    if not model.multi_image:
        return None
    match = MULTI_IMAGE_COUNT.search(prompt)
    if match is not None:
        return max(int(match[1]), 1)
    if any(keyword in prompt for keyword in MULTI_IMAGE_KEYWORDS):
        return MULTI_IMAGE_DEFAULT
    return None
