"""Every image model x tier x ratio and every video model x resolution x duration (and x ratio), planned from
the catalog, built by the client and read back by an independent reader of the 2026 draft shapes (2026 3.4,
4.3), written here from the protocol notes: the two sides must agree on every row of the tables.

Each body is also parsed by the emulator's strict parser (``app/emulator/drafts.py``, an independent model of
the upstream written from the same notes), which refuses what today's Jimeng refuses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import pytest

from app.domain.catalog import FixedCatalog, ImageModel, VideoModel
from app.domain.models import ImageRequest, VideoRequest
from app.domain.planning import Planner
from app.domain.sources import ImageUrl
from app.domain.static_catalog import catalog_from_config
from app.emulator import drafts as emulator_drafts
from app.emulator.draft_types import Rules
from app.jimeng.drafts import blend_body, generate_body
from app.jimeng.video_drafts import video_body
from config.upstream import load_upstream
from tests.catalogs import find_image, find_video

CONFIG = load_upstream()
STRICT = Rules(strict=True)
CATALOG = catalog_from_config(CONFIG)
PLANNER = Planner(
    FixedCatalog(CATALOG), CONFIG, max_prompt_chars=2000, max_messages_chars=100_000, default_image_count=0
)
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
SUBMIT_ID = "00000000-0000-4000-8000-000000000001"
NOW_MS = 1_790_000_000_123
RATIO_CODES = {"1:1": 1, "3:4": 2, "16:9": 3, "4:3": 4, "9:16": 5, "2:3": 6, "3:2": 7, "21:9": 8}  # 2026 3.2


@dataclass(frozen=True)
class ReadDraft:
    """What the upstream would read out of a generate body."""

    kind: str
    model: str
    width: int = 0
    height: int = 0
    ratio_code: int = 0
    tier: str = ""
    count: int | None = None
    images: int = 0
    duration_ms: int = 0
    resolution: str = ""
    ratio: str = ""
    benefit: str = ""
    amount: float = 0


def _envelope(body: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Root model, the decoded draft's one component, the decoded metrics; checks the envelope's types."""
    wire = json.loads(json.dumps(body, ensure_ascii=False))
    assert wire["submit_id"] == SUBMIT_ID and wire["http_common_info"] == {"aid": 513695}
    metrics, draft = json.loads(wire["metrics_extra"]), json.loads(wire["draft_content"])
    assert isinstance(metrics, dict) and draft["type"] == "draft" and draft["version"] == "3.3.28"
    (component,) = draft["component_list"]
    assert draft["main_component_id"] == component["id"]
    return wire["extend"]["root_model"], component, metrics


def read_image(body: dict[str, Any]) -> ReadDraft:
    """2026 3.4/3.5: the count is abilities.gen_option.gen_count (absent: the model's batch)."""
    root, component, metrics = _envelope(body)
    kind = component["generate_type"]
    abilities = component["abilities"]
    ability = abilities[kind]
    core = ability["core_param"]
    large = core["large_image_info"]
    assert (
        core["model"] == root
        and 1 <= core["image_ratio"] <= 8
        and "history_option" not in abilities.get("generate", {})
    )
    assert isinstance(json.loads(metrics["sceneOptions"]), list)
    option = abilities.get("gen_option")
    count = option["gen_count"] if option else None
    images = len(ability["ability_list"][0]["image_uri_list"]) if kind == "blend" else 0
    return ReadDraft(
        kind=kind, model=root, width=large["width"], height=large["height"], ratio_code=core["image_ratio"],
        tier=large["resolution_type"], count=count, images=images,
    )  # fmt: skip


def read_video(body: dict[str, Any]) -> ReadDraft:
    """2026 4.2/4.3: one input, the resolution always, the commerce info alone and as a list."""
    root, component, metrics = _envelope(body)
    assert component["generate_type"] == "gen_video" and component["process_type"] == 1
    gen_video = component["abilities"]["gen_video"]
    params = gen_video["text_to_video_params"]
    (entry,) = params["video_gen_inputs"]
    assert params["model_req_key"] == root and 0 <= params["seed"] < 2**32
    assert json.loads(gen_video["video_task_extra"]) == metrics
    commerce = body["extend"]["m_video_commerce_info"]
    assert body["extend"]["m_video_commerce_info_list"] == [commerce]
    assert isinstance(commerce["amount"], int | float) and entry["resolution"] == entry["resolution"].lower()
    return ReadDraft(
        kind="gen_video", model=root, duration_ms=entry["duration_ms"], resolution=entry["resolution"],
        ratio=params["video_aspect_ratio"], benefit=commerce["benefit_type"], amount=commerce["amount"],
    )  # fmt: skip


def strict_parse(body: dict[str, Any]) -> Any:
    """The emulator's strict reading of a generate body (every uploaded image counts as committed)."""
    return emulator_drafts.parse_generate(json.loads(json.dumps(body)), lambda uri: True, STRICT)


def image_model(model_id: str) -> ImageModel:
    return find_image(CATALOG, model_id)


def video_model(model_id: str) -> VideoModel:
    return find_video(CATALOG, model_id)


@pytest.mark.parametrize(("model", "tier", "ratio"), IMAGE_ROWS)
def test_every_image_row_is_a_draft_that_reads_back_as_the_table_says(model: str, tier: str, ratio: str) -> None:
    spec = PLANNER.plan(ImageRequest(prompt="a cat", model=model, ratio=ratio, resolution=tier)).spec
    body = generate_body(CONFIG, spec, submit_id=SUBMIT_ID, seed=7, now_ms=NOW_MS)
    read = read_image(body)
    size, found = CONFIG.image_tiers[tier][ratio], image_model(model)
    upstream = strict_parse(body)
    assert (upstream.kind, upstream.model, upstream.resolution) == ("generate", found.key, tier)
    assert (upstream.width, upstream.height) == (size.width, size.height)
    assert upstream.gen_count == read.count
    assert (read.kind, read.model, read.tier) == ("generate", found.key, tier)
    assert (read.width, read.height, read.ratio_code) == (size.width, size.height, RATIO_CODES[ratio])
    assert read.count == (found.default_count if found.count_options else None)


@pytest.mark.parametrize("model", [model.id for model in CATALOG.images])
def test_every_image_model_blends_and_splits_n_into_jobs_that_read_back(model: str) -> None:
    found = image_model(model)
    urls = (ImageUrl("https://example.com/a.png"),) * 2
    n = 6 if found.count_options else found.default_count
    plan = PLANNER.plan(ImageRequest(prompt="mix", model=model, images=urls, n=n))
    uris = ("tos-cn-i-tb4s082cfz/a", "tos-cn-i-tb4s082cfz/b")
    bodies = [
        blend_body(CONFIG, replace(spec, image_uris=uris), submit_id=SUBMIT_ID, now_ms=NOW_MS) for spec in plan.specs
    ]
    reads = [read_image(body) for body in bodies]
    assert [strict_parse(body).gen_count for body in bodies] == [read.count for read in reads]
    assert {(read.kind, read.model, read.images) for read in reads} == {("blend", found.key, 2)}
    assert [read.count for read in reads] == ([4, 2] if found.count_options else [None])


@pytest.mark.parametrize(("model", "resolution", "duration"), VIDEO_ROWS)
def test_every_video_row_is_a_draft_that_reads_back_as_the_table_says(
    model: str, resolution: str, duration: int
) -> None:
    request = VideoRequest(prompt="waves", model=model, resolution=resolution, duration=duration)
    spec = PLANNER.plan(request).spec
    body = video_body(CONFIG, spec, submit_id=SUBMIT_ID, seed=7, now_ms=NOW_MS)
    read = read_video(body)
    found = video_model(model)
    upstream = strict_parse(body)
    assert (upstream.kind, upstream.model, upstream.resolution, upstream.duration_ms) == (
        "gen_video", found.key, resolution, duration * 1000,
    )  # fmt: skip
    assert upstream.benefit_type == found.benefits[resolution]
    assert (read.model, read.resolution, read.duration_ms, read.amount) == (
        found.key,
        resolution,
        duration * 1000,
        duration,
    )
    assert read.benefit == found.benefits[resolution]


@pytest.mark.parametrize(("model", "ratio"), VIDEO_RATIO_ROWS)
def test_every_video_ratio_reads_back(model: str, ratio: str) -> None:
    spec = PLANNER.plan(VideoRequest(prompt="waves", model=model, ratio=ratio)).spec
    body = video_body(CONFIG, spec, submit_id=SUBMIT_ID, seed=7, now_ms=NOW_MS)
    assert read_video(body).ratio == ratio
    strict_parse(body)


def test_the_tables_have_every_row_of_the_2026_document() -> None:
    assert len(IMAGE_ROWS) == 8 * (3 + 2 + 2 + 2 * 5 + 2 * 2)
    seedance_2 = 3 + 1 + 1 + 1 + 1 + 1 + 3  # 2.5, 2.5 draft, 2.0, Fast, mini, Fast VIP, VIP: resolutions
    four_to_fifteen = seedance_2 + 2 + 2 + 2  # and MiniMax H3, HappyHorse 1.1, Wan 3.0
    assert len(VIDEO_ROWS) == 12 * four_to_fifteen + 8 * 2 + 2 * (1 + 2)  # + 1.5 Pro 5-12 s, 1.0 Pro/Fast 5 or 10 s
    assert len(VIDEO_RATIO_ROWS) == 6 * 12 + 9
