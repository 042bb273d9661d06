"""Request bodies of ``aigc_draft/generate`` for images: text to image (2026 3.4) and blends (2026 3.5).

The builders are pure: ids come from an injectable ``new_id``, time from ``now_ms`` and the seed from the
caller (``ids.new_seed``), so the protocol's complete example is a unit test. ``draft_content``,
``metrics_extra`` and the ``sceneOptions`` inside it are JSON *inside* strings: the upstream parses the body,
then parses them again, so they are serialised here, compactly and with raw UTF-8 as the web app does. What
to draw is the planner's (``DraftSpec``); this module only says how Jimeng wants it written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.domain.models import DraftSpec
from app.jimeng.ids import new_uuid
from config.upstream import UpstreamConfig

NewId = Callable[[], str]


@dataclass(frozen=True)
class Abroad:
    """What an international site's drafts differ by (2026 9.3): ``extend.workspace_id`` (the account's, from
    ``workspace/list``), and on US image ``metrics_extra`` without ``sceneOptions`` (``scene_options`` false).
    ``m_image_commerce_info`` is never sent, here or on CN."""

    workspace_id: int
    scene_options: bool = True


def extend(root_model: str, abroad: Abroad | None, **more: Any) -> dict[str, Any]:
    """A draft's ``extend``: the root model, abroad the workspace id (9.3), then ``more`` (video commerce)."""
    head: dict[str, Any] = {"root_model": root_model}
    head |= {"workspace_id": abroad.workspace_id} if abroad is not None else {}
    return head | more


def us_metrics(submit_id: str) -> str:
    """An image draft's ``metrics_extra`` as the working US capture (9.3): no ``sceneOptions``."""
    metrics: dict[str, Any] = {"promptSource": "custom", "generateCount": 1, "enterFrom": "click"}
    metrics |= {"position": "page_bottom_box", "isBoxSelect": False, "isCutout": False, "hasRejectedAudit": 0}
    return as_json(metrics | {"generateId": submit_id, "isRegenerate": False})


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def node(node_id: str, **fields: Any) -> dict[str, Any]:
    """Every draft object starts with ``type`` and ``id``; the caller draws ids in document order."""
    return {"type": "", "id": node_id, **fields}


def metadata(node_id: str, now_ms: int) -> dict[str, Any]:
    """Component metadata; the creation time is a string of milliseconds."""
    return node(
        node_id, created_platform=3, created_platform_version="", created_time_in_ms=str(now_ms), created_did=""
    )


def envelope(extend: dict[str, Any], submit_id: str, metrics: str, draft: dict[str, Any], aid: int) -> dict[str, Any]:
    """The body around a draft; ``http_common_info.aid`` is a number."""
    return {
        "extend": extend,
        "submit_id": submit_id,
        "metrics_extra": metrics,
        "draft_content": as_json(draft),
        "http_common_info": {"aid": aid},
    }


def draft(draft_id: str, min_version: str, version: str, component: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The draft around its one component; ``extra`` (``min_features``) goes after ``min_version``."""
    head: dict[str, Any] = {"type": "draft", "id": draft_id, "min_version": min_version, **extra}
    head |= {"is_from_tsn": True, "version": version, "main_component_id": component["id"]}
    return head | {"component_list": [component]}


def _gen_option(new_id: NewId, spec: DraftSpec) -> dict[str, Any]:
    """``abilities.gen_option`` (2026 3.3): how many images this job makes; absent for fixed-batch models."""
    return {"gen_option": node(new_id(), gen_count=spec.count, generate_all=False)} if spec.gen_option else {}


def _metrics(spec: DraftSpec, submit_id: str, abilities: list[dict[str, Any]], abroad: Abroad | None) -> str:
    """``metrics_extra`` (telemetry): ``generateCount`` 1 as the web app sends, ``benefitCount`` the count; the
    US capture's form on a site without ``sceneOptions``."""
    if abroad is not None and not abroad.scene_options:
        return us_metrics(submit_id)
    report: dict[str, Any] = {"enterSource": "generate", "vipSource": "generate"}
    report |= {"extraVipFunctionKey": f"{spec.model_key}-{spec.resolution}", "useVipFunctionDetailsReporterHoc": True}
    scene: dict[str, Any] = {"type": "image", "scene": "ImageBasicGenerate", "modelReqKey": spec.model_key}
    scene |= {"resolutionType": spec.resolution, "abilityList": abilities, "benefitCount": spec.count}
    metrics: dict[str, Any] = {"promptSource": "custom", "generateCount": 1, "enterFrom": "click"}
    metrics |= {"position": "page_bottom_box", "sceneOptions": as_json([scene | {"reportParams": report}])}
    metrics |= {"isBoxSelect": False, "isCutout": False, "generateId": submit_id, "isRegenerate": False}
    return as_json(metrics)


def _large_image(node_id: str, spec: DraftSpec) -> dict[str, Any]:
    return node(node_id, height=spec.height, width=spec.width, resolution_type=spec.resolution)


def generate_body(
    config: UpstreamConfig,
    spec: DraftSpec,
    *,
    submit_id: str,
    seed: int,
    now_ms: int,
    new_id: NewId = new_uuid,
    abroad: Abroad | None = None,
) -> dict[str, Any]:
    """Text-to-image body (2026 3.4): ``gen_option`` beside ``generate``, ``generate_type`` 0, no history option,
    no ``gen_type``; ``abroad`` (9.3): the workspace in ``extend``, the site's ``metrics_extra``."""
    versions = config.image_draft
    component_id, draft_id, metadata_id = new_id(), new_id(), new_id()
    abilities_id, generate_id, core_id, large_id = new_id(), new_id(), new_id(), new_id()
    core = node(core_id, model=spec.model_key, prompt=spec.prompt, negative_prompt=spec.negative_prompt, seed=seed)
    core |= {"sample_strength": spec.sample_strength, "image_ratio": spec.ratio_code}
    core |= {"large_image_info": _large_image(large_id, spec), "intelligent_ratio": False, "generate_type": 0}
    abilities = node(abilities_id, generate=node(generate_id, core_param=core)) | _gen_option(new_id, spec)
    component: dict[str, Any] = {"type": "image_base_component", "id": component_id}
    component |= {"min_version": versions.min_version, "aigc_mode": "workbench"}
    component |= {"metadata": metadata(metadata_id, now_ms), "generate_type": "generate", "abilities": abilities}
    content = draft(draft_id, versions.min_version, config.app.draft_version, component, min_features=[])
    metrics = _metrics(spec, submit_id, [], abroad)
    return envelope(extend(spec.model_key, abroad), submit_id, metrics, content, config.app.aid)


def _image(node_id: str, uri: str) -> dict[str, Any]:
    image = {"type": "image", "id": node_id, "source_from": "upload", "platform_type": 1, "name": ""}
    return image | {"image_uri": uri, "width": 0, "height": 0, "format": "", "uri": uri}


def blend_body(
    config: UpstreamConfig,
    spec: DraftSpec,
    *,
    submit_id: str,
    now_ms: int,
    new_id: NewId = new_uuid,
    abroad: Abroad | None = None,
) -> dict[str, Any]:
    """Image-to-image body (2026 3.5): one ``byte_edit`` ability listing every image, ``##`` per image before
    the prompt, each image at ``sample_strength``, the caller's ratio and tier; a negative prompt only when
    given, no seed. ``now_ms`` is unused: recorded blend components carry no metadata."""
    del now_ms
    versions, uris = config.image_draft, list(spec.image_uris)
    component_id, draft_id, abilities_id, blend_id, core_id, large_id = (new_id() for _ in range(6))
    core = node(core_id, model=spec.model_key, prompt="##" * len(uris) + spec.prompt)
    core |= {"negative_prompt": spec.negative_prompt} if spec.negative_prompt else {}
    core |= {"sample_strength": spec.sample_strength, "image_ratio": spec.ratio_code}
    core["large_image_info"] = _large_image(large_id, spec)
    edit = node(new_id(), name="byte_edit", image_uri_list=uris, image_list=[_image(new_id(), uri) for uri in uris])
    blend = node(blend_id, min_features=[], core_param=core, ability_list=[edit | {"strength": spec.sample_strength}])
    blend |= {"history_option": node(new_id()), "prompt_placeholder_info_list": [node(new_id(), ability_index=0)]}
    blend["postedit_param"] = node(new_id(), generate_type=0)
    abilities = node(abilities_id, blend=blend) | _gen_option(new_id, spec)
    component: dict[str, Any] = {"type": "image_base_component", "id": component_id}
    component |= {"min_version": versions.min_version, "aigc_mode": "workbench", "gen_type": versions.blend_gen_type}
    component |= {"generate_type": "blend", "abilities": abilities}
    content = draft(draft_id, versions.blend_min_version, config.app.draft_version, component, min_features=[])
    scene_abilities = [{"abilityName": "byte_edit", "strength": spec.sample_strength} for _ in uris]
    metrics = _metrics(spec, submit_id, scene_abilities, abroad)
    return envelope(extend(spec.model_key, abroad), submit_id, metrics, content, config.app.aid)
