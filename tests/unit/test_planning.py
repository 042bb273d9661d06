"""The one validator: every entry point's request is held to the catalog of its model by the planner."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.catalog import Catalog, FixedCatalog
from app.domain.chat import ChatModel, ChatPrompt, chat_request, parse_messages, parse_model
from app.domain.errors import InvalidRequestError
from app.domain.models import DraftKind, GenerationKind, ImageRequest, ResponseFormat, VideoRequest
from app.domain.planning import Planner
from app.domain.sources import DataUri, ImageUrl
from app.domain.static_catalog import catalog_from_config
from config.upstream import load_upstream

CONFIG = load_upstream()
CATALOG = catalog_from_config(CONFIG)
PLANNER = Planner(FixedCatalog(CATALOG), CONFIG, max_prompt_chars=100, max_messages_chars=300, default_image_count=0)
URL = ImageUrl("https://example.com/a.png")


def refusal(request: ImageRequest | VideoRequest, planner: Planner = PLANNER) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        planner.plan(request)
    return caught.value


@pytest.mark.parametrize(
    ("request_", "code", "param"),
    [
        (ImageRequest(prompt="  "), "invalid_value", "prompt"),
        (ImageRequest(prompt="x" * 101), "invalid_value", "prompt"),
        (ImageRequest(prompt="cat", model="dall-e-9"), "model_not_found", "model"),
        (ImageRequest(prompt="cat", model="jimeng-video-seedance-2.0"), "model_not_found", "model"),
        (ImageRequest(prompt="cat", ratio="5:4"), "invalid_value", "ratio"),
        (ImageRequest(prompt="cat", resolution="8k"), "invalid_value", "resolution"),
        (ImageRequest(prompt="cat", size="big"), "invalid_value", "size"),
        (ImageRequest(prompt="cat", size="1792x1024", ratio="1:1"), "invalid_value", "size"),
        (ImageRequest(prompt="cat", n=0), "invalid_value", "n"),
        (ImageRequest(prompt="cat", n=11), "invalid_value", "n"),
        (ImageRequest(prompt="cat", seed=-1), "invalid_value", "seed"),
        (ImageRequest(prompt="cat", seed=2**32), "invalid_value", "seed"),
        (ImageRequest(prompt="cat", sample_strength=1.5), "invalid_value", "sample_strength"),
        (ImageRequest(prompt="cat", images=(URL,) * 11), "too_many_images", "images"),
        (ImageRequest(prompt="cat", partial_images=4), "invalid_value", "partial_images"),
        (ImageRequest(prompt="cat", partial_images=-1), "invalid_value", "partial_images"),
        (ImageRequest(prompt="cat", stream=True, run_async=True), "invalid_value", "stream"),
        (VideoRequest(prompt=""), "invalid_value", "prompt"),
        (VideoRequest(prompt="x", model="jimeng-4.0"), "model_not_found", "model"),
        (VideoRequest(prompt="x", ratio="3:2"), "invalid_value", "ratio"),
        (VideoRequest(prompt="x", resolution="4k"), "invalid_value", "resolution"),
        (VideoRequest(prompt="x", duration=3), "invalid_value", "duration"),
        (VideoRequest(prompt="x", size=(1920, 1080), ratio="9:16"), "invalid_value", "ratio"),
        (VideoRequest(prompt="x", frames=(URL,) * 3), "too_many_images", "images"),
    ],
)
def test_each_rule_refuses_with_its_code_and_field(
    request_: ImageRequest | VideoRequest, code: str, param: str
) -> None:
    error = refusal(request_)
    assert (error.code, error.param) == (code, param)


# --- models: retired ids, aliases ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "replacement"),
    [
        ("jimeng-video-3.0", "jimeng-video-seedance-2.0-fast"),
        ("jimeng-video-2.0", "jimeng-video-seedance-2.0-fast"),
        ("jimeng-video-2.0-pro", "jimeng-video-seedance-2.0"),
    ],
)
def test_a_retired_video_id_is_model_unavailable_naming_its_replacement(name: str, replacement: str) -> None:
    error = refusal(VideoRequest(prompt="waves", model=name))
    assert (error.code, error.param) == ("model_unavailable", "model")
    assert replacement in error.message
    with pytest.raises(InvalidRequestError) as caught:
        PLANNER.kind_of(name)
    assert caught.value.code == "model_unavailable"


def test_a_retired_id_is_unavailable_whatever_endpoint_names_it() -> None:
    assert refusal(ImageRequest(prompt="cat", model="jimeng-video-3.0")).code == "model_unavailable"
    assert refusal(ImageRequest(prompt="cat", model="jimeng-2.1")).code == "model_unavailable"


@pytest.mark.parametrize(
    ("alias", "model_id", "kind"),
    [
        ("jimeng-5.0-lite", "jimeng-5.0", GenerationKind.IMAGE),
        ("jimeng-video-3.0-pro", "jimeng-video-seedance-1.0-pro", GenerationKind.VIDEO),
        ("jimeng-video-3.0-fast", "jimeng-video-seedance-1.0-fast", GenerationKind.VIDEO),
        ("jimeng-video-3.5-pro", "jimeng-video-seedance-1.5-pro", GenerationKind.VIDEO),
    ],
)
def test_old_ids_are_aliases_of_their_models(alias: str, model_id: str, kind: GenerationKind) -> None:
    assert PLANNER.kind_of(alias) is kind
    request = (
        ImageRequest(prompt="x", model=alias) if kind is GenerationKind.IMAGE else VideoRequest(prompt="x", model=alias)
    )
    assert PLANNER.plan(request).model_id == model_id


def test_the_defaults_are_the_configured_models() -> None:
    assert PLANNER.plan(ImageRequest(prompt="cat")).model_id == "jimeng-5.0"
    assert PLANNER.plan(VideoRequest(prompt="waves")).model_id == "jimeng-video-seedance-2.0-fast"


@dataclass
class RecordingSource:
    catalog: Catalog
    asked: list[str | None] = field(default_factory=list)

    def current(self, session_id: str | None = None) -> Catalog:
        self.asked.append(session_id)
        return self.catalog

    def cached(self, session_id: str | None = None, *, refresh: bool = False) -> Catalog:
        self.asked.append(session_id)
        return self.catalog

    def invalidate(self, session_id: str | None = None) -> None:
        return None


def test_the_planner_checks_against_the_catalog_of_the_requests_account() -> None:
    source = RecordingSource(replace(CATALOG, images=CATALOG.images[:1], default_image="jimeng-5.0-pro"))
    planner = Planner(source, CONFIG, max_prompt_chars=100, max_messages_chars=300, default_image_count=0)
    assert planner.plan(ImageRequest(prompt="cat"), catalog=source.cached("s1")).model_id == "jimeng-5.0-pro"
    assert refusal(ImageRequest(prompt="cat", model="jimeng-4.0"), planner).code == "model_not_found"
    assert source.asked == ["s1", None]


# --- image tiers, ratios and sizes --------------------------------------------------------------------------


def test_a_tier_the_model_does_not_offer_is_refused_naming_the_ones_it_offers() -> None:
    error = refusal(ImageRequest(prompt="cat", model="jimeng-5.0", resolution="1.5k"))
    assert error.param == "resolution"
    assert "jimeng-5.0" in error.message and "it offers 2k, 4k" in error.message
    assert "1.5k, 2k, 4k" in refusal(ImageRequest(prompt="cat", model="jimeng-5.0-pro", resolution="1k")).message


@pytest.mark.parametrize(
    ("model", "resolution", "tier"),
    [(None, None, "2k"), ("jimeng-5.0-pro", "1.5K", "1.5k"), ("jimeng-3.0", "1k", "1k"), ("jimeng-4.0", "4k", "4k")],
)
def test_each_model_offers_its_own_tiers(model: str | None, resolution: str | None, tier: str) -> None:
    spec = PLANNER.plan(ImageRequest(prompt="cat", model=model, resolution=resolution)).spec
    assert spec.resolution == tier
    assert (spec.width, spec.height, spec.ratio_code) == tuple(vars(CONFIG.image_tiers[tier]["1:1"]).values())


@pytest.mark.parametrize(
    ("model", "size", "ratio", "tier", "pixels"),
    [
        ("jimeng-5.0", "1792x1024", "16:9", "2k", (2560, 1440)),
        ("jimeng-5.0-pro", "1792x1024", "16:9", "1.5k", (1920, 1080)),
        ("jimeng-5.0", "1024x1024", "1:1", "2k", (2048, 2048)),
        ("jimeng-3.0", "1024x1024", "1:1", "1k", (1024, 1024)),
        ("jimeng-4.0", "4096x4096", "1:1", "4k", (4096, 4096)),
        ("jimeng-4.0", "1024x1792", "9:16", "2k", (1440, 2560)),
    ],
)
def test_an_openai_size_maps_to_the_nearest_ratio_and_tier_the_model_offers(
    model: str, size: str, ratio: str, tier: str, pixels: tuple[int, int]
) -> None:
    spec = PLANNER.plan(ImageRequest(prompt="cat", model=model, size=size)).spec
    assert (spec.ratio, spec.resolution, (spec.width, spec.height)) == (ratio, tier, pixels)


@pytest.mark.parametrize("size", ["auto", "AUTO", " auto "])
def test_size_auto_is_no_size_the_models_defaults_or_the_callers_ratio_and_tier(size: str) -> None:
    default = PLANNER.plan(ImageRequest(prompt="cat", model="jimeng-5.0")).spec
    auto = PLANNER.plan(ImageRequest(prompt="cat", model="jimeng-5.0", size=size)).spec
    assert auto == default
    chosen = PLANNER.plan(ImageRequest(prompt="cat", model="jimeng-4.0", size=size, ratio="16:9", resolution="4k"))
    assert (chosen.spec.ratio, chosen.spec.resolution) == ("16:9", "4k")


@pytest.mark.parametrize(
    ("sent", "planned"), [(None, None), ("png", "png"), ("JPEG", "jpeg"), ("jpg", "jpeg"), ("webp", "webp")]
)
def test_output_format_is_png_jpeg_or_webp(sent: str | None, planned: str | None) -> None:
    plan = PLANNER.plan(ImageRequest(prompt="cat", model="jimeng-5.0", output_format=sent, output_compression=80))
    assert (plan.output_format, plan.output_compression, plan.size) == (planned, 80, "2048x2048")


@pytest.mark.parametrize(
    ("fields", "param"),
    [({"output_format": "gif"}, "output_format"), ({"output_compression": 101}, "output_compression"),
     ({"output_compression": -1}, "output_compression")],
)  # fmt: skip
def test_output_format_and_compression_out_of_range_are_400(fields: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        PLANNER.plan(ImageRequest(prompt="cat", **fields))  # type: ignore[arg-type]
    assert caught.value.param == param


def test_the_4k_tier_is_the_servers_table_with_codes_1_to_8() -> None:
    spec = PLANNER.plan(ImageRequest(prompt="cat", model="jimeng-4.0", ratio="4:3", resolution="4k")).spec
    assert (spec.width, spec.height, spec.ratio_code) == (4693, 3520, 4)


# --- n: jobs and counts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "n", "counts"),
    [
        ("jimeng-5.0", None, (4,)),
        ("jimeng-5.0-pro", None, (2,)),
        ("jimeng-5.0", 1, (1,)),
        ("jimeng-5.0", 4, (4,)),
        ("jimeng-5.0", 5, (4, 1)),
        ("jimeng-5.0", 6, (4, 2)),
        ("jimeng-5.0-flash", 8, (4, 4)),
        ("jimeng-5.0-pro", 10, (4, 4, 2)),
    ],
)
def test_n_is_split_into_jobs_of_at_most_four(model: str, n: int | None, counts: tuple[int, ...]) -> None:
    plan = PLANNER.plan(ImageRequest(prompt="cat", model=model, n=n))
    assert plan.job_counts == counts
    assert [spec.count for spec in plan.specs] == list(counts)
    assert all(spec.gen_option for spec in plan.specs)
    assert plan.n == n


def test_every_job_has_the_same_draft_but_its_count_and_its_own_seed() -> None:
    plan = PLANNER.plan(ImageRequest(prompt="cat", n=6, seed=2**32 - 1, ratio="16:9"))
    first, second = plan.specs
    assert (first.seed, second.seed) == (2**32 - 1, 0)
    assert replace(second, count=4, seed=first.seed) == first
    assert PLANNER.plan(ImageRequest(prompt="cat", n=6)).specs[1].seed is None


@pytest.mark.parametrize(("n", "counts"), [(None, (4,)), (4, (4,))])
def test_a_fixed_batch_model_makes_its_batch_without_gen_option(n: int | None, counts: tuple[int, ...]) -> None:
    plan = PLANNER.plan(ImageRequest(prompt="cat", model="jimeng-3.1", n=n))
    assert plan.job_counts == counts
    assert plan.spec.gen_option is False


@pytest.mark.parametrize("n", [1, 2, 8])
def test_a_fixed_batch_model_refuses_another_n_naming_its_batch(n: int) -> None:
    error = refusal(ImageRequest(prompt="cat", model="jimeng-3.0", n=n))
    assert error.param == "n"
    assert "fixed batch of 4" in error.message


def test_an_n_no_split_of_the_models_options_makes_is_refused() -> None:
    only_four = replace(CATALOG.images[1], id="four", aliases=(), count_options=(4,))
    planner = Planner(
        FixedCatalog(replace(CATALOG, images=(only_four,), default_image="four")),
        CONFIG,
        max_prompt_chars=9,
        max_messages_chars=9,
        default_image_count=0,
    )
    assert planner.plan(ImageRequest(prompt="cat", n=8)).job_counts == (4, 4)
    error = refusal(ImageRequest(prompt="cat", n=6), planner)
    assert error.param == "n" and "makes 4 images per job" in error.message


@pytest.mark.parametrize(
    ("setting", "model", "counts"),
    [(0, "jimeng-5.0", (4,)), (1, "jimeng-5.0", (1,)), (6, "jimeng-5.0-pro", (4, 2)), (3, "jimeng-3.0", (4,))],
)
def test_default_image_count_replaces_the_models_default(setting: int, model: str, counts: tuple[int, ...]) -> None:
    planner = Planner(
        FixedCatalog(CATALOG), CONFIG, max_prompt_chars=100, max_messages_chars=300, default_image_count=setting
    )
    assert planner.plan(ImageRequest(prompt="cat", model=model)).job_counts == counts
    assert planner.plan(ImageRequest(prompt="cat", model=model, n=4)).job_counts == (4,)


# --- videos -------------------------------------------------------------------------------------------------


def test_a_video_plan_carries_the_models_benefit_its_fallback_and_the_video_size() -> None:
    spec = PLANNER.plan(VideoRequest(prompt="waves", model="jimeng-video-seedance-2.5", resolution="1080p")).spec
    assert (spec.kind, spec.model_key, spec.resolution, spec.duration_s, spec.ratio) == (
        DraftKind.VIDEO, "dreamina_seedance_45_pro", "1080p", 5, "16:9",
    )  # fmt: skip
    assert (spec.width, spec.height) == (1920, 1080)
    assert (spec.benefit_type, spec.benefit_fallback) == (
        "seedance_25_1080p_output", "seedance_25_1080p_no_input_video_output",
    )  # fmt: skip
    assert spec.draft_mode is False


def test_the_draft_model_plans_a_draft_mode_480p_job() -> None:
    spec = PLANNER.plan(VideoRequest(prompt="waves", model="jimeng-video-seedance-2.5-draft")).spec
    assert (spec.resolution, spec.draft_mode, spec.benefit_type, (spec.width, spec.height)) == (
        "480p", True, "seedance_25_draft_480p_output", (854, 480),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("model", "duration", "words"),
    [
        ("jimeng-video-seedance-2.0", 16, "from 4 to 15 seconds"),
        ("jimeng-video-seedance-2.0-fast", 3, "from 4 to 15 seconds"),
        ("jimeng-video-seedance-1.0-pro", 7, "5 or 10 seconds"),
        ("jimeng-video-seedance-1.5-pro", 4, "from 5 to 12 seconds"),
    ],
)
def test_a_duration_out_of_the_models_range_is_refused_naming_it(model: str, duration: int, words: str) -> None:
    error = refusal(VideoRequest(prompt="x", model=model, duration=duration))
    assert error.param == "duration"
    assert words in error.message and model in error.message


@pytest.mark.parametrize("duration", [4, 9, 15])
def test_every_whole_second_of_the_range_is_accepted(duration: int) -> None:
    assert PLANNER.plan(VideoRequest(prompt="x", duration=duration)).spec.duration_s == duration


@pytest.mark.parametrize(
    ("model", "frames", "words"),
    [
        ("jimeng-video-seedance-1.0-pro", 2, "takes first frame; got 2 image(s) (end frame unsupported)"),
        ("jimeng-video-happyhorse-1.1", 2, "takes first frame"),
        ("jimeng-video-seedance-2.5-draft", 1, "takes no input images"),
    ],
)
def test_frames_the_model_does_not_take_are_refused(model: str, frames: int, words: str) -> None:
    error = refusal(VideoRequest(prompt="x", model=model, frames=(URL,) * frames))
    assert (error.code, error.param) == ("invalid_value", "images")
    assert words in error.message


@pytest.mark.parametrize(("model", "frames"), [("jimeng-video-seedance-2.5", 2), ("jimeng-video-seedance-1.0-fast", 1)])
def test_frames_the_model_takes_are_planned(model: str, frames: int) -> None:
    plan = PLANNER.plan(VideoRequest(prompt="x", model=model, frames=(URL,) * frames))
    assert plan.sources == (URL,) * frames


@pytest.mark.parametrize(
    ("model", "field_", "value", "offers"),
    [
        ("jimeng-video-seedance-2.0", "resolution", "1080p", "it offers 720p"),
        ("jimeng-video-seedance-2.5", "ratio", "4:5", "21:9, 16:9, 4:3, 1:1, 3:4, 9:16"),
        ("jimeng-video-minimax-h3", "resolution", "720p", "it offers 768p, 2k"),
    ],
)
def test_video_choices_are_the_models_own(model: str, field_: str, value: str, offers: str) -> None:
    error = refusal(VideoRequest(prompt="x", model=model, **{field_: value}))  # type: ignore[arg-type]
    assert error.param == field_ and offers in error.message


def test_model_specific_choices_are_accepted() -> None:
    assert PLANNER.plan(VideoRequest(prompt="x", model="jimeng-video-happyhorse-1.1", ratio="4:5")).spec.ratio == "4:5"
    spec = PLANNER.plan(VideoRequest(prompt="x", model="jimeng-video-minimax-h3", resolution="2K")).spec
    assert (spec.resolution, spec.duration_s, spec.benefit_type) == ("2k", 4, "minimax_h3_2k_output")


# --- every entry point --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "prompt", "model"),
    [
        (GenerationKind.IMAGE, ChatPrompt("x", (URL,) * 11), "jimeng-4.0"),
        (GenerationKind.VIDEO, ChatPrompt("x", (URL,) * 3), "jimeng-video-seedance-2.0"),
    ],
)
def test_chat_is_held_to_the_same_image_limits_and_the_error_names_messages(
    kind: GenerationKind, prompt: ChatPrompt, model: str
) -> None:
    error = refusal(chat_request(ChatModel(model), prompt, kind))
    assert (error.code, error.param) == ("too_many_images", "messages")


def test_a_chat_prompt_over_the_limit_names_messages() -> None:
    error = refusal(chat_request(ChatModel(None), ChatPrompt("x" * 101), GenerationKind.IMAGE))
    assert (error.code, error.param) == ("invalid_value", "messages")


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
    assert video.job_counts == (1,)


def test_the_limits_hold_exactly_at_the_boundary() -> None:
    base = ImageRequest(prompt="x" * 100, n=10, seed=0, images=(URL,) * 10)
    assert PLANNER.plan(base).n == 10
    assert PLANNER.plan(replace(base, seed=2**32 - 1, sample_strength=1.0)).spec.seed == 2**32 - 1


# --- free text: lengths, characters, names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "param", "says"),
    [
        (ImageRequest(prompt="cat", negative_prompt="x" * 101), "negative_prompt", "101 characters long"),
        (ImageRequest(prompt="cat", negative_prompt="no\x00dogs"), "negative_prompt", "control character U+0000"),
        (ImageRequest(prompt="a\x00cat"), "prompt", "control character U+0000 at position 1"),
        (ImageRequest(prompt="a\x1bcat"), "prompt", "control character U+001B"),
        (ImageRequest(prompt="a\x7fcat"), "prompt", "control character U+007F"),
        (ImageRequest(prompt="a\ud800cat"), "prompt", "lone surrogate U+D800"),
        (VideoRequest(prompt="a\udfffwave"), "prompt", "lone surrogate U+DFFF"),
        (ImageRequest(prompt="cat", model="m" * 65), "model", "65 characters long; the limit is 64"),
        (ImageRequest(prompt="cat", ratio="1" * 65), "ratio", "the limit is 64"),
        (ImageRequest(prompt="cat", resolution="k" * 65), "resolution", "the limit is 64"),
        (ImageRequest(prompt="cat", size="1" * 65), "size", "the limit is 64"),
        (VideoRequest(prompt="x", resolution="p" * 100), "resolution", "the limit is 64"),
        (ImageRequest(prompt="cat", images=(ImageUrl("https://x/" + "a" * 8192),)), "images[0]", "the limit is 8192"),
        (ImageRequest(prompt="cat", images=(URL, ImageUrl("https://x/a\x00.png"))), "images[1]", "U+0000"),
        (VideoRequest(prompt="x", frames=(ImageUrl("https://x/\x01"),)), "images[0]", "control character U+0001"),
        (ImageRequest(prompt="cat", n=10**4000), "n", "got a number of 4001 digits"),
        (VideoRequest(prompt="x", duration=-(10**50)), "duration", "got a number of 52 digits"),
    ],
)
def test_free_text_is_bounded_and_holds_no_control_characters(
    request_: ImageRequest | VideoRequest, param: str, says: str
) -> None:
    error = refusal(request_)
    assert (error.code, error.param) == ("invalid_value", param)
    assert says in error.message
    assert len(error.message) < 400  # the caller's text is never echoed whole


def test_tab_newline_and_carriage_return_are_text() -> None:
    plan = PLANNER.plan(ImageRequest(prompt="a cat\tin\r\na hat", negative_prompt="dogs\n"))
    assert (plan.prompt, plan.spec.negative_prompt) == ("a cat\tin\r\na hat", "dogs\n")


def test_a_negative_prompt_at_the_limit_is_forwarded() -> None:
    assert PLANNER.plan(ImageRequest(prompt="cat", negative_prompt="n" * 100)).spec.negative_prompt == "n" * 100


def test_a_chat_prompt_is_checked_under_the_name_of_its_message() -> None:
    prompt = ChatPrompt("a\x00cat", param="messages[2].content")
    error = refusal(chat_request(ChatModel(None), prompt, GenerationKind.IMAGE))
    assert error.param == "messages[2].content"
    long = ChatPrompt("x" * 101, param="messages[4].content")
    assert refusal(chat_request(ChatModel(None), long, GenerationKind.VIDEO)).param == "messages[4].content"


@pytest.mark.parametrize("kind", [GenerationKind.IMAGE, GenerationKind.VIDEO])
def test_the_text_of_all_messages_is_bounded_as_a_whole(kind: GenerationKind) -> None:
    model = ChatModel("jimeng-video-seedance-2.0" if kind is GenerationKind.VIDEO else None)
    assert PLANNER.plan(chat_request(model, ChatPrompt("cat", total_chars=300), kind))
    error = refusal(chat_request(model, ChatPrompt("cat", total_chars=301), kind))
    assert (error.param, error.code) == ("messages", "invalid_value")
    assert "301 characters long; the limit is 300" in error.message


@pytest.mark.parametrize(
    ("chat_model", "says"),
    [
        (ChatModel(None, ratio="5:4"), "ratio '5:4' is not offered"),
        (ChatModel(None, size="99999x1"), "size sides must be from 1 to 16384"),
        (ChatModel(None, size="1792x1024", ratio="1:1"), "conflicts with ratio 1:1"),
    ],
)
def test_a_chat_model_suffix_is_refused_under_the_name_model(chat_model: ChatModel, says: str) -> None:
    error = refusal(chat_request(chat_model, ChatPrompt("cat"), GenerationKind.IMAGE))
    assert error.param == "model"
    assert says in error.message


# --- fuzzed entry points: the domain's InvalidRequestError, nothing else ------------------------------------

MODEL_IDS = [m.id for m in (*CATALOG.images, *CATALOG.videos)] + ["jimeng-video-3.0", "", "nope"]
SUFFIX_CHARS = st.sampled_from("0123456789:xX× \t\n.-+e١") | st.characters()


def _chat_plan(model: str | None, messages: list[object]) -> None:
    """What ``GenerationService.prepare_chat`` does before any input is fetched."""
    chat_model, prompt = parse_model(model), parse_messages(messages)  # type: ignore[arg-type]
    kind = PLANNER.kind_of(chat_model.model_id)
    PLANNER.plan(chat_request(chat_model, prompt, kind))


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(MODEL_IDS), st.text(SUFFIX_CHARS, max_size=80), st.text(max_size=120))
def test_any_chat_model_suffix_and_prompt_plan_or_are_refused_as_invalid(model: str, suffix: str, text: str) -> None:
    try:
        _chat_plan(f"{model}:{suffix}", [{"role": "user", "content": text}])
    except InvalidRequestError as err:
        assert err.param is not None and len(err.message) < 600


@pytest.mark.parametrize(
    "model",
    ["jimeng-video-3.0:00x10", "jimeng-video-seedance-2.0:00x10", "jimeng-video-seedance-2.0:10x00",
     "jimeng-4.0:00x10", "jimeng-4.0:0:0", "jimeng-video-seedance-2.0:0:0", "jimeng-4.0:99999x99999",
     "jimeng-video-seedance-2.0:99999x1", "jimeng-4.0:" + "9" * 5000, "j" * 100_000],
)  # fmt: skip
def test_hostile_chat_models_are_refused_as_invalid(model: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        _chat_plan(model, [{"role": "user", "content": "cat"}])
    assert len(caught.value.message) < 600


@settings(max_examples=300, deadline=None)
@given(
    size=st.none() | st.text(st.sampled_from("0123456789xX× ") | st.characters(), max_size=100),
    ratio=st.none() | st.text(st.sampled_from("0123456789:") | st.characters(), max_size=20),
    resolution=st.none() | st.text(max_size=10),
    n=st.none() | st.integers(min_value=-(10**30), max_value=10**30),
    seed=st.none() | st.integers(min_value=-(10**30), max_value=10**30),
    strength=st.floats(allow_nan=False, allow_infinity=False),
)
def test_any_image_request_plans_or_is_refused_as_invalid(
    size: str | None, ratio: str | None, resolution: str | None, n: int | None, seed: int | None, strength: float
) -> None:
    request = ImageRequest(
        prompt="cat", size=size, ratio=ratio, resolution=resolution, n=n, seed=seed, sample_strength=strength
    )
    try:
        PLANNER.plan(request)
    except InvalidRequestError as err:
        assert err.param in ("size", "ratio", "resolution", "n", "seed", "sample_strength")


@pytest.mark.parametrize("response_format", list(ResponseFormat))
def test_a_stream_plans_urls_whatever_the_format_since_it_downloads_each_image_itself(
    response_format: ResponseFormat,
) -> None:
    streamed = PLANNER.plan(ImageRequest(prompt="cat", stream=True, partial_images=3, response_format=response_format))
    assert streamed.response_format is ResponseFormat.URL
    assert PLANNER.plan(ImageRequest(prompt="cat", response_format=response_format)).response_format is response_format
