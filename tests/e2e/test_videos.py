"""POST /v1/videos/generations against the emulator: text and frame videos, mapping, errors, deadline, async."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.conftest import Api, assert_error, data_uri, png_bytes

VIDEOS = "/v1/videos/generations"
VIDEO_POLLING = {"poll_max_late_seconds_video": 0.2, "poll_max_seconds": 0.2}


@pytest.fixture
def api(start_api: Callable[..., Api]) -> Api:
    """Video jobs are looked at early and often, so a short emulated video answers in well under a second."""
    return start_api(**VIDEO_POLLING)


def is_mp4(data: bytes) -> bool:
    """An ISO BMFF file starts with a box whose type is ``ftyp``."""
    return len(data) > 8 and data[4:8] == b"ftyp"


def video_size(api: Api, history_id: str) -> tuple[int, int]:
    """The size the emulator derived from the draft's ratio and resolution."""
    generation = api.emulator.state.generations[history_id]
    return generation.width, generation.height


def test_text_to_video_returns_a_fetchable_mp4_on_a_plain_host_and_its_history_id(api: Api) -> None:
    response = api.post(VIDEOS, {"prompt": "waves at dusk [gen=300ms]", "model": "jimeng-video-seedance-2.0-fast"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["created"], int)
    history_id = body["history_id"]
    assert api.generations()[history_id]["kind"] == "video"
    assert api.generations()[history_id]["image_uris"] == []
    [item] = body["data"]
    assert item["revised_prompt"] == "waves at dusk [gen=300ms]"
    assert urlsplit(item["url"]).hostname == "127.0.0.1"  # not the one CDN host the reference recognises
    with requests.get(item["url"], timeout=5) as video:
        assert video.status_code == 200
        assert is_mp4(video.content)
    assert video_size(api, history_id) == (1280, 720)  # defaults: 16:9, 720p
    assert api.submits() == 1


@pytest.mark.parametrize(
    "model",
    [
        "jimeng-video-seedance-2.5",
        "jimeng-video-seedance-2.5-draft",
        "jimeng-video-seedance-2.0",
        "jimeng-video-seedance-2.0-fast",
        "jimeng-video-seedance-2.0-mini",
        "jimeng-video-seedance-2.0-fast-vip",
        "jimeng-video-seedance-2.0-vip",
        "jimeng-video-seedance-1.5-pro",
        "jimeng-video-seedance-1.0-pro",
        "jimeng-video-seedance-1.0-fast",
        "jimeng-video-minimax-h3",
        "jimeng-video-happyhorse-1.1",
        "jimeng-video-wan-3.0",
    ],
)
def test_every_video_model_makes_a_video(api: Api, model: str) -> None:
    response = api.post(VIDEOS, {"prompt": f"a fox [gen=300ms] {model}", "model": model})
    assert response.status_code == 200, response.text
    assert api.generations()[response.json()["history_id"]]["kind"] == "video"


def test_first_frame_video_carries_the_frame(api: Api) -> None:
    body = {"prompt": "the cat starts to walk [gen=300ms]", "images": [data_uri(png_bytes())], "ratio": "4:3"}
    response = api.post(VIDEOS, body)
    assert response.status_code == 200, response.text
    generation = api.generations()[response.json()["history_id"]]
    assert generation["kind"] == "video"
    assert len(generation["image_uris"]) == 1
    assert api.stats()["totals"]["uploads_committed"] == 1


@pytest.mark.parametrize("field", ["images", "file_paths", "filePaths"])
def test_first_and_last_frames_carry_both_images(api: Api, field: str) -> None:
    frames = [data_uri(png_bytes()), {"url": data_uri(png_bytes(6, 8))}]
    response = api.post(VIDEOS, {"prompt": "morph [gen=300ms]", field: frames})
    assert response.status_code == 200, response.text
    generation = api.generations()[response.json()["history_id"]]
    assert len(generation["image_uris"]) == 2


@pytest.mark.parametrize(
    ("width", "height", "size"),
    [(1920, 1080, (1280, 720)), (1080, 1920, (720, 1280)), (1024, 1024, (720, 720)), (2560, 1080, (1680, 720))],
)
def test_width_and_height_map_to_the_nearest_ratio(api: Api, width: int, height: int, size: tuple[int, int]) -> None:
    response = api.post(VIDEOS, {"prompt": "a fox [gen=300ms]", "width": width, "height": height})
    assert response.status_code == 200, response.text
    assert video_size(api, response.json()["history_id"]) == size


def test_resolution_and_duration_reach_the_draft(api: Api) -> None:
    body = {"prompt": "a fox [gen=300ms]", "model": "jimeng-video-seedance-2.5", "ratio": "9:16", "resolution": "1080p",
            "duration": 10}  # fmt: skip
    history_id = api.post(VIDEOS, body).json()["history_id"]
    assert video_size(api, history_id) == (1080, 1920)
    assert api.emulator.state.generations[history_id].duration_ms == 10000


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({}, "missing_field", "prompt"),
        ({"prompt": "  "}, "invalid_value", "prompt"),
        ({"prompt": "x", "ratio": "3:2"}, "invalid_value", "ratio"),
        ({"prompt": "x", "ratio": "wide"}, "invalid_value", "ratio"),
        ({"prompt": "x", "resolution": "4k"}, "invalid_value", "resolution"),
        ({"prompt": "x", "duration": 16}, "invalid_value", "duration"),
        ({"prompt": "x", "duration": "long"}, "invalid_value", "duration"),
        ({"prompt": "x", "width": 1024}, "invalid_value", "width"),
        ({"prompt": "x", "width": 0, "height": 10}, "invalid_value", "width"),
        ({"prompt": "x", "width": 1920, "height": 1080, "ratio": "9:16"}, "invalid_value", "ratio"),
        ({"prompt": "x", "response_format": "mp4"}, "invalid_value", "response_format"),
        ({"prompt": "x", "images": [data_uri(png_bytes())] * 3}, "too_many_images", "images"),
        ({"prompt": "x", "file_paths": [data_uri(png_bytes())] * 3}, "too_many_images", "images"),
        ({"prompt": "x", "images": [42]}, "invalid_value", "images[0]"),
        ({"prompt": "x", "images": [data_uri(b"not an image")]}, "unsupported_image", "images[0]"),
        ({"prompt": "x", "model": "jimeng-video-9"}, "model_not_found", "model"),
        ({"prompt": "x", "model": "jimeng-4.0"}, "model_not_found", "model"),
        ({"prompt": "x", "model": "jimeng-video-3.0"}, "model_unavailable", "model"),
    ],
)
def test_bad_input_is_400_with_the_field_and_nothing_is_submitted(
    api: Api, body: dict[str, object], code: str, param: str
) -> None:
    error = assert_error(api.post(VIDEOS, body), 400, code)
    assert error["param"] == param
    assert api.submits() == 0


def test_deadline_is_504_with_the_history_id(start_api: Callable[..., Api]) -> None:
    api = start_api(video_timeout_seconds=1, **VIDEO_POLLING)
    started = time.monotonic()
    error = assert_error(api.post(VIDEOS, {"prompt": "slow [gen=3s]"}), 504, "generation_timeout")
    assert time.monotonic() - started < 2.5
    assert error["history_id"] in api.generations()
    assert f"/v1/tasks/{error['history_id']}" in error["message"]


def test_async_answers_202_and_the_task_ends_with_the_video_url(api: Api) -> None:
    response = api.post(VIDEOS, {"prompt": "a fox [gen=600ms]", "async": True})
    assert response.status_code == 202, response.text
    task = response.json()
    assert (task["object"], task["status"], task["model"]) == (
        "generation.task",
        "queued",
        "jimeng-video-seedance-2.0-fast",
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = api.get(f"/v1/tasks/{task['id']}").json()
        if state["status"] == "succeeded":
            break
        time.sleep(0.1)
    assert state["status"] == "succeeded"
    [item] = state["data"]
    assert urlsplit(item["url"]).path == f"/media/{task['id']}/video.mp4"
    with requests.get(item["url"], timeout=5) as video:
        assert is_mp4(video.content)


def test_b64_json_carries_the_mp4_bytes(api: Api) -> None:
    response = api.post(VIDEOS, {"prompt": "a fox [gen=300ms]", "response_format": "b64_json"})
    assert response.status_code == 200, response.text
    [item] = response.json()["data"]
    assert "url" not in item
    assert is_mp4(base64.b64decode(item["b64_json"]))


def test_a_failed_video_is_502_with_its_history_id_after_one_submit(api: Api) -> None:
    error = assert_error(api.post(VIDEOS, {"prompt": "x [fail=1180] [gen=300ms]"}), 502, "generation_failed")
    assert "1180" in error["message"]
    assert error["history_id"] in api.generations()
    assert api.submits() == 1
