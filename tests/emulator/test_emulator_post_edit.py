"""The post-edit tools (2026 notes 8, checklist 16): drafts as the document writes them, their refusals, the
results' sizes, the two input forms, per site."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
import requests
from PIL import Image

from app.emulator import EmulatorServer
from tests.emulator.conftest import png
from tests.emulator.emulator_client import Wire, image_body, post_edit_body

PRO_HD = {"hd_scene_type": "auto", "original_image_strength": 0.65, "detail_strength": 0.65, "resolution_type": "2k"}
UP_SCALE = {"up_scale": {"type": "", "id": "u", "top": 0.5, "bottom": 0.5, "left": 0.0, "right": 0.0,
                         "max_size": 12960, "image_ratio": 1}}  # fmt: skip


def _large(record: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return record["item_list"][index]["image"]["large_images"][0]


@pytest.mark.parametrize(("tool", "extra"), [("normal_hd", {}), ("pro_hd", PRO_HD)])
def test_an_uploaded_image_is_upscaled_to_twice_its_size(wire: Wire, tool: str, extra: dict[str, Any]) -> None:
    uri = wire.upload(png(30, 20))
    record = wire.wait(wire.submit(post_edit_body(tool, uri=uri, extra=extra)))
    assert record["task"]["status"] == 50
    assert len(record["item_list"]) == 1
    assert (_large(record)["width"], _large(record)["height"]) == (60, 40)
    image = requests.get(_large(record)["image_url"].replace("\\u0026", "&"), timeout=10)
    with Image.open(io.BytesIO(image.content)) as result:
        assert result.size == (60, 40)  # a small result is served at its real size


def test_an_earlier_result_is_named_by_item_and_record_without_an_upload(wire: Wire, emulator: EmulatorServer) -> None:
    earlier = wire.wait(wire.submit(image_body("a cat", count=2)))
    item_id = int(earlier["item_list"][1]["common_attr"]["id"])
    record = wire.wait(
        wire.submit(post_edit_body("super_resolution", item=(item_id, int(earlier["history_record_id"]))))
    )
    assert (_large(record)["width"], _large(record)["height"]) == (4096, 4096)
    assert emulator.stats()["totals"].get("uploads_committed", 0) == 0


def test_an_outpaint_grows_each_side_by_its_share_and_makes_four_without_gen_option(wire: Wire) -> None:
    uri = wire.upload(png(40, 40))
    record = wire.wait(wire.submit(post_edit_body("painting", uri=uri, extra=UP_SCALE, count=None)))
    assert len(record["item_list"]) == 4
    assert (_large(record)["width"], _large(record)["height"]) == (40, 80)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"gen_type": 12}, "gen_type must be 13"),
        ({"tool": "pro_hd"}, "hd_scene_type is required"),
        ({"tool": "painting"}, "up_scale must be an object"),
        ({"uri": "tos-cn-i-tb4s082cfz/never"}, "never uploaded"),
        ({"uri": None}, "needs origin_image, or item_id"),
        ({"item": ("1", "2")}, "must be integers"),
        ({"item": (2559489855232300, 25594898552323)}, "not an image record of this account"),
    ],
)
def test_bad_post_edit_drafts_are_ret_1000(wire: Wire, change: dict[str, Any], words: str) -> None:
    uri = wire.upload(png(8, 8))
    args: dict[str, Any] = {"tool": "normal_hd", "uri": uri, **change}
    if "item" in change:
        args["uri"] = None
    answer = wire.generate(post_edit_body(args.pop("tool"), **args))
    assert answer["ret"] == "1000", answer
    assert words in answer["errmsg"]


def test_another_accounts_result_cannot_be_named(make_wire: Callable[[str], Wire]) -> None:
    owner, other = make_wire("owner-account"), make_wire("other-account")
    earlier = owner.wait(owner.submit(image_body("a dog", count=1)))
    item = (int(earlier["item_list"][0]["common_attr"]["id"]), int(earlier["history_record_id"]))
    answer = other.generate(post_edit_body("normal_hd", item=item))
    assert answer["ret"] == "1000" and "not an image record of this account" in answer["errmsg"]


def test_post_edits_on_the_us_site_need_its_aid_and_a_model_it_lists(emulator: EmulatorServer, wire: Wire) -> None:
    us = Wire(f"{emulator.url}/us", "us-post-edit-account", wire.http)
    params = [("aid", "513641"), ("device_platform", "web"), ("region", "US"), ("da_version", "3.3.28"),
              ("web_version", "7.5.0"), ("aigc_features", "app_lip_sync")]  # fmt: skip
    headers = {"Appid": "513641", "Loc": "US"}
    uri_answer = us.call("/mweb/v1/get_upload_token", {"scene": 2}, params=params, headers=headers).json()
    assert uri_answer["ret"] == "0", uri_answer
    body = post_edit_body("normal_hd", uri="tos-cn-i-x/none")
    answer = us.call("/mweb/v1/aigc_draft/generate", body, params=params, headers=headers).json()
    assert answer["ret"] == "1000" and "aid" in answer["errmsg"]  # CN's aid in the body
    body = post_edit_body("normal_hd", item=(2559489855232300, 25594898552323), model="high_aes_general_v43")
    body["http_common_info"]["aid"] = 513641
    workspaces = us.call("/mweb/v1/workspace/list", {}, params=params, headers=headers).json()["data"]["workspaces"]
    body["extend"]["workspace_id"] = workspaces[0]["workspace_id"]  # 9.3: every international draft carries it
    answer = us.call("/mweb/v1/aigc_draft/generate", body, params=params, headers=headers).json()
    assert answer["ret"] == "1000" and "not offered on this site" in answer["errmsg"], answer  # v43: not in the US
