"""get_history_by_ids: poll bodies and reading records (protocol section 11)."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.errors import ContentFilteredError
from app.domain.generation import failed_generation_error
from app.domain.models import Snapshot
from app.jimeng.records import (
    RecordView,
    history_body,
    image_info,
    read_record,
    read_records,
    status_phase,
)
from config.upstream import load_upstream

CONFIG = load_upstream()
IMG = "https://p3-sign.toutiaoimg.com/tos-cn-i-tb4s082cfz/a1.webp?x-expires=1759219200&x-signature=abc"
COVER = "https://p3-sign.toutiaoimg.com/tos-cn-i-tb4s082cfz/a1~tplv-cover.webp"
VIDEO = "https://v3-artist.vlabvod.com/0123abcd/video/tos/cn/example.mp4?a=4066&br=1152"
SCENES_12 = [
    ("smart_crop", 360, 360, "smart_crop-w:360-h:360"),
    ("smart_crop", 480, 480, "smart_crop-w:480-h:480"),
    ("smart_crop", 720, 720, "smart_crop-w:720-h:720"),
    ("smart_crop", 720, 480, "smart_crop-w:720-h:480"),
    ("smart_crop", 360, 240, "smart_crop-w:360-h:240"),
    ("smart_crop", 240, 320, "smart_crop-w:240-h:320"),
    ("smart_crop", 480, 640, "smart_crop-w:480-h:640"),
    ("normal", 2400, 2400, "2400"),
    ("normal", 1080, 1080, "1080"),
    ("normal", 720, 720, "720"),
    ("normal", 480, 480, "480"),
    ("normal", 360, 360, "360"),
]


def scene_rows(info: dict[str, Any]) -> list[tuple[str, int, int, str]]:
    rows = [(s["scene"], s["width"], s["height"], s["uniq_key"]) for s in info["image_scene_list"]]
    assert all(
        s["format"] == "webp" and list(s) == ["scene", "width", "height", "uniq_key", "format"]
        for s in info["image_scene_list"]
    )
    return rows


# --- request bodies (11.1, 11.8) -----------------------------------------------------------------------------


def test_image_info_asks_for_webp_at_2048_with_the_12_scenes_in_order() -> None:
    info = image_info(CONFIG)
    assert {k: info[k] for k in ("width", "height", "format")} == {"width": 2048, "height": 2048, "format": "webp"}
    assert scene_rows(info) == SCENES_12


def test_poll_bodies_carry_the_12_scene_image_info_and_aid() -> None:
    body = history_body(["4721606420748"], config=CONFIG)
    assert list(body) == ["history_ids", "image_info", "http_common_info"]
    assert body["history_ids"] == ["4721606420748"]
    assert body["http_common_info"] == {"aid": 513695}
    assert scene_rows(body["image_info"]) == SCENES_12


def test_poll_bodies_can_also_look_up_submit_ids() -> None:
    body = history_body(["1", "2", "3"], config=CONFIG, submit_ids=["s-1", "s-2"])
    assert list(body) == ["history_ids", "submit_ids", "image_info", "http_common_info"]
    assert (body["history_ids"], body["submit_ids"]) == (["1", "2", "3"], ["s-1", "s-2"])


def test_poll_bodies_leave_submit_ids_out_when_not_asked() -> None:
    assert "submit_ids" not in history_body(("1",), config=CONFIG)


# --- reading records (11.2 - 11.5) ---------------------------------------------------------------------------


def test_reading_the_protocol_example_record() -> None:
    record = {
        "status": 50,
        "fail_code": "",
        "item_list": [
            {"image": {"large_images": [{"image_url": IMG, "width": 2048}]}, "common_attr": {"cover_url": COVER}}
        ],
        "task": {"finish_time": 1759132850},
        "total_image_count": 4,
        "finished_image_count": 4,
        "history_record_id": "4721606420748",
    }
    assert read_record(record) == RecordView(
        status=50, fail_code="", finished=4, total=4, image_urls=(IMG,), history_record_id="4721606420748"
    )


@pytest.mark.parametrize(
    ("item", "url"),
    [
        (
            {
                "image": {"large_images": [{"image_url": "L"}]},
                "common_attr": {"cover_url": "C"},
                "image_url": "I",
                "url": "U",
            },
            "L",
        ),
        ({"image": {"large_images": [{"image_url": ""}]}, "common_attr": {"cover_url": "C"}, "url": "U"}, "C"),
        ({"image": {"large_images": []}, "image_url": "I", "url": "U"}, "I"),
        ({"image": None, "common_attr": {"cover_url": None}, "url": "U"}, "U"),
        ({"image": {"large_images": [{"image_url": "https://x/a?b=1\\u0026c=2"}]}}, "https://x/a?b=1&c=2"),
        ({"url": "  https://x/a  "}, "https://x/a"),
    ],
)
def test_image_url_is_the_first_non_empty_source_in_protocol_order(item: dict[str, Any], url: str) -> None:
    assert read_record({"item_list": [item]}).image_urls == (url,)


def test_items_without_any_url_are_dropped_and_the_order_is_kept() -> None:
    items = [{"url": "1"}, {"image": {}}, {"url": 7}, "junk", None, {"common_attr": {"cover_url": "2"}}, {"url": "3"}]
    assert read_record({"item_list": items}).image_urls == ("1", "2", "3")


@pytest.mark.parametrize(
    ("item", "url"),
    [
        ({"video": {"transcoded_video": {"origin": {"video_url": VIDEO}}}}, VIDEO),
        (
            {
                "common_attr": {"transcoded_video": {"origin": {"video_url": "A"}}},
                "video": {"transcoded_video": {"origin": {"video_url": "B"}}, "play_url": "C"},
            },
            "A",
        ),
        ({"video": {"play_url": "P", "download_url": "D", "url": "U"}}, "P"),
        ({"video": {"download_url": "D", "url": "U"}}, "D"),
        ({"video": {"url": "https://cdn.example.com/v.mp4"}}, "https://cdn.example.com/v.mp4"),
        ({"video": {"transcoded_video": {"origin": {}}}}, ""),
        ({"video": "not an object"}, ""),
    ],
)
def test_video_url_is_read_from_the_first_item_on_any_host(item: dict[str, Any], url: str) -> None:
    assert read_record({"status": 50, "item_list": [item]}).video_url == url


def test_video_url_comes_from_the_first_item_only() -> None:
    record = {"item_list": [{"video": {}}, {"video": {"url": "second"}}]}
    assert read_record(record).video_url == ""


@pytest.mark.parametrize(
    "record",
    [None, "text", 42, [], {}, {"status": None}, {"status": "x", "item_list": "nope"}, {"item_list": [None]}],
)
def test_a_malformed_record_reads_as_empty_values_and_never_raises(record: Any) -> None:
    view = read_record(record)
    assert view.image_urls == ()
    assert view.video_url == ""
    assert view.fail_code == ""
    assert view.phase == "running"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("status", "50", 50),
        ("status", 45.0, 45),
        ("status", True, 0),
        ("status", 42.5, 0),
        ("finished_image_count", "3", 3),
        ("total_image_count", None, 0),
        ("total_image_count", [4], 0),
    ],
)
def test_integer_fields_tolerate_strings_and_ignore_nonsense(field: str, value: Any, expected: int) -> None:
    view = read_record({field: value})
    assert {"status": view.status, "finished_image_count": view.finished, "total_image_count": view.total}[
        field
    ] == expected


@pytest.mark.parametrize(("value", "expected"), [("2038", "2038"), (2038, "2038"), (None, ""), ({}, ""), ("", "")])
def test_fail_code_is_read_as_a_string(value: Any, expected: str) -> None:
    assert read_record({"status": 30, "fail_code": value}).fail_code == expected


def test_read_records_reads_a_keyed_data_object() -> None:
    data = {"111": {"status": 20}, "sub-1": {"status": 50, "history_record_id": "111"}, "222": "junk"}
    views = read_records(data)
    assert views["111"].phase == "queued"
    assert views["sub-1"].history_record_id == "111"
    assert views["222"] == RecordView()


@pytest.mark.parametrize("data", [None, [], "x", 0])
def test_read_records_of_a_non_object_is_empty(data: Any) -> None:
    assert read_records(data) == {}


# --- phases and moderation (11.3, 11.4) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (20, "queued"),
        (42, "running"),
        (45, "running"),
        (50, "succeeded"),
        (10, "succeeded"),
        (30, "failed"),
        (0, "running"),
        (99, "running"),
        (-1, "running"),
    ],
)
def test_status_phase_table(status: int, expected: str) -> None:
    assert status_phase(status) == expected


@pytest.mark.parametrize(
    ("fail_code", "expected"),
    [("2038", True), (2038, True), ("2039", False), ("", False), (None, False), (" 2038", False)],
)
def test_content_filtered_compares_the_fail_code_as_a_string(fail_code: Any, expected: bool) -> None:
    view = read_record({"status": 30, "fail_code": fail_code})
    snapshot = Snapshot(history_id="1", phase=view.phase, status=view.status, fail_code=view.fail_code)
    assert isinstance(failed_generation_error("1", snapshot), ContentFilteredError) is expected
