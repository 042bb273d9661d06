"""Every image model x ratio x resolution (and every video model x ratio x resolution x duration), planned and
built by the client, then read back by the emulator's independent draft parser: the two sides of the protocol
must agree on every row of the tables."""

from __future__ import annotations

import itertools
import json

import pytest

from app.domain.models import ImageRequest, VideoRequest
from app.domain.planning import Planner
from app.emulator import drafts as emulator_drafts
from app.jimeng import drafts
from config.upstream import ImageSize, load_upstream

CONFIG = load_upstream()
PLANNER = Planner(CONFIG, max_prompt_chars=2000)
IMAGE_ROWS = list(itertools.product([m.id for m in CONFIG.models_of("image")], CONFIG.image_ratios, ("1k", "2k", "4k")))
VIDEO_ROWS = list(
    itertools.product([m.id for m in CONFIG.models_of("video")], CONFIG.video_ratios, ("720p", "1080p"), (5, 10))
)


def never_committed(uri: str) -> bool:
    return False


@pytest.mark.parametrize(("model", "ratio", "resolution"), IMAGE_ROWS)
def test_every_image_row_is_a_draft_the_emulator_accepts(model: str, ratio: str, resolution: str) -> None:
    plan = PLANNER.plan(ImageRequest(prompt="a cat", model=model, ratio=ratio, resolution=resolution))
    spec = plan.spec
    body = drafts.generate_body(
        config=CONFIG, model_key=spec.model_key, prompt=spec.prompt, seed=2_500_000_000,
        size=ImageSize(spec.width, spec.height, spec.ratio_code), resolution=spec.resolution,
        submit_id="00000000-0000-4000-8000-000000000001", now_ms=1_759_132_800_000,
    )  # fmt: skip
    parsed = emulator_drafts.parse_generate(json.loads(json.dumps(body)), never_committed)
    expected = CONFIG.image_size(ratio, resolution)
    assert (parsed.kind, parsed.model) == ("generate", CONFIG.model(model).key)  # type: ignore[union-attr]
    assert (parsed.width, parsed.height) == (expected.width, expected.height)


@pytest.mark.parametrize(("model", "ratio", "resolution", "duration"), VIDEO_ROWS)
def test_every_video_row_is_a_draft_the_emulator_accepts(
    model: str, ratio: str, resolution: str, duration: int
) -> None:
    request = VideoRequest(prompt="waves", model=model, ratio=ratio, resolution=resolution, duration=duration)
    spec = PLANNER.plan(request).spec
    body = drafts.video_body(
        config=CONFIG, model_key=spec.model_key, prompt=spec.prompt, ratio=spec.ratio, resolution=spec.resolution,
        duration_s=spec.duration_s, frame_width=spec.width, frame_height=spec.height, seed=2_500_000_000,
        submit_id="00000000-0000-4000-8000-000000000002", now_ms=1_759_132_800_000,
    )  # fmt: skip
    parsed = emulator_drafts.parse_generate(json.loads(json.dumps(body)), never_committed)
    assert (parsed.kind, parsed.model) == ("gen_video", CONFIG.model(model).key)  # type: ignore[union-attr]
    assert parsed.duration_ms == duration * 1000


def test_the_tables_have_every_row_of_the_contract() -> None:
    assert len(IMAGE_ROWS) == 8 * 8 * 3
    assert len(VIDEO_ROWS) == 4 * 6 * 2 * 2
