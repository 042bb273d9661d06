"""The contract's size rules (app.domain.sizes): size strings, nearest ratio and tier, multi-image rule."""

from __future__ import annotations

import pytest

from app.domain.sizes import multi_image_target, parse_size, ratio_for_size, tier_for_size
from config.upstream import ModelInfo, load_upstream

CONFIG = load_upstream()
JIMENG_40 = CONFIG.model("jimeng-4.0")
assert JIMENG_40 is not None


# --- sizes, ratios, tiers (12.3) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1024x1024", (1024, 1024)),
        ("1792x1024", (1792, 1024)),
        ("1024X1792", (1024, 1792)),
        (" 512 x 512 ", (512, 512)),
    ],
)
def test_parse_size_reads_width_by_height(text: str, expected: tuple[int, int]) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    "text", ["", "1024", "1024x", "x1024", "0x1024", "1024x0", "-1x5", "1.5x2", "ax b", "1024*1024"]
)
def test_parse_size_rejects_anything_else(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (1024, 1024, "1:1"),
        (1792, 1024, "16:9"),
        (1024, 1792, "9:16"),
        (1536, 1024, "3:2"),
        (1024, 1536, "2:3"),
        (1280, 720, "16:9"),
        (1000, 700, "3:2"),
        (2560, 1080, "21:9"),
        (4000, 1000, "21:9"),
        (800, 600, "4:3"),
    ],
)
def test_ratio_for_size_picks_the_nearest_image_ratio(width: int, height: int, expected: str) -> None:
    assert ratio_for_size(width, height, CONFIG.image_ratios) == expected


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [(1000, 700, "4:3"), (1536, 1024, "4:3"), (1280, 720, "16:9"), (720, 1280, "9:16"), (1024, 1024, "1:1")],
)
def test_ratio_for_size_picks_the_nearest_video_ratio(width: int, height: int, expected: str) -> None:
    assert ratio_for_size(width, height, CONFIG.video_ratios) == expected


@pytest.mark.parametrize(("width", "height"), [(0, 10), (10, 0), (-5, 5)])
def test_ratio_for_size_rejects_empty_sides(width: int, height: int) -> None:
    with pytest.raises(ValueError):
        ratio_for_size(width, height, CONFIG.image_ratios)


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (256, 256, "1k"),
        (1024, 1024, "1k"),
        (1024, 1440, "1k"),
        (1024, 1536, "2k"),
        (1792, 1024, "2k"),
        (2048, 2048, "2k"),
        (2560, 1440, "2k"),
        (3024, 1296, "4k"),
        (4096, 4096, "4k"),
        (8000, 100, "4k"),
    ],
)
def test_tier_for_size_is_the_nearest_tier_by_longest_side(width: int, height: int, expected: str) -> None:
    assert tier_for_size(width, height, {"1k": 1024, "2k": 2048, "4k": 4096}) == expected


# --- multi-image rule (12.4) and seeds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("a cat", None),
        ("画10张猫", 10),
        ("画3张猫, 然后5张狗", 3),
        ("连续的漫画", 4),
        ("一本绘本", 4),
        ("讲个故事", 4),
        ("故事, 6张", 6),
        ("0张", 1),
        ("张", None),
    ],
)
def test_multi_image_target_follows_the_prompt(prompt: str, expected: int | None) -> None:
    assert multi_image_target(JIMENG_40, prompt) == expected


def test_multi_image_rule_needs_a_model_that_can_make_several_images() -> None:
    model = ModelInfo(id="jimeng-3.0", key="k", type="image", description="")
    assert multi_image_target(model, "画10张猫") is None
