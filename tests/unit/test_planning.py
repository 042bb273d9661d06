"""The one validator: every entry point's request is held to the same limits and tables by the planner."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.domain.chat import ChatModel, ChatPrompt, chat_request
from app.domain.errors import InvalidRequestError
from app.domain.models import DraftKind, GenerationKind, ImageRequest, VideoRequest
from app.domain.planning import Planner
from app.domain.sources import DataUri, ImageUrl
from config.upstream import load_upstream

CONFIG = load_upstream()
PLANNER = Planner(CONFIG, max_prompt_chars=100)
MAX_INPUT_IMAGES = CONFIG.limits.max_input_images
URL = ImageUrl("https://example.com/a.png")


def refusal(request: ImageRequest | VideoRequest) -> tuple[str, str | None]:
    with pytest.raises(InvalidRequestError) as caught:
        PLANNER.plan(request)
    return caught.value.code, caught.value.param


@pytest.mark.parametrize(
    ("request_", "code", "param"),
    [
        (ImageRequest(prompt="  "), "invalid_value", "prompt"),
        (ImageRequest(prompt="x" * 101), "invalid_value", "prompt"),
        (ImageRequest(prompt="cat", model="dall-e-9"), "model_not_found", "model"),
        (ImageRequest(prompt="cat", model="jimeng-video-3.0"), "model_not_found", "model"),
        (ImageRequest(prompt="cat", ratio="5:4"), "invalid_value", "ratio"),
        (ImageRequest(prompt="cat", resolution="8k"), "invalid_value", "resolution"),
        (ImageRequest(prompt="cat", size="big"), "invalid_value", "size"),
        (ImageRequest(prompt="cat", size="1792x1024", ratio="1:1"), "invalid_value", "size"),
        (ImageRequest(prompt="cat", n=0), "invalid_value", "n"),
        (ImageRequest(prompt="cat", n=5), "invalid_value", "n"),
        (ImageRequest(prompt="cat", seed=-1), "invalid_value", "seed"),
        (ImageRequest(prompt="cat", seed=2**32), "invalid_value", "seed"),
        (ImageRequest(prompt="cat", sample_strength=1.5), "invalid_value", "sample_strength"),
        (ImageRequest(prompt="cat", images=(URL,) * (MAX_INPUT_IMAGES + 1)), "too_many_images", "images"),
        (VideoRequest(prompt=""), "invalid_value", "prompt"),
        (VideoRequest(prompt="x", model="jimeng-4.0"), "model_not_found", "model"),
        (VideoRequest(prompt="x", ratio="3:2"), "invalid_value", "ratio"),
        (VideoRequest(prompt="x", resolution="4k"), "invalid_value", "resolution"),
        (VideoRequest(prompt="x", duration=7), "invalid_value", "duration"),
        (VideoRequest(prompt="x", size=(1920, 1080), ratio="9:16"), "invalid_value", "ratio"),
        (VideoRequest(prompt="x", frames=(URL,) * 3), "too_many_images", "images"),
    ],
)
def test_each_rule_refuses_with_its_code_and_field(
    request_: ImageRequest | VideoRequest, code: str, param: str
) -> None:
    assert refusal(request_) == (code, param)


@pytest.mark.parametrize(
    ("kind", "prompt", "model"),
    [
        (GenerationKind.IMAGE, ChatPrompt("x", (URL,) * (MAX_INPUT_IMAGES + 1)), "jimeng-4.0"),
        (GenerationKind.VIDEO, ChatPrompt("x", (URL,) * 3), "jimeng-video-3.0"),
    ],
)
def test_chat_is_held_to_the_same_image_limits_and_the_error_names_messages(
    kind: GenerationKind, prompt: ChatPrompt, model: str
) -> None:
    assert refusal(chat_request(ChatModel(model), prompt, kind)) == ("too_many_images", "messages")


def test_a_chat_prompt_over_the_limit_names_messages() -> None:
    request = chat_request(ChatModel(None), ChatPrompt("x" * 101), GenerationKind.IMAGE)
    assert refusal(request) == ("invalid_value", "messages")


def test_a_good_request_is_planned_with_the_tables_and_a_stripped_prompt() -> None:
    plan = PLANNER.plan(ImageRequest(prompt="  a cat  ", size="1792x1024", images=(URL, DataUri("data:x"))))
    assert (plan.kind, plan.prompt, plan.spec.kind, plan.spec.ratio) == (
        GenerationKind.IMAGE, "a cat", DraftKind.BLEND, "16:9",
    )  # fmt: skip
    assert plan.sources == (URL, DataUri("data:x"))
    video = PLANNER.plan(VideoRequest(prompt="waves", frames=(URL,)))
    assert (video.kind, video.spec.resolution, video.spec.duration_s, video.sources_param) == (
        GenerationKind.VIDEO, "720p", 5, "images",
    )  # fmt: skip


def test_the_limits_hold_exactly_at_the_boundary() -> None:
    base = ImageRequest(prompt="x" * 100, n=4, seed=0, images=(URL,) * MAX_INPUT_IMAGES)
    assert PLANNER.plan(base).n == 4
    assert PLANNER.plan(replace(base, seed=2**32 - 1, sample_strength=1.0)).spec.seed == 2**32 - 1
