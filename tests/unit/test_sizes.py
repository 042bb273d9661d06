"""The contract's size rules (app.domain.sizes): size strings, nearest ratio and tier, video sizes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.sizes import MAX_SIDE, parse_size, ratio_for_size, tier_for_size, video_size

IMAGE_RATIOS = ("1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "21:9")
VIDEO_RATIOS = ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16")


# --- sizes, ratios, tiers (2026 3.2) -----------------------------------------------------------------------------


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
    assert ratio_for_size(width, height, IMAGE_RATIOS) == expected


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [(1000, 700, "4:3"), (1536, 1024, "4:3"), (1280, 720, "16:9"), (720, 1280, "9:16"), (1024, 1024, "1:1")],
)
def test_ratio_for_size_picks_the_nearest_video_ratio(width: int, height: int, expected: str) -> None:
    assert ratio_for_size(width, height, VIDEO_RATIOS) == expected


@pytest.mark.parametrize(("width", "height"), [(0, 10), (10, 0), (-5, 5)])
def test_ratio_for_size_rejects_empty_sides(width: int, height: int) -> None:
    with pytest.raises(ValueError):
        ratio_for_size(width, height, IMAGE_RATIOS)


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (256, 256, "1k"),
        (1024, 1024, "1k"),
        (1280, 1280, "1.5k"),
        (1600, 900, "1.5k"),
        (1792, 1024, "2k"),
        (1800, 1024, "2k"),
        (2048, 2048, "2k"),
        (2800, 1200, "2k"),
        (3024, 1296, "4k"),
        (3000, 3000, "4k"),
        (8000, 100, "4k"),
    ],
)
def test_tier_for_size_is_the_nearest_tier_by_longest_side(width: int, height: int, expected: str) -> None:
    assert tier_for_size(width, height, {"1k": 1024, "1.5k": 1536, "2k": 2048, "4k": 4096}) == expected


def test_tier_for_size_picks_only_among_the_tiers_it_is_given() -> None:
    assert tier_for_size(1024, 1024, {"2k": 2560, "4k": 5404}) == "2k"
    with pytest.raises(ValueError):
        tier_for_size(1024, 1024, {})


@pytest.mark.parametrize(
    ("ratio", "short", "expected"),
    [
        ("16:9", 720, (1280, 720)),
        ("9:16", 720, (720, 1280)),
        ("1:1", 1080, (1080, 1080)),
        ("21:9", 480, (1120, 480)),
        ("16:9", 768, (1366, 768)),
        ("4:5", 720, (720, 900)),
    ],
)
def test_video_size_puts_the_short_side_on_the_ratios_short_edge(
    ratio: str, short: int, expected: tuple[int, int]
) -> None:
    assert video_size(ratio, short) == expected


# --- hostile sizes: bounded before int(), never anything but ValueError -------------------------------------


@pytest.mark.parametrize(
    "text",
    ["9" * 400 + "x1", "1x" + "9" * 400, "1" * 5000 + "x1", "16385x1", "1x16385", "00x10", "0" * 50 + "x1",
     "１０２４x１０２４", "١٠٢٤x١٠٢٤", "1024x1024\n1", "1e3x1e3", "-0x5", "+5x5", "5x5x5"],
)  # fmt: skip
def test_parse_size_refuses_huge_zero_and_non_ascii_sides_with_a_short_message(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_size(text)
    assert len(str(caught.value)) < 120


def test_parse_size_reads_leading_zeros_and_the_largest_side() -> None:
    assert parse_size("0001024x016384") == (1024, 16384)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789xX× :-+.e\n\t١") | st.characters(), max_size=600))
def test_parse_size_raises_nothing_but_value_error(text: str) -> None:
    try:
        width, height = parse_size(text)
    except ValueError:
        return
    assert 1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=10**5000), st.integers(min_value=1, max_value=10**5000))
def test_the_nearest_ratio_and_tier_of_any_positive_size_is_found(width: int, height: int) -> None:
    assert ratio_for_size(width, height, IMAGE_RATIOS) in IMAGE_RATIOS
    assert tier_for_size(width, height, {"1k": 1024, "2k": 2048}) in ("1k", "2k")


def test_malformed_table_ratios_are_never_the_nearest() -> None:
    assert ratio_for_size(1024, 1024, ("0:0", "x", "1:0", "99999:1", "4:3")) == "4:3"
