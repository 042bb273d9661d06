"""Where the results are (2026 notes 5.6, 5.7): image items and their URLs, ``get_image_by_uri``, video
items, the watermark-free ``get_local_item_list`` URL, the media variants and ``user_credit_history``:
checklist 29-32."""

from __future__ import annotations

import base64
import json
import struct
import time
from typing import Any

import pytest
import requests

from app.emulator import EmulatorServer
from tests.emulator.emulator_client import Wire, image_body, video_body

LOCAL = "/mweb/v1/get_local_item_list"
BY_URI = "/mweb/v1/get_image_by_uri"
CREDIT_HISTORY = "/commerce/v1/benefits/user_credit_history"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", data[16:24])


def _get(http: requests.Session, url: str) -> requests.Response:
    with http.get(url, timeout=5) as answer:
        return answer


@pytest.mark.parametrize(("size", "ratio", "res"), [((2048, 2048), 1, "2k"), ((2560, 1440), 3, "2k"),
                                                    ((3040, 5404), 5, "4k")])  # fmt: skip
def test_image_items_carry_clean_cover_and_watermarked_urls(
    wire: Wire, http: requests.Session, emulator: EmulatorServer, size: tuple[int, int], ratio: int, res: str
) -> None:
    record = wire.wait(wire.submit(image_body("a kitten [gen=100ms]", size=size, ratio=ratio, res=res, count=2)))
    for index, item in enumerate(record["item_list"]):
        large = item["image"]["large_images"][0]
        assert (large["width"], large["height"], large["format"]) == (*size, "png")
        assert "x-expires=" in large["image_url"] and large["image_uri"].startswith("tos-cn-i-")
        clean = _get(http, large["image_url"])
        assert clean.status_code == 200 and clean.headers["Content-Type"] == "image/png"
        width, height = _png_size(clean.content)
        assert max(width, height) == 64 and abs(width / height - size[0] / size[1]) < 0.05
        common = item["common_attr"]
        assert common["id"] == f"{record['history_record_id']}{index:02d}"
        assert set(common["cover_url_map"]) == {"360", "720"}
        assert _get(http, common["cover_url"]).status_code == 200
        marked = _get(http, common["item_urls"][0])
        assert marked.status_code == 200 and marked.content != clean.content
    media = emulator.stats()["media"]
    assert (media["image"], media["image_watermarked"], media["cover"]) == (2, 2, 2)


def test_a_share_of_image_urls_holds_a_literal_u0026(
    wire: Wire, http: requests.Session, emulator: EmulatorServer
) -> None:
    emulator.configure(url_u0026_share=1.0)
    record = wire.wait(wire.submit(image_body("x [gen=100ms]", count=1)))
    url = record["item_list"][0]["image"]["large_images"][0]["image_url"]
    assert "\\u0026" in url and "&" not in url
    assert _get(http, url).status_code == 403  # used as it is, the signature is lost
    assert _get(http, url.replace("\\u0026", "&")).status_code == 200


def test_get_image_by_uri_answers_fresh_urls_for_the_plural_form_only(wire: Wire, http: requests.Session) -> None:
    record = wire.wait(wire.submit(image_body("x [gen=100ms]", count=1)))
    uri = record["item_list"][0]["image"]["large_images"][0]["image_uri"]
    data = wire.ok(BY_URI, {"uris": [uri, "tos-cn-i-tb4s082cfz/unknown"]})
    assert set(data["uri2image"]) == {uri}
    assert _get(http, data["uri2image"][uri]["image_url"]).status_code == 200
    assert wire.call(BY_URI, {"uri": uri}).json()["ret"] == "1000"


def test_video_items_carry_the_watermarked_file(wire: Wire, http: requests.Session, emulator: EmulatorServer) -> None:
    record = wire.wait(wire.submit(video_body("waves [gen=100ms]", ratio="9:16", duration_ms=10000)))
    assert record["status"] == 50 and record["total_image_count"] == 1 and record["generate_type"] == 10
    video = record["item_list"][0]["video"]
    assert video["video_id"] and video["duration_ms"] == 10000 and video["has_audio"] is True
    origin = video["transcoded_video"]["origin"]
    assert (origin["width"], origin["height"], origin["format"]) == (720, 1280, "mp4")
    assert video["transcoded_video"]["720p"]["video_url"] == origin["video_url"]
    answer = _get(http, origin["video_url"])
    assert answer.headers["Content-Type"] == "video/mp4" and answer.content[4:8] == b"ftyp"
    assert len(answer.content) == origin["size"] and b"moov" in answer.content
    assert emulator.stats()["media"] == {"video_watermarked": 1}


def _local(wire: Wire, item_id: str) -> dict[str, Any]:
    body = {"item_id_list": [item_id], "pack_item_opt": {"scene": 1, "need_data_integrity": True},
            "is_for_video_download": True}  # fmt: skip
    return wire.ok(LOCAL, body)


def test_get_local_item_list_gives_the_watermark_free_url_in_base64(
    wire: Wire, http: requests.Session, emulator: EmulatorServer
) -> None:
    record = wire.wait(wire.submit(video_body("waves [gen=100ms]")))
    item = record["item_list"][0]
    listed = _local(wire, item["common_attr"]["id"])["item_list"]
    assert len(listed) == 1
    model = json.loads(listed[0]["video"]["video_model"])
    variants = model["video_list"]
    best = max(variants.values(), key=lambda variant: variant["vheight"])
    assert (best["definition"], best["vwidth"], best["vheight"]) == ("720p", 1280, 720)
    url = base64.b64decode(best["main_url"]).decode()
    assert url.startswith("http")
    clean = _get(http, url)
    marked = _get(http, item["video"]["transcoded_video"]["origin"]["video_url"])
    assert clean.status_code == 200 and clean.content[4:8] == b"ftyp" and clean.content != marked.content
    assert emulator.stats()["media"] == {"video": 1, "video_watermarked": 1}


def test_get_local_item_list_knows_only_finished_items_of_the_account(wire: Wire, make_wire: Any) -> None:
    running = wire.submit(video_body("waves [gen=10s]"))
    assert _local(wire, f"{running}00")["item_list"] == []
    done = wire.wait(wire.submit(video_body("waves [gen=100ms]")))["item_list"][0]["common_attr"]["id"]
    assert _local(make_wire("someone-else"), done)["item_list"] == []
    assert wire.call(LOCAL, {}).json()["ret"] == "1000"


@pytest.mark.parametrize(
    "suffix",
    ["video.mp4", "0.mp4", "9.png", "0~tplv-360p.png", "0.png?x-expires=1&x-signature=0",
     "0.png?x-expires=9999999999&x-signature=bad"],
)  # fmt: skip
def test_media_urls_must_exist_and_carry_a_valid_signature(wire: Wire, http: requests.Session, suffix: str) -> None:
    record = wire.wait(wire.submit(image_body("x [gen=100ms]")))
    url = record["item_list"][0]["image"]["large_images"][0]["image_url"]
    path, query = url.split("?")
    bad = f"{path.rsplit('/', 1)[0]}/{suffix}" + ("" if "?" in suffix else f"?{query}")
    assert _get(http, bad).status_code in (403, 404)


def test_credit_history_lists_spent_credits_per_submit_once_settled(wire: Wire, emulator: EmulatorServer) -> None:
    emulator.configure(credit_history_delay=0.3)
    image = image_body("x [gen=100ms]", count=3)
    video = video_body("y [gen=10ms]")
    wire.submit(image)
    wire.submit(video)
    data = wire.ok(CREDIT_HISTORY, {"count": 20, "cursor": "0", "history_type": 2})
    assert data["records"] == [] and data["total_credit"] == 100 - 3 - 5
    time.sleep(0.5)
    data = wire.ok(CREDIT_HISTORY, {"count": 20, "cursor": "0", "history_type": 2})
    spent = {record["submit_id"]: record["amount"] for record in data["records"]}
    assert spent == {image["submit_id"]: 3, video["submit_id"]: 5}
    assert (data["new_cursor"], data["has_more"]) == ("2", False)
    first = wire.ok(CREDIT_HISTORY, {"count": 1, "cursor": "0"})
    assert len(first["records"]) == 1 and (first["new_cursor"], first["has_more"]) == ("1", True)
    assert set(first["records"][0]) >= {"amount", "create_time", "title", "submit_id", "status"}
