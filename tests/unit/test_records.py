"""get_history_by_ids, get_history_queue_info, get_local_item_list: bodies and reading (protocol 2026 §5)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from app.domain.models import Phase
from app.jimeng.records import (
    QueueView,
    RecordView,
    hd_video_url,
    history_body,
    queue_body,
    read_queues,
    read_record,
    read_records,
    submitted_view,
)

IMG = "https://p3-dreamina-sign.byteimg.com/tos-cn-i-tb4s082cfz/a1~tplv-x.png?x-expires=1759219200&x-signature=abc"
COVER = "https://p3-dreamina-sign.byteimg.com/tos-cn-i-tb4s082cfz/a1~tplv-cover.webp"
VIDEO = "https://v3-artist.vlabvod.com/0123abcd/video/tos/cn/example.mp4?a=4066&br=1152"


# --- request bodies (5.4, 5.5) -------------------------------------------------------------------------------


def test_a_poll_asks_by_submit_ids_only_as_the_web_app_does() -> None:
    assert history_body(submit_ids=["s-1", "s-2", "s-1"]) == {"submit_ids": ["s-1", "s-2"]}


def test_a_look_up_asks_by_both_kinds_of_id() -> None:
    assert history_body(submit_ids=["x"], history_ids=["x"]) == {"submit_ids": ["x"], "history_ids": ["x"]}


def test_the_queue_call_asks_by_history_ids_without_duplicates() -> None:
    assert queue_body(["1", "2", "1"]) == {"history_ids": ["1", "2"]}


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


def test_reading_a_2026_record_with_task_status_queue_forecast_and_the_executed_count() -> None:
    record = {
        "history_record_id": "25594898552322",
        "submit_id": "19637d71-15df-445e-b86d-490f3549cb85",
        "created_time": 1757737934.403,
        "task": {"task_id": "25594898552322", "status": 42},
        "status": 20,
        "forecast_generate_cost": 23,
        "forecast_queue_cost": 4,
        "queue_info": {"queue_idx": 2, "priority": 3, "queue_status": 2, "queue_length": 12},
        "fail_starling_message": "",
        "draft_content": '{"component_list":[{"abilities":{"gen_option":{"gen_count":2}}}]}',
        "item_list": [],
    }
    view = read_record(record)
    assert (view.status, view.phase, view.submit_id, view.executed_count) == (
        42, Phase.RUNNING, "19637d71-15df-445e-b86d-490f3549cb85", None,
    )  # fmt: skip
    assert read_record({**record, "task": {"status": 50}}).executed_count == 2  # read once it may be finished
    assert view.created_time == 1757737934.403
    assert view.queue == QueueView(position=2, length=12, forecast_queue=4.0, forecast_generate=23.0)


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
            "B",  # 2026 (5.6): the item's own video first
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
    assert view.queue == QueueView()


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("status", "50", 50),
        ("status", 45.0, 45),
        ("status", True, -1),  # not a status: unknown, still working
        ("status", 42.5, -1),
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


# --- phases (5.2) -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (0, "queued"),
        (20, "queued"),
        (42, "running"),
        (45, "running"),
        (50, "succeeded"),
        (10, "failed"),
        (30, "failed"),
        (40, "failed"),
        (100, "failed"),
        (-1, "running"),
        (21, "running"),
        (99, "running"),
    ],
)
def test_status_phase_table(status: int, expected: str) -> None:
    assert read_record({"status": status}).phase == expected


def test_status_10_with_usable_items_is_a_success() -> None:
    record = {"status": 10, "item_list": [{"image": {"large_images": [{"image_url": IMG}]}}]}
    assert read_record(record).phase == "succeeded"


def test_the_task_status_wins_over_the_record_status() -> None:
    assert read_record({"status": 20, "task": {"status": 50}}).status == 50
    assert read_record({"status": 30, "task": {"status": "x"}}).status == 30


# --- submit answers, queue answers and watermark-free videos (5.1, 5.5, 5.6) ---------------------------------


def test_a_submit_answer_gives_the_history_id_and_the_forecast_inside_or_outside_aigc_data() -> None:
    aigc = {"history_record_id": "25594898552322", "forecast_generate_cost": 23, "forecast_queue_cost": 0,
            "queue_info": {"queue_idx": 0, "queue_length": 0}}  # fmt: skip
    for data in ({"aigc_data": aigc}, aigc):
        history_id, queue = submitted_view(data)
        assert (history_id, queue.forecast_generate, queue.forecast_queue) == ("25594898552322", 23.0, 0.0)
    assert submitted_view(None) == ("", QueueView())


def test_a_queue_answer_reads_position_and_forecast_per_history_id() -> None:
    data = {"39148697060354": {"status": 0, "queue_info": {"queue_idx": 3, "queue_length": 9},
                               "forecast_cost_time": {"forecast_generate_cost": 9, "forecast_queue_cost": 30}}}  # fmt: skip
    assert read_queues(data) == {"39148697060354": QueueView(position=3, length=9, forecast_queue=30.0,
                                                             forecast_generate=9.0)}  # fmt: skip
    assert read_queues("junk") == {}


def _local_items(video_list: Any) -> dict[str, Any]:
    return {"item_list": [{"video": {"video_model": json.dumps({"video_list": video_list})}}]}


def test_the_watermark_free_video_is_the_tallest_base64_main_url() -> None:
    def entry(height: int, url: str) -> dict[str, Any]:
        return {"vheight": height, "main_url": base64.b64encode(url.encode()).decode()}

    data = _local_items({"video_1": entry(720, "https://v/720.mp4"), "video_2": entry(1080, "https://v/1080.mp4")})
    assert hd_video_url(data) == "https://v/1080.mp4"


@pytest.mark.parametrize(
    "data",
    [None, {}, {"item_list": []}, {"item_list": [{"video": {"video_model": "not json"}}]},
     _local_items({"video_1": {"vheight": 720, "main_url": "%%%"}}), _local_items("x")],
)  # fmt: skip
def test_a_missing_or_malformed_local_item_answer_gives_no_url(data: Any) -> None:
    assert hd_video_url(data) == ""
