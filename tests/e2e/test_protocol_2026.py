"""Today's Jimeng, end to end against the strict emulator: real image counts, the status enum, queue places
and forecasts, retired models, and the live model tables with their fallback."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import Api, assert_error
from tests.e2e.test_chat import chat, read_stream

IMAGES = "/v1/images/generations"
VIDEOS = "/v1/videos/generations"
GENERATION_PATHS = ("/mweb/v1/aigc_draft/generate", "/mweb/v1/get_upload_token", "/mweb/v1/get_history_by_ids")


def calls(api: Api) -> dict[str, int]:
    return dict(api.stats()["requests"]["by_path"])


@pytest.mark.parametrize(("n", "parts"), [(1, 1), (2, 1), (3, 1), (4, 1), (6, 2), (10, 3)])
def test_n_makes_and_returns_exactly_n_images(api: Api, n: int, parts: int) -> None:
    response = api.post(IMAGES, {"model": "jimeng-4.0", "prompt": f"foxes {n}", "n": n})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["data"]) == n
    generations = api.generations()
    assert len(generations) == parts  # n above 4 is split into jobs of at most 4, on one session
    assert sum(g["images_made"] for g in generations.values()) == n  # made (and billed) upstream: exactly n
    assert sorted(body.get("history_ids", [body["history_id"]])) == sorted(generations)
    assert len({url for url in (item["url"] for item in body["data"])}) == n


def test_absent_n_is_the_model_s_default_count(api: Api) -> None:
    body = api.post(IMAGES, {"model": "jimeng-5.0-pro", "prompt": "a lighthouse"}).json()
    assert len(body["data"]) == 2  # jimeng-5.0-pro makes 2 by default
    assert api.stats()["images_made"] == 2


@pytest.mark.parametrize("status", ["10", "40"])
def test_refused_by_moderation_before_or_after_is_400_content_filtered_with_the_history_id(
    api: Api, status: str
) -> None:
    error = assert_error(api.post(IMAGES, {"prompt": f"a cat [status={status}]"}), 400, "content_filtered")
    assert error["history_id"] in api.generations()


def test_a_deleted_record_is_404_on_the_tasks_endpoint(api: Api) -> None:
    task = api.post(IMAGES, {"prompt": "a cat [status=100] [gen=300ms]", "async": True}).json()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        response = api.get(f"/v1/tasks/{task['id']}")
        if response.status_code != 200:
            break
        time.sleep(0.1)
    assert_error(response, 404, "not_found")


def test_items_that_arrive_late_at_status_45_still_end_in_the_images(api: Api) -> None:
    body = api.post(IMAGES, {"prompt": "a cat [stall45] [gen=800ms]", "n": 2}).json()
    assert len(body["data"]) == 2


@pytest.mark.parametrize("model", ["jimeng-video-3.0", "jimeng-video-2.0", "jimeng-video-2.0-pro"])
def test_retired_video_models_are_400_model_unavailable_before_any_upstream_call(api: Api, model: str) -> None:
    error = assert_error(api.post(VIDEOS, {"model": model, "prompt": "waves"}), 400, "model_unavailable")
    assert error["param"] == "model" and "jimeng-video-" in error["message"]  # names the replacement
    assert api.stats()["requests"]["total"] == 0


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        (IMAGES, {"prompt": "x", "model": "jimeng-9.9"}, "model"),
        (IMAGES, {"prompt": "x", "model": "jimeng-5.0-flash", "resolution": "4k"}, "resolution"),  # not offered
        (IMAGES, {"prompt": "x", "n": 11}, "n"),
        (IMAGES, {"prompt": "x", "n": 0}, "n"),
        (VIDEOS, {"prompt": "x", "model": "jimeng-video-seedance-2.0-fast", "duration": 30}, "duration"),
        (VIDEOS, {"prompt": "x", "model": "jimeng-video-seedance-1.0-pro", "duration": 7}, "duration"),
    ],
)
def test_bad_input_is_400_before_any_upstream_call(api: Api, path: str, body: dict[str, Any], param: str) -> None:
    response = api.post(path, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["param"], error["type"]) == (param, "invalid_request_error")
    assert api.stats()["requests"]["total"] == 0


def test_a_tier_the_model_does_not_offer_names_the_ones_it_does(api: Api) -> None:
    error = api.post(IMAGES, {"prompt": "x", "model": "jimeng-5.0-flash", "resolution": "4k"}).json()["error"]
    assert "1.5k" in error["message"] and "2k" in error["message"]


def test_a_streamed_chat_shows_its_queue_place_and_eta(api: Api) -> None:
    stream = read_stream(api, chat("a harbour [queue=1500ms] [qpos=3] [gen=1200ms]", stream=True))
    assert re.search(r"^Queued at Jimeng: [1-4] of \d+, about \d+ s…$", stream.reasoning, re.MULTILINE), (
        stream.reasoning
    )
    assert re.search(r"(Generating|images ready), about \d+ s left…$", stream.reasoning, re.MULTILINE), stream.reasoning
    assert stream.data[-1] == "[DONE]"


def test_a_queued_task_shows_its_place_length_and_eta(api: Api) -> None:
    task = api.post(IMAGES, {"prompt": "a harbour [queue=3s] [qpos=5] [gen=1s]", "async": True}).json()
    state = api.get(f"/v1/tasks/{task['id']}").json()
    assert state["status"] == "queued", state
    assert 1 <= state["queue_position"] <= 6 and state["queue_length"] >= 1
    assert isinstance(state["eta_seconds"], int) and state["eta_seconds"] > 0


def test_models_are_the_live_tables_of_the_account(start_api: Callable[..., Api]) -> None:
    api = start_api()
    body = api.get("/v1/models").json()
    assert calls(api)["/mweb/v1/get_common_config"] == 1
    assert calls(api)["/mweb/v1/video_generate/get_common_config"] >= 1
    assert all(model["live"] for model in body["data"])
    ids = {model["id"] for model in body["data"]}
    assert {"jimeng-5.0-pro", "jimeng-video-seedance-2.5"} <= ids
    five = next(model for model in body["data"] if model["id"] == "jimeng-5.0-pro")
    assert five["capabilities"]["count_options"] == [1, 2, 3, 4]


@pytest.mark.parametrize("failure", ["http_500", "empty", "1000"])
def test_models_still_answer_from_upstream_yml_when_the_live_call_fails(
    start_api: Callable[..., Api], failure: str
) -> None:
    api = start_api()
    api.emulator.configure(image_config_failure=failure, video_config_failure=failure)
    response = api.get("/v1/models")
    assert response.status_code == 200
    models = response.json()["data"]
    assert models and not any(model["live"] for model in models)
    assert {"jimeng-5.0", "jimeng-video-seedance-2.0-fast"} <= {model["id"] for model in models}
