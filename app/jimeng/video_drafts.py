"""Request bodies of ``aigc_draft/generate`` for videos (baseline sections 10.2, 10.3)."""

from __future__ import annotations

from typing import Any

from app.jimeng.drafts import NewId, as_json, envelope, node
from app.jimeng.ids import new_uuid
from config.upstream import UpstreamConfig, VideoConfig


def _metadata(node_id: str, now_ms: int) -> dict[str, Any]:
    """Component metadata; the creation time is a number in video drafts."""
    return node(node_id, created_platform=3, created_platform_version="", created_time_in_ms=now_ms, created_did="")


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
    metrics_extra = as_json(metrics | {"originSubmitId": new_id()})
    component_id, draft_id, metadata_id = new_id(), new_id(), new_id()
    abilities_id, gen_video_id, params_id = new_id(), new_id(), new_id()
    named = {"first_frame_image": first_frame_uri, "end_frame_image": end_frame_uri}
    frames = {name: _frame(new_id(), uri, frame_width, frame_height) for name, uri in named.items() if uri}
    entry = _video_input(video, new_id(), frames, prompt=prompt, resolution=resolution, duration_s=duration_s)
    params = node(params_id, model_req_key=model_key, priority=0, seed=seed, video_aspect_ratio=ratio)
    params["video_gen_inputs"] = [entry]
    gen_video = {"id": gen_video_id, "type": "", "text_to_video_params": params, "video_task_extra": metrics_extra}
    metadata = _metadata(metadata_id, now_ms)
    abilities = node(abilities_id, gen_video=gen_video)
    draft = _video_draft(video, (draft_id, component_id), config.app.draft_version, metadata, abilities)
    extend = _video_extend(video, model_key, two_frames=bool(end_frame_uri))
    return envelope(extend, submit_id, metrics_extra, draft, config.app.aid)
