"""Request bodies of ``aigc_draft/generate`` (the size, ratio and multi-image rules are app.domain.sizes).

Protocol sections 7, 8, 10 and 12. The builders are pure: ids come from an injectable ``new_id``, time from
``now_ms`` and the seed from the caller (``ids.new_seed``), so the protocol's complete example is a unit test.
``draft_content`` and ``metrics_extra`` are JSON *inside* strings: the upstream parses the body, then parses
them again, so they are serialised here, compactly and with raw UTF-8 as the web app does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from app.jimeng.ids import new_uuid
from config.upstream import ImageSize, UpstreamConfig, VideoConfig

NewId = Callable[[], str]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _node(node_id: str, **fields: Any) -> dict[str, Any]:
    """Every draft object starts with ``type`` and ``id`` (7.3); the caller draws ids in document order."""
    return {"type": "", "id": node_id, **fields}


def _metadata(node_id: str, now_ms: int, *, as_string: bool) -> dict[str, Any]:
    """Component metadata; the creation time is a string in image drafts and a number in video drafts."""
    created: str | int = str(now_ms) if as_string else now_ms
    return _node(node_id, created_platform=3, created_platform_version="", created_time_in_ms=created, created_did="")


def _body(extend: dict[str, Any], submit_id: str, metrics: str, draft: dict[str, Any], aid: int) -> dict[str, Any]:
    return {
        "extend": extend,
        "submit_id": submit_id,
        "metrics_extra": metrics,
        "draft_content": _json(draft),
        "http_common_info": {"aid": aid},
    }


def _image_draft(
    ids: tuple[str, str], versions: tuple[str, str], metadata: dict[str, Any], abilities: dict[str, Any]
) -> dict[str, Any]:
    """An image draft around its single component; ``versions`` = (draft, component) min_version.

    The generate type is the name of the one ability ("generate" or "blend"), as in 7.3 and 8.3.
    """
    draft_id, component_id = ids
    draft_version, component_version = versions
    generate_type = "blend" if "blend" in abilities else "generate"
    component: dict[str, Any] = {"type": "image_base_component", "id": component_id, "min_version": component_version}
    component |= {"aigc_mode": "workbench", "metadata": metadata, "generate_type": generate_type}
    component["abilities"] = abilities
    draft: dict[str, Any] = {"type": "draft", "id": draft_id, "min_version": draft_version, "min_features": []}
    draft |= {"is_from_tsn": True, "version": draft_version, "main_component_id": component_id}
    draft["component_list"] = [component]
    return draft


def _core_param(node_id: str, large_id: str, size: ImageSize, resolution: str, **fields: Any) -> dict[str, Any]:
    """``core_param``: the caller's fields, then the ratio code, the size and ``intelligent_ratio``."""
    large = _node(large_id, height=size.height, width=size.width, resolution_type=resolution)
    return _node(node_id, **fields, image_ratio=size.code, large_image_info=large, intelligent_ratio=False)


def generate_body(
    *,
    config: UpstreamConfig,
    model_key: str,
    prompt: str,
    negative_prompt: str = "",
    seed: int,
    sample_strength: float = 0.5,
    size: ImageSize,
    resolution: str,
    submit_id: str,
    now_ms: int,
    new_id: NewId = new_uuid,
) -> dict[str, Any]:
    """Text-to-image body (7.2, 7.3); ``resolution`` is the tier name, sent as ``resolution_type``."""
    version = config.app.draft_version
    component_id, draft_id, metadata_id = new_id(), new_id(), new_id()
    abilities_id, generate_id, core_id, large_id = new_id(), new_id(), new_id(), new_id()
    fields = {"model": model_key, "prompt": prompt, "negative_prompt": negative_prompt, "seed": seed}
    core = _core_param(core_id, large_id, size, resolution, **fields, sample_strength=sample_strength)
    generate = _node(generate_id, core_param=core, history_option=_node(new_id()))
    metadata = _metadata(metadata_id, now_ms, as_string=True)
    draft = _image_draft((draft_id, component_id), (version, version), metadata, _node(abilities_id, generate=generate))
    metrics: dict[str, Any] = {"promptSource": "custom", "generateCount": 1, "enterFrom": "click"}
    metrics |= {"generateId": new_id(), "isRegenerate": False}
    extend = {"root_model": model_key, "template_id": ""}
    return _body(extend, submit_id, _json(metrics), draft, config.app.aid)


def _blend_ability(ability_id: str, image_id: str, uri: str, strength: float) -> dict[str, Any]:
    image = {"type": "image", "id": image_id, "source_from": "upload", "platform_type": 1, "name": ""}
    image |= {"image_uri": uri, "width": 0, "height": 0, "format": "", "uri": uri}
    return _node(ability_id, name="byte_edit", image_uri_list=[uri], image_list=[image], strength=strength)


def _blend(new_id: NewId, version: str, core: dict[str, Any], uris: Sequence[str], strength: float) -> dict[str, Any]:
    """The ``blend`` ability: one ``byte_edit`` entry and one placeholder per input image, in input order."""
    blend_id = new_id()
    abilities = [_blend_ability(new_id(), new_id(), uri, strength) for uri in uris]
    placeholders = [_node(new_id(), ability_index=index) for index in range(len(uris))]
    blend = _node(blend_id, min_version=version, min_features=[], core_param=core, ability_list=abilities)
    return blend | {
        "prompt_placeholder_info_list": placeholders,
        "postedit_param": _node(new_id(), generate_type=0),
    }


def blend_body(
    *,
    config: UpstreamConfig,
    model_key: str,
    prompt: str,
    negative_prompt: str = "",
    sample_strength: float = 0.5,
    size: ImageSize,
    resolution: str,
    image_uris: Sequence[str],
    submit_id: str,
    now_ms: int,
    new_id: NewId = new_uuid,
) -> dict[str, Any]:
    """Image-to-image body (8.2, 8.3) with HEAD's fixes of quirk 15.10: ``##`` per image, the caller's
    ratio and size, each image's strength = ``sample_strength``, the negative prompt when one is given."""
    versions = config.blend.versions
    component_id, draft_id, metadata_id = new_id(), new_id(), new_id()
    abilities_id, core_id, large_id = new_id(), new_id(), new_id()
    fields: dict[str, Any] = {"model": model_key, "prompt": "##" * len(image_uris) + prompt}
    fields |= {"negative_prompt": negative_prompt} if negative_prompt else {}
    core = _core_param(core_id, large_id, size, resolution, **fields, sample_strength=sample_strength)
    blend = _blend(new_id, versions[0], core, image_uris, sample_strength)
    metadata = _metadata(metadata_id, now_ms, as_string=True)
    draft = _image_draft((draft_id, component_id), versions, metadata, _node(abilities_id, blend=blend))
    metrics = {"promptSource": "custom", "generateCount": 1, "enterFrom": "click"}
    metrics |= {"generateId": submit_id, "isRegenerate": False}
    return _body({"root_model": model_key}, submit_id, _json(metrics), draft, config.app.aid)


def _frame(node_id: str, uri: str, width: int, height: int) -> dict[str, Any]:
    """A frame image; its size is the requested video's (10.3), as the baseline sends it."""
    frame = {"format": "", "height": height, "id": node_id, "image_uri": uri, "name": "", "platform_type": 1}
    return frame | {"source_from": "upload", "type": "image", "uri": uri, "width": width}


def _video_input(video: VideoConfig, node_id: str, frames: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """``video_gen_inputs[0]``; a missing frame is an absent member, not null."""
    entry = {"duration_ms": fields["duration_s"] * 1000, **frames, "fps": video.fps, "id": node_id}
    entry |= {"min_version": video.draft_min_version, "prompt": fields["prompt"]}
    return entry | {"resolution": fields["resolution"], "type": "", "video_mode": video.video_mode}


def _video_draft(
    video: VideoConfig,
    ids: tuple[str, str],
    version: str,
    metadata: dict[str, Any],
    gen_video: dict[str, Any],
) -> dict[str, Any]:
    """A video draft: no ``min_features``, and the component's keys in the baseline's order (10.3)."""
    draft_id, component_id = ids
    component: dict[str, Any] = {"type": "video_base_component", "id": component_id}
    component |= {"min_version": video.component_min_version, "metadata": metadata}
    component |= {"generate_type": "gen_video", "aigc_mode": "workbench", "abilities": gen_video}
    draft: dict[str, Any] = {"type": "draft", "id": draft_id, "min_version": video.draft_min_version}
    draft |= {"is_from_tsn": True, "version": version, "main_component_id": component_id}
    return draft | {"component_list": [component]}


def _video_extend(video: VideoConfig, model_key: str, *, two_frames: bool) -> dict[str, Any]:
    """``extend`` of a video body: the root model and the commerce info, alone and as a one-element list."""
    commerce = video.commerce_info.as_dict()
    root_model = video.first_last_frame_model if two_frames else model_key
    return {"root_model": root_model, "m_video_commerce_info": commerce, "m_video_commerce_info_list": [commerce]}


def video_body(
    *,
    config: UpstreamConfig,
    model_key: str,
    prompt: str,
    ratio: str,
    resolution: str,
    duration_s: int,
    first_frame_uri: str | None = None,
    end_frame_uri: str | None = None,
    frame_width: int,
    frame_height: int,
    seed: int,
    submit_id: str,
    now_ms: int,
    new_id: NewId = new_uuid,
) -> dict[str, Any]:
    """Video body (10.2, 10.3). With an end frame ``root_model`` is the first/last-frame model, as the
    baseline meant (its attempt crashed, quirk 15.1); ``model_req_key`` stays the caller's key."""
    video = config.video
    metrics = {"enterFrom": "click", "isDefaultSeed": 1, "promptSource": "custom", "isRegenerate": False}
    metrics_extra = _json(metrics | {"originSubmitId": new_id()})
    component_id, draft_id, metadata_id = new_id(), new_id(), new_id()
    abilities_id, gen_video_id, params_id = new_id(), new_id(), new_id()
    named = {"first_frame_image": first_frame_uri, "end_frame_image": end_frame_uri}
    frames = {name: _frame(new_id(), uri, frame_width, frame_height) for name, uri in named.items() if uri}
    entry = _video_input(video, new_id(), frames, prompt=prompt, resolution=resolution, duration_s=duration_s)
    params = _node(params_id, model_req_key=model_key, priority=0, seed=seed, video_aspect_ratio=ratio)
    params["video_gen_inputs"] = [entry]
    gen_video = {"id": gen_video_id, "type": "", "text_to_video_params": params, "video_task_extra": metrics_extra}
    metadata = _metadata(metadata_id, now_ms, as_string=False)
    abilities = _node(abilities_id, gen_video=gen_video)
    draft = _video_draft(video, (draft_id, component_id), config.app.draft_version, metadata, abilities)
    extend = _video_extend(video, model_key, two_frames=bool(end_frame_uri))
    return _body(extend, submit_id, metrics_extra, draft, config.app.aid)
