"""Reading Jimeng's model tables (get_common_config, protocol §7) into ImageModel / VideoModel."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from loguru import logger

from app.domain.catalog import ImageSize
from app.domain.errors import SessionExpiredError, UpstreamBadRequestError, UpstreamUnavailableError
from app.jimeng.catalog import (
    VIDEO_BODIES,
    DurationReading,
    TableReading,
    first_video_answer,
    read_image_models,
    read_video_models,
)
from app.jimeng.client import JimengClient
from tests.config_answers import IMAGE_ANSWER, VIDEO_ANSWER
from tests.fake_http import FakeHttp, client_on


def image_data() -> dict[str, Any]:
    return copy.deepcopy(IMAGE_ANSWER["data"])


def video_data() -> dict[str, Any]:
    return copy.deepcopy(VIDEO_ANSWER["data"])


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    seen: list[str] = []
    sink = logger.add(lambda message: seen.append(message.record["message"]), level="WARNING")
    yield seen
    logger.remove(sink)


# -- images -----------------------------------------------------------------------------------------------


def test_the_image_example_of_the_document() -> None:
    live = read_image_models(IMAGE_ANSWER["data"])
    pro, flash = live.models
    assert live.default_key == "high_aes_general_v50p_large"
    assert (pro.key, pro.id, pro.live) == ("high_aes_general_v50p_large", "jimeng-high_aes_general_v50p_large", True)
    assert pro.description == "图片 5.0 Pro: 商业设计、影视、高密度图文等场景效果全面提升"
    assert tuple(pro.tiers) == ("1.5k", "2k", "4k")
    assert dict(pro.tiers["2k"]) == {"1:1": ImageSize(2048, 2048, 1), "16:9": ImageSize(2560, 1440, 3)}
    assert dict(pro.tiers["4k"]) == {"1:1": ImageSize(4096, 4096, 1), "16:9": ImageSize(5404, 3040, 3)}
    assert (pro.count_options, pro.default_count, pro.default_tier) == ((1, 2, 3, 4), 2, "2k")
    assert (pro.blend, pro.max_input_images) == (True, 10)
    assert pro.ratios == ("1:1", "16:9")
    assert (tuple(flash.tiers), flash.default_count, flash.max_input_images) == (("2k",), 4, 10)


def test_every_ratio_code_of_the_size_table() -> None:
    data = image_data()
    rows = [{"ratio_type": code, "width": 100 + code, "height": 200} for code in range(1, 9)]
    data["model_list"][0]["resolution_map"] = {"1k": {"image_ratio_sizes": rows}}
    (model, _) = read_image_models(data).models
    assert list(model.tiers["1k"]) == ["1:1", "3:4", "16:9", "4:3", "9:16", "2:3", "3:2", "21:9"]
    assert [size.code for size in model.tiers["1k"].values()] == list(range(1, 9))


def test_image_defaults_when_the_answer_is_silent() -> None:
    data = image_data()
    lite = data["model_list"][1]
    lite.update(
        default_resolution_type=None, resolution_map={**lite["resolution_map"], "4k": lite["resolution_map"]["2k"]}
    )
    del lite["default_generate_count"], lite["input_image_limit"]
    data["model_list"][0].update(generate_count_options=[], default_generate_count=None, default_resolution_type="8k")
    pro, flash = read_image_models(data).models
    assert (flash.default_tier, flash.default_count) == ("2k", 4)
    assert (flash.blend, flash.max_input_images) == (True, 0)  # the merge takes the limit from upstream.yml
    assert (pro.count_options, pro.default_count, pro.default_tier) == ((), 4, "2k")


def test_only_text_to_image_models_are_read_and_feats_decide_blend() -> None:
    data = image_data()
    data["model_list"][0]["feats"] = ["byte_edit"]  # an editing tool, not a text-to-image model
    del data["model_list"][1]["feats"]  # no feats at all: offered, without blend
    (flash,) = read_image_models(data).models
    assert (flash.key, flash.blend, flash.max_input_images) == ("high_aes_general_v50_flash", False, 0)
    assert read_image_models(data).default_key is None  # the default entry was not kept
    everything = read_image_models(data, TableReading(require_t2i=False)).models
    assert [m.key for m in everything] == ["high_aes_general_v50p_large", "high_aes_general_v50_flash"]


def test_malformed_image_entries_are_skipped_and_logged_once(warnings: list[str]) -> None:
    probe = f"probe_{uuid.uuid4().hex}"
    data = image_data()
    data["model_list"][1:1] = [
        "not an object",
        {"model_name": "no key"},
        {"model_req_key": probe, "feats": ["t2i"], "resolution_map": {"2k": {"image_ratio_sizes": [
            {"ratio_type": 9, "width": 1, "height": 1}, {"ratio_type": True, "width": 1, "height": 1},
            {"ratio_type": 1, "width": "wide", "height": 1}, {"ratio_type": 1, "width": 0, "height": 1}]}}},
    ]  # fmt: skip
    data["model_list"][0]["resolution_map"]["2k"]["image_ratio_sizes"].append({"ratio_type": 99})
    for _ in range(3):
        live = read_image_models(data)
        assert [m.key for m in live.models] == ["high_aes_general_v50p_large", "high_aes_general_v50_flash"]
    mine = [w for w in warnings if probe in w]
    assert len(mine) == 5 and len(set(mine)) == 5  # 4 bad rows and the model without a tier, each once
    assert sum("ratio_type': 99" in w for w in warnings) <= 1


@pytest.mark.parametrize(
    "data",
    [None, [], "x", {}, {"model_list": None}, {"model_list": {"a": 1}}, {"model_list": [], "default_model_index": 3}],
)
def test_an_unusable_answer_reads_as_no_models(data: Any) -> None:
    assert read_image_models(data).models == () and read_video_models(data).models == ()


def test_duplicate_keys_are_read_once_and_a_default_index_out_of_range_is_ignored() -> None:
    data = image_data()
    data["model_list"].append(data["model_list"][0])
    data["default_model_index"] = 7
    live = read_image_models(data)
    assert [m.key for m in live.models] == ["high_aes_general_v50p_large", "high_aes_general_v50_flash"]
    assert live.default_key is None


# -- videos -----------------------------------------------------------------------------------------------


def test_the_video_example_of_the_document() -> None:
    live = read_video_models(VIDEO_ANSWER["data"])
    full, draft = live.models
    assert live.default_key == "dreamina_seedance_45_pro"
    assert (full.resolutions, full.default_resolution) == (("480p", "720p", "1080p"), "720p")
    assert (full.ratios, full.default_ratio) == (("21:9", "16:9", "4:3", "1:1", "3:4", "9:16"), "16:9")
    assert (full.durations, full.default_duration) == ((4, 5, 6, 7, 8), 5)
    assert full.frames == ("first_frame", "end_frame")
    assert dict(full.benefits) == {
        "480p": "seedance_25_480p_output",
        "720p": "seedance_25_720p_output",
        "1080p": "seedance_25_1080p_output",
    }
    assert (full.draft_mode, full.live, full.description.startswith("即梦 Seedance 2.5: ")) == (False, True, True)
    assert (draft.resolutions, draft.default_resolution, draft.draft_mode) == (("480p",), "480p", True)
    assert (draft.ratios, draft.durations, draft.frames) == ((), (), ())  # not said: the merge fills from the file
    assert dict(draft.benefits) == {"480p": "seedance_25_draft_480p_output"}


def test_unavailable_video_models_are_not_read() -> None:
    data = video_data()
    data["model_list"][0]["model_status"] = 1
    del data["model_list"][1]["model_status"]
    assert read_video_models(data).models == ()
    assert read_video_models(data).default_key is None


def third_party_model() -> dict[str, Any]:
    """MiniMax H3 as §4.1 describes it: duration_ms instead of frames, resolutions in upper case."""
    return {
        "model_req_key": "dreamina_minimax_h3",
        "model_name": "MiniMax H3",
        "model_status": 0,
        "options": [
            {"key": "resolution", "enum_val": {"string_value": ["768P", "2K"], "default_val_idx": 0}},
            {"key": "duration_ms", "enum_val": {"int_value": [4000, 6000, 10000, 15000], "default_val_idx": 0}},
            {"key": "input_media_type", "enum_val": {"string_value": ["prompt", "first_frame"]}},
        ],
        "commercial_config": {
            "resolution_price_configs": [{"resolution": "2K", "price": {"benefit_type": "minimax_h3_2k_output"}}],
            "default": {"benefit_type": "minimax_h3_768p_output"},
        },
    }


def test_durations_from_duration_ms_resolutions_in_lower_case_and_the_default_benefit() -> None:
    (model,) = read_video_models({"model_list": [third_party_model()]}).models
    assert (model.resolutions, model.default_resolution) == (("768p", "2k"), "768p")
    assert (model.durations, model.default_duration) == ((4, 6, 10, 15), 4)
    assert model.frames == ("first_frame",)
    assert dict(model.benefits) == {"768p": "minimax_h3_768p_output", "2k": "minimax_h3_2k_output"}


def test_durations_read_as_a_range_when_configured() -> None:
    reading = TableReading(durations=DurationReading.RANGE)
    (model,) = read_video_models({"model_list": [third_party_model()]}, reading).models
    assert model.durations == tuple(range(4, 16))
    full, _ = read_video_models(VIDEO_ANSWER["data"], reading).models
    assert full.durations == (4, 5, 6, 7, 8)


def test_frames_that_are_not_whole_seconds_are_left_out_and_another_fps_is_honoured() -> None:
    data = video_data()
    options = data["model_list"][0]["options"]
    options[2]["enum_val"] = {"int_value": [100, 120, 240, "x"], "default_val_idx": 0}
    (full, _) = read_video_models(data).models
    assert (full.durations, full.default_duration) == ((5, 10), 5)
    options[3]["enum_val"]["int_value"] = [30]
    options[2]["enum_val"] = {"int_value": [120, 150], "default_val_idx": 1}
    (full, _) = read_video_models(data).models
    assert (full.durations, full.default_duration) == ((4, 5), 5)


def test_malformed_video_entries_are_skipped(warnings: list[str]) -> None:
    probe = f"probe_{uuid.uuid4().hex}"
    data = video_data()
    data["model_list"][:0] = [
        7,
        {"model_status": 0},
        {"model_req_key": probe, "model_status": 0, "options": "none"},
        {"model_req_key": probe + "_2", "model_status": "0", "options": [{"key": "resolution"}]},
    ]
    assert [m.key for m in read_video_models(data).models] == [
        "dreamina_seedance_45_pro",
        "dreamina_seedance_45_pro_draft",
    ]
    read_video_models(data)
    assert len([w for w in warnings if probe in w]) == 2


# -- the calls --------------------------------------------------------------------------------------------


def test_video_body_forms_are_tried_in_the_documents_order_until_one_lists_models() -> None:
    sent: list[Any] = []
    answers: list[Any] = [UpstreamBadRequestError("no", ret="1000"), {"model_list": []}, video_data()]

    def read(body: Any) -> Any:
        sent.append(body)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    data = first_video_answer(read, TableReading())
    assert data["model_list"][0]["model_req_key"] == "dreamina_seedance_45_pro"
    assert sent == [dict(body) for body in VIDEO_BODIES[:3]]
    assert sent[0] == {"scene": "video_generate", "params": {}}


@pytest.mark.parametrize(
    "error",
    [SessionExpiredError("expired", ret="1015"), UpstreamUnavailableError("lost"), UpstreamBadRequestError("x")],
)
def test_errors_another_body_cannot_help_are_raised_at_once(error: Exception) -> None:
    sent: list[Any] = []

    def read(body: Any) -> Any:
        sent.append(body)
        raise error

    with pytest.raises(type(error)):
        first_video_answer(read, TableReading())
    assert len(sent) == 1


def test_when_every_body_form_is_refused_the_last_refusal_is_raised() -> None:
    def read(body: Any) -> Any:
        raise UpstreamBadRequestError(f"refused {body}", ret="1000")

    with pytest.raises(UpstreamBadRequestError, match=r"refused \{\}$"):
        first_video_answer(read, TableReading())
    assert first_video_answer(lambda body: {"model_list": []}, TableReading()) == {"model_list": []}


def client(script: list[Any]) -> tuple[JimengClient, FakeHttp]:
    return client_on(script)


def test_the_client_reads_both_lists_with_its_signed_envelope_calls() -> None:
    refused = {"ret": "1000", "errmsg": "invalid parameter", "data": None}
    jimeng, http = client([IMAGE_ANSWER, refused, VIDEO_ANSWER])
    images = jimeng.image_models("session-1")
    videos = jimeng.video_models("session-1")
    assert [m.key for m in images.models] == ["high_aes_general_v50p_large", "high_aes_general_v50_flash"]
    assert [m.key for m in videos.models] == ["dreamina_seedance_45_pro", "dreamina_seedance_45_pro_draft"]
    assert [(c["method"], c["url"], c["json"]) for c in http.calls] == [
        ("POST", "https://jimeng.example/mweb/v1/get_common_config", {}),
        ("POST", "https://jimeng.example/mweb/v1/video_generate/get_common_config", VIDEO_BODIES[0]),
        ("POST", "https://jimeng.example/mweb/v1/video_generate/get_common_config", VIDEO_BODIES[1]),
    ]
    assert all("sessionid=session-1" in c["headers"]["Cookie"] for c in http.calls)
    assert all("Sign" in c["headers"] for c in http.calls)


def test_the_client_raises_what_jimeng_refused() -> None:
    jimeng, _ = client([{"ret": "1015", "errmsg": "login error", "data": None}])
    with pytest.raises(SessionExpiredError):
        jimeng.image_models("session-1")
