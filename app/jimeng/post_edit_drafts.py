"""Request bodies of the post-edit tools (2026 8): 超清 ``normal_hd``, 智能超清 ``pro_hd``, 细节修复
``super_resolution`` and 扩图 ``painting``, all image generations on ``aigc_draft/generate``.

The draft holds one ``image_base_component`` whose ``generate_type`` names the tool and whose
``abilities.<tool>`` carries the tool's parameters and a ``postedit_param``. The input is an uploaded image
(``origin_image``, 8.2) or an item of an earlier result (``item_id`` and ``origin_history_id`` as integers,
8.3). Pure, like ``drafts``: ids from ``new_id``, time from ``now_ms``.
"""

from __future__ import annotations

from typing import Any

from app.domain.models import DraftSpec
from app.jimeng.drafts import Abroad, NewId, as_json, draft, envelope, extend, metadata, node
from app.jimeng.ids import new_uuid
from config.upstream import UpstreamConfig

# [2026 8.1] tool -> (the component's gen_type, None: absent; postedit_param.generate_type)
TOOLS: dict[str, tuple[int | None, int]] = {
    "normal_hd": (13, 13),  # SuperDefinition
    "pro_hd": (35, 35),  # ProHD
    "painting": (8, 8),  # OutPaint
    "super_resolution": (None, 2),  # SuperResolution
}
PRO_HD_DEFAULTS = {"hd_scene_type": "auto", "original_image_strength": 0.65, "detail_strength": 0.65}
OUTPAINT_MAX_SIZE = 12960  # the captured up_scale.max_size


def _origin_image(node_id: str, uri: str) -> dict[str, Any]:
    """The uploaded input as captured (8.2): a blend's image object with a ``title``."""
    image = {"type": "image", "id": node_id, "source_from": "upload", "platform_type": 1, "name": ""}
    return image | {"image_uri": uri, "width": 0, "height": 0, "format": "", "title": "", "uri": uri}


def _metrics(submit_id: str) -> str:
    """``metrics_extra`` of a post edit, as captured (8.2): no ``sceneOptions``."""
    metrics: dict[str, Any] = {"promptSource": "custom", "generateCount": 1, "generateId": submit_id}
    metrics |= {"templateId": "0", "enterFrom": "click", "isRegenerate": False, "isBoxSelect": False}
    return as_json(metrics | {"isCutout": False})


def _ability(spec: DraftSpec, new_id: NewId, postedit_type: int) -> dict[str, Any]:
    """``abilities.<tool>``: ``postedit_param`` with the input, then the tool's own members (8.1, 8.3)."""
    ability_id, postedit_id = new_id(), new_id()
    postedit = node(postedit_id, generate_type=postedit_type)
    ability = node(ability_id)
    if spec.origin_item_id:  # an earlier result: its item and record, both integers (8.3)
        postedit |= {"item_id": int(spec.origin_item_id), "origin_history_id": int(spec.origin_history_id)}
        ability["core_param"] = node(new_id(), generate_type=0)
    ability["postedit_param"] = postedit
    if spec.tool == "pro_hd":
        ability |= PRO_HD_DEFAULTS | {"resolution_type": spec.resolution}
    if spec.tool == "painting":
        pad = spec.padding
        assert pad is not None, "an outpaint is planned with its padding"
        sides = {"top": pad.top, "bottom": pad.bottom, "left": pad.left, "right": pad.right}
        ability["up_scale"] = node(new_id(), **sides, max_size=OUTPAINT_MAX_SIZE, image_ratio=spec.ratio_code)
    return ability


def post_edit_body(
    config: UpstreamConfig,
    spec: DraftSpec,
    *,
    submit_id: str,
    now_ms: int,
    new_id: NewId = new_uuid,
    abroad: Abroad | None = None,
) -> dict[str, Any]:
    """One post edit of one image (8.2; 8.1 for the other tools, 8.3 for an earlier result); ``abroad``: the
    workspace in ``extend`` (9.3; the captured post-edit ``metrics_extra`` already has no ``sceneOptions``)."""
    gen_type, postedit_type = TOOLS[spec.tool]
    if not spec.origin_item_id and len(spec.image_uris) != 1:
        raise ValueError("a post edit takes one uploaded image or an earlier result's item")
    versions = config.image_draft
    component_id, draft_id, metadata_id, abilities_id = new_id(), new_id(), new_id(), new_id()
    ability = _ability(spec, new_id, postedit_type)
    abilities = node(abilities_id) | {spec.tool: ability}
    abilities["gen_option"] = node(new_id(), gen_count=spec.count, generate_all=False)
    if not spec.origin_item_id:
        ability["postedit_param"]["origin_image"] = _origin_image(new_id(), spec.image_uris[0])
    component: dict[str, Any] = {"type": "image_base_component", "id": component_id}
    component |= {"min_version": versions.min_version, "aigc_mode": "workbench"}
    component |= {"gen_type": gen_type} if gen_type is not None else {}
    component |= {"metadata": metadata(metadata_id, now_ms), "generate_type": spec.tool, "abilities": abilities}
    content = draft(draft_id, versions.post_edit_min_version, config.app.draft_version, component, min_features=[])
    return envelope(extend(spec.model_key, abroad), submit_id, _metrics(submit_id), content, config.app.aid)
