"""Every image model x tier x ratio and every video model x resolution x duration (and x ratio), planned from
the catalog: each row of the tables is a request the planner accepts, with the table's own values."""

from __future__ import annotations

import pytest

from app.domain.catalog import FixedCatalog
from app.domain.models import ImageRequest, VideoRequest
from app.domain.planning import Planner
from app.domain.static_catalog import catalog_from_config
from config.upstream import load_upstream

CONFIG = load_upstream()
CATALOG = catalog_from_config(CONFIG)
PLANNER = Planner(FixedCatalog(CATALOG), CONFIG, max_prompt_chars=2000)
IMAGE_ROWS = [
    (model.id, tier, ratio) for model in CATALOG.images for tier, table in model.tiers.items() for ratio in table
]
VIDEO_ROWS = [
    (model.id, resolution, duration)
    for model in CATALOG.videos
    for resolution in model.resolutions
    for duration in model.durations
]
VIDEO_RATIO_ROWS = [(model.id, ratio) for model in CATALOG.videos for ratio in model.ratios]


@pytest.mark.parametrize(("model", "tier", "ratio"), IMAGE_ROWS)
def test_every_image_row_is_planned_with_the_tables_size(model: str, tier: str, ratio: str) -> None:
    spec = PLANNER.plan(ImageRequest(prompt="a cat", model=model, ratio=ratio, resolution=tier)).spec
    expected = CONFIG.image_tiers[tier][ratio]
    assert (spec.width, spec.height, spec.ratio_code, spec.resolution) == (
        expected.width, expected.height, expected.code, tier,
    )  # fmt: skip


@pytest.mark.parametrize(("model", "resolution", "duration"), VIDEO_ROWS)
def test_every_video_row_is_planned_with_its_benefit(model: str, resolution: str, duration: int) -> None:
    request = VideoRequest(prompt="waves", model=model, resolution=resolution, duration=duration)
    spec = PLANNER.plan(request).spec
    found = CATALOG.find(model)
    assert found is not None and (spec.model_key, spec.duration_s) == (found.key, duration)
    assert spec.benefit_type and spec.height > 0


@pytest.mark.parametrize(("model", "ratio"), VIDEO_RATIO_ROWS)
def test_every_video_ratio_is_planned(model: str, ratio: str) -> None:
    assert PLANNER.plan(VideoRequest(prompt="waves", model=model, ratio=ratio)).spec.ratio == ratio


def test_the_tables_have_every_row_of_the_2026_document() -> None:
    assert len(IMAGE_ROWS) == 8 * (3 + 2 + 2 + 2 * 5 + 2 * 2)
    seedance_2 = 3 + 1 + 1 + 1 + 1 + 1 + 3  # 2.5, 2.5 draft, 2.0, Fast, mini, Fast VIP, VIP: resolutions
    four_to_fifteen = seedance_2 + 2 + 2 + 2  # and MiniMax H3, HappyHorse 1.1, Wan 3.0
    assert len(VIDEO_ROWS) == 12 * four_to_fifteen + 8 * 2 + 2 * (1 + 2)  # + 1.5 Pro 5-12 s, 1.0 Pro/Fast 5 or 10 s
    assert len(VIDEO_RATIO_ROWS) == 6 * 12 + 9
