"""config/upstream.yml: typed sections, strict loading, and one-line errors that name the dotted key."""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import pytest
import yaml

from app import create_app
from app.domain.models import GenerationKind
from config.settings import settings_for_tests
from config.upstream import (
    DEFAULT_PATH,
    ImageSize,
    UpstreamConfig,
    UpstreamConfigError,
    load_upstream,
    upstream_from_mapping,
)
from tests.support import upstream_file_without_video_fps

SOURCE = "config/upstream.yml"
SHIPPED: dict[str, Any] = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
# Tables keyed by data: header, cookie and parameter names, tiers, resolutions. Dropping an entry is an edit, not
# a missing key (what the other tables then lack is checked by their own tests below).
FREE_FORM = re.compile(
    r"(headers|cookie|query\.values|query\.sets|video\.resolution_sides|video\.key_features|image_tiers"
    r"|video_models\[\d+\]\.benefit_fallbacks)\."
)

Step = str | int


def parse(raw: Any) -> UpstreamConfig:
    return upstream_from_mapping(raw, source=SOURCE)


def error_of(raw: Any) -> str:
    with pytest.raises(UpstreamConfigError) as caught:
        parse(raw)
    message = str(caught.value)
    assert "\n" not in message
    return message


def dotted(steps: tuple[Step, ...]) -> str:
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def mapping_keys(value: Any, steps: tuple[Step, ...] = ()) -> Iterator[tuple[Step, ...]]:
    """Every key of every mapping in the file, lists of mappings (``models``) entered by index."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*steps, key)
            yield from mapping_keys(item, (*steps, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from mapping_keys(item, (*steps, index))


def has_default(steps: tuple[Step, ...]) -> bool:
    """Whether the key is a dataclass field with a default, found by following the type hints."""
    hint: Any = UpstreamConfig
    for step in steps[:-1]:
        if dataclasses.is_dataclass(hint):
            hint = get_type_hints(hint)[str(step)]
        elif get_origin(hint) is Mapping:
            hint = get_args(hint)[1]
        else:
            hint = get_args(hint)[0]
    if not dataclasses.is_dataclass(hint):
        return False
    spec = next(f for f in dataclasses.fields(hint) if f.name == steps[-1])
    return spec.default is not dataclasses.MISSING or spec.default_factory is not dataclasses.MISSING


REQUIRED_KEYS = [
    steps for steps in mapping_keys(SHIPPED) if not has_default(steps) and not FREE_FORM.match(dotted(steps))
]


def without(steps: tuple[Step, ...]) -> dict[str, Any]:
    raw = copy.deepcopy(SHIPPED)
    parent: Any = raw
    for step in steps[:-1]:
        parent = parent[step]
    del parent[steps[-1]]
    return raw


def changed(steps: tuple[Step, ...], value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(SHIPPED)
    parent: Any = raw
    for step in steps[:-1]:
        parent = parent[step]
    parent[steps[-1]] = value
    return raw


# --- the shipped file ---------------------------------------------------------------------------------------


def test_the_shipped_file_loads_into_typed_sections() -> None:
    config = load_upstream()
    assert config.app.aid == 513695
    assert config.app.draft_version == "3.3.28"
    assert (config.sign.pf, config.sign.appvr, config.sign.tdid) == ("7", "8.4.0", "")
    assert config.query.values["da_version"] == "3.3.28"
    assert config.query.sets["commerce"] == ()
    assert config.calls.user_credit.query == "commerce"
    assert list(config.cookie) == ["_tea_web_id", "sid_tt", "sessionid", "sessionid_ss"]
    assert config.imagex.upload_scene == 2
    assert dict(config.video.resolution_sides)["768p"] == 768
    assert (config.video.send_amount, config.video.benefit_retry_rets) == (True, ("5001", "1000"))
    assert config.video.features_of("dreamina_seedance_45_pro_draft") == ("AIGC_Video_Seedance25ResultAction",)
    assert config.video.features_of("dreamina_seedance_40_pro") == ()
    assert (config.costs.image, config.costs.video) == (1, 5)
    assert (config.limits.max_n, config.limits.max_job_count, config.limits.max_video_frames) == (10, 4, 2)
    assert (config.defaults.image_model, config.defaults.video_model) == (
        "jimeng-5.0",
        "jimeng-video-seedance-2.0-fast",
    )
    assert config.image_tiers["1k"]["4:3"] == ImageSize(1024, 768, 4)
    assert list(config.headers)[:2] == ["Accept", "Accept-Encoding"]


def test_tiers_ratios_and_models_keep_file_order() -> None:
    config = load_upstream()
    assert tuple(config.image_tiers) == ("1k", "1.5k", "2k", "4k")
    assert tuple(config.image_tiers["2k"]) == ("1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "21:9")
    assert [m.id for m in config.image_models][:3] == ["jimeng-5.0-pro", "jimeng-5.0", "jimeng-5.0-flash"]
    assert config.video_models[0].ratios == ("21:9", "16:9", "4:3", "1:1", "3:4", "9:16")


def test_omitted_model_fields_take_their_defaults() -> None:
    raw = without(("image_models", 1, "aliases"))
    del raw["video_models"][0]["benefit_fallbacks"]
    config = parse(raw)
    assert config.image_models[1].aliases == ()
    assert (config.video_models[0].benefit_fallbacks, config.video_models[0].draft_mode) == ({}, False)


def test_the_config_is_immutable() -> None:
    config = load_upstream()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.video.fps = 30  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.headers["Cookie"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        config.image_tiers["2k"]["1:1"] = ImageSize(1, 1, 1)  # type: ignore[index]


# --- strict loading -----------------------------------------------------------------------------------------


def test_the_walk_covers_every_section() -> None:
    names = {dotted(steps) for steps in REQUIRED_KEYS}
    for key in (
        "app.aid", "calls.history.referer", "video.commerce.resource_id", "image_models[0].count_options",
        "video_models[0].benefits.720p", "retired_models[0].replacement", "defaults.video_model", "calls.queue_info.path",
    ):  # fmt: skip
        assert key in names
    assert "image_tiers.4k.21:9" not in names and "image_models[1].aliases" not in names and "aliases" not in names


@pytest.mark.parametrize("steps", REQUIRED_KEYS, ids=dotted)
def test_a_file_without_a_key_fails_naming_it(steps: tuple[Step, ...]) -> None:
    message = error_of(without(steps))
    assert re.fullmatch(rf"{re.escape(SOURCE)}: missing key {re.escape(dotted(steps))}( \(.*\))?", message), message


def test_keys_with_defaults_may_be_left_out() -> None:
    assert parse(without(("aliases",))).aliases == {}


@pytest.mark.parametrize(
    ("steps", "key"),
    [
        ((), "vidoe"),
        (("video",), "duratons"),
        (("video", "commerce"), "benefit_type"),
        (("image_models", 2), "multi_image"),
        (("video_models", 0), "first_last_frame_model"),
        (("calls", "queue_info"), "method"),
    ],
)
def test_an_unknown_key_fails_naming_it(steps: tuple[Step, ...], key: str) -> None:
    raw = copy.deepcopy(SHIPPED)
    parent: Any = raw
    for step in steps:
        parent = parent[step]
    parent[key] = 1
    assert error_of(raw) == f"{SOURCE}: unknown key {dotted((*steps, key))}"


@pytest.mark.parametrize(
    ("steps", "value", "expected"),
    [
        (("video", "fps"), "x", "video.fps: expected an integer, got 'x'"),
        (("video_models", 0, "durations"), [5, "10"], "video_models[0].durations[1]: expected an integer, got '10'"),
        (("video_models", 0, "ratios"), "16:9", "video_models[0].ratios: expected a list, got '16:9'"),
        (("video_models", 1, "frames"), ["last_frame"], "video_models[1].frames[0]: expected one of first_frame, "),
        (("app", "aid"), True, "app.aid: expected an integer, got True"),
        (("app", "draft_version"), 3.3, "app.draft_version: expected a string, got 3.3"),
        (("query", "sets", "mweb"), "aid", "query.sets.mweb: expected a list, got 'aid'"),
        (("calls", "history", "referer"), None, "calls.history.referer: expected a string, got None"),
        (("sign", "pf"), 7, "sign.pf: expected a string, got 7"),
        (("image_models", 0, "blend"), "yes", "image_models[0].blend: expected true or false, got 'yes'"),
        (("image_models", 1, "count_options"), 4, "image_models[1].count_options: expected a list, got 4"),
        (("headers", "Pragma"), 1, "headers.Pragma: expected a string, got 1"),
        (("video", "commerce"), "x", "video.commerce: expected a mapping, got 'x'"),
        (("image_tiers", "1k", "1:1"), [1024, 1024], "image_tiers.1k.1:1: expected a row [width, height, code], "),
        (("image_tiers", "2k", "1:1"), [2048, "2048", 1], "image_tiers.2k.1:1.height: expected an integer, got '2048'"),
    ],
)
def test_a_wrong_type_fails_naming_the_key(steps: tuple[Step, ...], value: Any, expected: str) -> None:
    assert error_of(changed(steps, value)).startswith(f"{SOURCE}: {expected}")


def test_a_file_that_is_not_a_mapping_fails() -> None:
    assert error_of(["app"]) == f"{SOURCE}: the top level: expected a mapping, got ['app']"


# --- consistency --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "value", "expected"),
    [
        (("image_models", 2, "id"), "jimeng-5.0-pro", "image_models[2].id: jimeng-5.0-pro is listed twice"),
        (("image_models", 2, "aliases"), ["jimeng-4.0"], "image_models[7].id: jimeng-4.0 is listed twice"),
        (("retired_models", 0, "id"), "jimeng-4.0", "retired_models[0].id: jimeng-4.0 is listed twice"),
        (("aliases",), {"jimeng-5.0-lite": "jimeng-5.0"}, "aliases.jimeng-5.0-lite: jimeng-5.0-lite is listed twice"),
        (("aliases",), {"dall-e-3": "jimeng-9.0"}, "aliases.dall-e-3: points at unknown model jimeng-9.0"),
        (
            ("retired_models", 0, "replacement"),
            "jimeng-video-9",
            "retired_models[0].replacement: jimeng-video-9 is not",
        ),
        (("image_models", 0, "tiers"), ["8k"], "image_models[0].tiers[0]: 8k is not one of image_tiers (1k, 1.5k, "),
        (("image_models", 0, "default_tier"), "1k", "image_models[0].default_tier: '1k' is not one of 1.5k, 2k, 4k"),
        (("image_models", 0, "default_count"), 5, "image_models[0].default_count: 5 is not one of 1, 2, 3, 4"),
        (("image_models", 0, "count_options"), [0, 1], "image_models[0]: image counts must be at least 1"),
        (("video_models", 2, "default_duration"), 3, "video_models[2].default_duration: 3 is not one of 4, 5, "),
        (("video_models", 2, "default_resolution"), "1080p", "video_models[2].default_resolution: '1080p' is not"),
        (
            ("video_models", 2, "benefits", "1080p"),
            "x",
            "unknown key video_models[2].benefits.1080p (resolutions: 720p)",
        ),
        (("video_models", 2, "benefit_fallbacks"), {"4k": "x"}, "unknown key video_models[2].benefit_fallbacks.4k"),
        (
            ("defaults", "image_model"),
            "jimeng-video-seedance-2.0",
            "defaults.image_model: jimeng-video-seedance-2.0 is",
        ),
        (("defaults", "video_model"), "jimeng-video-3.0", "defaults.video_model: jimeng-video-3.0 is not one of"),
        (("defaults", "image_ratio"), "5:4", "defaults.image_ratio: '5:4' is in no tier of image_tiers"),
    ],
)
def test_the_model_tables_must_agree_with_themselves(steps: tuple[Step, ...], value: object, expected: str) -> None:
    assert error_of(changed(steps, value)).startswith(f"{SOURCE}: {expected}")


@pytest.mark.parametrize(
    ("steps", "value", "expected"),
    [
        (("query", "sets", "mweb"), ["aid", "webId", "osx"], "query.sets.mweb[2]: osx has no entry in query.values"),
        (("calls", "history", "query"), "mwbe", "calls.history.query: mwbe is not one of query.sets (mweb, "),
        (("cookie", "sessionid"), "{sessionid}", "cookie.sessionid: '{sessionid}' may use only {session_id}, "),
    ],
)
def test_calls_name_known_query_sets_and_cookies_known_placeholders(
    steps: tuple[Step, ...], value: object, expected: str
) -> None:
    assert error_of(changed(steps, value)).startswith(f"{SOURCE}: {expected}")


# --- the file itself ----------------------------------------------------------------------------------------


def test_load_upstream_names_the_file_it_read(tmp_path: Path) -> None:
    path = tmp_path / "upstream.yml"
    path.write_text(yaml.safe_dump(without(("video", "fps"))), encoding="utf-8")
    with pytest.raises(UpstreamConfigError) as caught:
        load_upstream(path)
    assert str(caught.value) == f"{path}: missing key video.fps"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("app: [1\nsign: x\n", "not valid YAML: "), ("", "the top level: expected a mapping, got None")],
)
def test_an_unparsable_or_empty_file_is_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "upstream.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UpstreamConfigError) as caught:
        load_upstream(path)
    assert str(caught.value).startswith(f"{path}: {expected}")
    assert "\n" not in str(caught.value)


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UpstreamConfigError, match=r"nothing\.yml: cannot read the file: No such file"):
        load_upstream(tmp_path / "nothing.yml")


# --- start-up -----------------------------------------------------------------------------------------------


def test_the_app_loads_the_file_of_its_settings(tmp_path: Path) -> None:
    path = tmp_path / "upstream.yml"
    path.write_text(yaml.safe_dump(changed(("costs", "video"), 7)), encoding="utf-8")
    app = create_app(settings_for_tests(jimeng_upstream_config=str(path)))
    assert app.extensions["upstream"].costs.video == 7
    assert app.extensions["generation"].planner.cost(GenerationKind.VIDEO) == 7


def test_create_app_refuses_a_bad_file_naming_the_key(tmp_path: Path) -> None:
    bad = upstream_file_without_video_fps(tmp_path)
    with pytest.raises(UpstreamConfigError) as caught:
        create_app(settings_for_tests(jimeng_upstream_config=str(bad)))
    assert str(caught.value) == f"{bad}: missing key video.fps"
