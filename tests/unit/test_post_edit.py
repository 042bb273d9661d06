"""Post edits (2026 8): the rules the planner applies, the outpaint's geometry, the drafts the client writes
(the complete example of 8.2 byte for byte) and what records tell about earlier results."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.catalog import FixedCatalog
from app.domain.errors import InvalidRequestError
from app.domain.models import DraftKind, Padding, PostEditRequest
from app.domain.planning import Planner
from app.domain.post_edit_rules import MAX_PADDING, outpaint_size, padding_for_ratio, ratio_numbers
from app.domain.sources import DataUri, ResultRef
from app.domain.static_catalog import catalog_from_config
from app.jimeng import records
from app.jimeng.drafts import as_json
from app.jimeng.post_edit_drafts import post_edit_body
from config.upstream import load_upstream

CONFIG = load_upstream()
PLANNER = Planner(
    FixedCatalog(catalog_from_config(CONFIG)), CONFIG, max_prompt_chars=100, max_messages_chars=300,
    default_image_count=0,
)  # fmt: skip
IMAGE = DataUri("data:image/png;base64,AAAA")


def refusal(request: PostEditRequest) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        PLANNER.plan(request)
    return caught.value


# -- the planner -------------------------------------------------------------------------------------------


def test_an_upscale_defaults_to_normal_hd_of_one_image_on_the_default_model() -> None:
    plan = PLANNER.plan(PostEditRequest(tool=None, image=IMAGE))
    spec = plan.spec
    assert (spec.kind, spec.tool, spec.count, spec.model_key) == (
        DraftKind.POST_EDIT,
        "normal_hd",
        1,
        "high_aes_general_v50",
    )
    assert plan.sources == (IMAGE,) and plan.size is None


def test_an_earlier_result_is_no_source_to_fetch_and_names_its_item() -> None:
    ref = ResultRef("25594898552323", 1, item_id="2559489855232301")
    plan = PLANNER.plan(PostEditRequest(tool="super_resolution", image=ref))
    assert plan.sources == ()
    assert (plan.spec.origin_history_id, plan.spec.origin_item_id) == ("25594898552323", "2559489855232301")


@pytest.mark.parametrize(
    ("request_", "param", "code"),
    [
        (PostEditRequest(tool=None, image=None), "image", "missing_field"),
        (PostEditRequest(tool="upscale", image=IMAGE), "mode", "invalid_value"),
        (PostEditRequest(tool="super_resolution", image=IMAGE), "image", "invalid_value"),
        (PostEditRequest(tool=None, image=ResultRef("12ab")), "image.history_id", "invalid_value"),
        (PostEditRequest(tool=None, image=ResultRef("123", index=100)), "image.index", "invalid_value"),
        (PostEditRequest(tool=None, image=IMAGE, resolution="4k"), "resolution", "unsupported_parameter"),
        (PostEditRequest(tool="pro_hd", image=IMAGE, resolution="8k"), "resolution", "invalid_value"),
        (PostEditRequest(tool=None, image=IMAGE, ratio="16:9"), "ratio", "unsupported_parameter"),
        (PostEditRequest(tool=None, image=IMAGE, n=2), "n", "invalid_value"),
        (PostEditRequest(tool="painting", image=IMAGE), "ratio", "missing_field"),
        (PostEditRequest(tool="painting", image=IMAGE, ratio="7:3"), "ratio", "invalid_value"),
        (PostEditRequest(tool="painting", image=IMAGE, n=5, ratio="1:1"), "n", "invalid_value"),
        (PostEditRequest(tool="painting", image=IMAGE, padding=Padding(top=0, bottom=0, left=0, right=0)),
         "padding", "invalid_value"),
        (PostEditRequest(tool="painting", image=IMAGE, padding=Padding(top=4, bottom=0, left=0, right=0)),
         "padding.top", "invalid_value"),
        (PostEditRequest(tool="painting", image=IMAGE, ratio="1:1", source_size=(500, 500)), "ratio", "invalid_value"),
        (PostEditRequest(tool="painting", image=IMAGE, ratio="21:9", source_size=(6000, 12000)), "ratio",
         "invalid_value"),
        (PostEditRequest(tool=None, image=IMAGE, stream=True, run_async=True), "stream", "invalid_value"),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_naming_the_field(request_: PostEditRequest, param: str, code: str) -> None:
    error = refusal(request_)
    assert (error.param, error.code) == (param, code), error.message


def test_an_outpaint_to_a_ratio_pads_the_short_axis_evenly_once_the_size_is_known() -> None:
    request = PostEditRequest(tool="painting", image=IMAGE, ratio="16:9")
    assert PLANNER.plan(request).spec.padding is None  # before the image is fetched: only checked
    spec = PLANNER.plan(replace(request, source_size=(900, 900))).spec
    assert spec.padding == Padding(top=0.0, bottom=0.0, left=0.3889, right=0.3889)
    assert (spec.ratio, spec.ratio_code) == ("16:9", 3)


# -- geometry ----------------------------------------------------------------------------------------------


@given(st.integers(16, 4096), st.integers(16, 4096), st.sampled_from(["1:1", "4:3", "3:4", "16:9", "9:16", "21:9"]))
def test_padding_for_a_ratio_reaches_it_growing_one_axis(width: int, height: int, ratio: str) -> None:
    rw, rh = ratio_numbers(ratio)
    try:
        padding = padding_for_ratio(width, height, ratio)
    except InvalidRequestError as err:
        far = max(width / height * rh / rw, rw / rh * height / width) > 1 + 2 * MAX_PADDING
        assert abs(width / height - rw / rh) <= 0.01 * rw / rh or far, err.message
        return
    new_width, new_height = outpaint_size(width, height, padding)
    assert new_width >= width and new_height >= height and (new_width == width or new_height == height)
    assert abs(new_width / new_height - rw / rh) < 0.01 * rw / rh + 2 / min(new_width, new_height)
    assert padding.top == padding.bottom and padding.left == padding.right
    assert max(padding.top, padding.left) <= MAX_PADDING


# -- the client's drafts (2026 8.2) ------------------------------------------------------------------------

EXAMPLE_UUIDS = [f"00000000-0000-4000-8000-000000000{n}" for n in (302, 303, 304, 305, 306, 307, 308, 310)]
URI = "tos-cn-i-tb4s082cfz/cccccccccccccccccccccccccccccccc"
EXAMPLE_DRAFT: dict[str, Any] = {
    "type": "draft", "id": EXAMPLE_UUIDS[1], "min_version": "3.2.9", "min_features": [], "is_from_tsn": True,
    "version": "3.3.28", "main_component_id": EXAMPLE_UUIDS[0],
    "component_list": [{
        "type": "image_base_component", "id": EXAMPLE_UUIDS[0], "min_version": "3.0.2", "aigc_mode": "workbench",
        "gen_type": 13,
        "metadata": {"type": "", "id": EXAMPLE_UUIDS[2], "created_platform": 3, "created_platform_version": "",
                     "created_time_in_ms": "1790000001000", "created_did": ""},
        "generate_type": "normal_hd",
        "abilities": {
            "type": "", "id": EXAMPLE_UUIDS[3],
            "normal_hd": {"type": "", "id": EXAMPLE_UUIDS[4], "postedit_param": {
                "type": "", "id": EXAMPLE_UUIDS[5], "generate_type": 13,
                "origin_image": {"type": "image", "id": EXAMPLE_UUIDS[7], "source_from": "upload", "platform_type": 1,
                                 "name": "", "image_uri": URI, "width": 0, "height": 0, "format": "", "title": "",
                                 "uri": URI}}},
            "gen_option": {"type": "", "id": EXAMPLE_UUIDS[6], "gen_count": 1, "generate_all": False},
        },
    }],
}  # fmt: skip
EXAMPLE_METRICS = {"promptSource": "custom", "generateCount": 1, "generateId": "00000000-0000-4000-8000-000000000301",
                   "templateId": "0", "enterFrom": "click", "isRegenerate": False, "isBoxSelect": False,
                   "isCutout": False}  # fmt: skip


def _spec(**changes: Any) -> Any:
    plan = PLANNER.plan(PostEditRequest(tool=None, image=IMAGE))
    return replace(plan.spec, **{"image_uris": (URI,), **changes})


def _body(spec: Any, ids: list[str] | None = None) -> dict[str, Any]:
    sequence = iter(ids or EXAMPLE_UUIDS)
    return post_edit_body(
        CONFIG, spec, submit_id="00000000-0000-4000-8000-000000000301", now_ms=1790000001000,
        new_id=lambda: next(sequence),
    )  # fmt: skip


def test_normal_hd_of_an_uploaded_image_is_the_complete_example() -> None:
    body = _body(_spec())
    assert body == {
        "extend": {"root_model": "high_aes_general_v50"},
        "submit_id": "00000000-0000-4000-8000-000000000301",
        "metrics_extra": as_json(EXAMPLE_METRICS),
        "draft_content": as_json(EXAMPLE_DRAFT),
        "http_common_info": {"aid": 513695},
    }


def test_pro_hd_painting_and_an_earlier_result() -> None:
    ids = (f"id-{n}" for n in itertools.count())
    pro = json.loads(post_edit_body(CONFIG, _spec(tool="pro_hd", resolution="4k"), submit_id="s", now_ms=0,
                                    new_id=lambda: next(ids))["draft_content"])["component_list"][0]  # fmt: skip
    ability = pro["abilities"]["pro_hd"]
    assert (pro["gen_type"], pro["generate_type"], ability["postedit_param"]["generate_type"]) == (35, "pro_hd", 35)
    assert ability["resolution_type"] == "4k" and ability["detail_strength"] == 0.65
    padding = Padding(top=0.5, bottom=0.5, left=0.0, right=0.0)
    paint = json.loads(post_edit_body(CONFIG, _spec(tool="painting", padding=padding, ratio_code=2), submit_id="s",
                                      now_ms=0)["draft_content"])["component_list"][0]  # fmt: skip
    up_scale = paint["abilities"]["painting"]["up_scale"]
    assert (paint["gen_type"], up_scale["top"], up_scale["left"], up_scale["image_ratio"]) == (8, 0.5, 0.0, 2)
    item = _spec(tool="super_resolution", image_uris=(), origin_history_id="25594898552323",
                 origin_item_id="2559489855232301")  # fmt: skip
    detail = json.loads(post_edit_body(CONFIG, item, submit_id="s", now_ms=0)["draft_content"])["component_list"][0]
    postedit = detail["abilities"]["super_resolution"]["postedit_param"]
    assert "gen_type" not in detail
    assert postedit == {"type": "", "id": postedit["id"], "generate_type": 2, "item_id": 2559489855232301,
                        "origin_history_id": 25594898552323}  # fmt: skip
    assert detail["abilities"]["super_resolution"]["core_param"]["generate_type"] == 0


# -- records -----------------------------------------------------------------------------------------------


def _item(index: int) -> dict[str, Any]:
    return {
        "image": {"large_images": [{"image_url": f"https://x/{index}.png", "width": 2048, "height": 1152}]},
        "common_attr": {"id": f"2559489855232{index:03d}", "item_urls": [f"https://x/{index}~tplv-wm.png"]},
    }


def test_records_give_every_items_id_size_and_the_standard_links_on_request() -> None:
    record = {"status": 50, "item_list": [_item(0), _item(1)]}
    view = records.read_record(record)
    assert view.item_ids == ("2559489855232000", "2559489855232001")
    assert view.image_sizes == ((2048, 1152), (2048, 1152))
    assert view.image_urls == ("https://x/0.png", "https://x/1.png")
    standard = records.read_record(record, watermark_free=False)
    assert standard.image_urls == ("https://x/0~tplv-wm.png", "https://x/1~tplv-wm.png")
