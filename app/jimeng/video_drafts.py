"""Request bodies of ``aigc_draft/generate`` for videos (2026 sections 4.2-4.6): text and first/last frames.

Pure like the image builders (``drafts.py``): ids, time and seed come from the caller, so the two complete
examples of the protocol notes are unit tests. ``metrics_extra`` is also sent inside the draft as
``video_task_extra``, the same string.
"""

from __future__ import annotations

from typing import Any

from app.domain.models import DraftSpec
from app.jimeng.drafts import Abroad, NewId, as_json, draft, envelope, extend, metadata, node
from app.jimeng.ids import new_uuid
from config.upstream import UpstreamConfig, VideoConfig

FIRST_LAST = ("first_last_frames", "firstLastFrames")  # functionMode, generatorFeature
OMNI = ("omni_reference", "omniReference")  # what the web app says even for text-only Seedance 2.x jobs


def _mode(video: VideoConfig, spec: DraftSpec) -> tuple[str, str]:
    """Frames: first_last_frames; a text-only job: omni_reference, except for the 1.x keys (baseline 14.8)."""
    if spec.image_uris or spec.model_key.startswith(video.first_last_frames_keys):
        return FIRST_LAST
    return OMNI


def _metrics(spec: DraftSpec, submit_id: str, mode: tuple[str, str], group_id: str | None) -> str:
    """``metrics_extra`` (telemetry); ``submitGroupId`` as the web app sends it in the reference mode only."""
    report: dict[str, Any] = {"enterSource": "generate", "vipSource": "generate"}
    report |= {"extraVipFunctionKey": f"{spec.model_key}-{spec.resolution}", "useVipFunctionDetailsReporterHoc": True}
    scene: dict[str, Any] = {"type": "video", "scene": "BasicVideoGenerateButton", "resolution": spec.resolution}
    scene |= {"modelReqKey": spec.model_key, "videoDuration": spec.duration_s, "batchNumber": 1}
    scene |= {"inputVideoDuration": 0, "chargeInputVideoDuration": True, "isLongVideo": False}
    scene |= {"hasInputVideo": False, "reportParams": report, "materialTypes": []}
    metrics: dict[str, Any] = {"isDefaultSeed": 1, "originSubmitId": submit_id, "isRegenerate": False}
    metrics |= {"enterFrom": "click", "position": "page_bottom_box", "promptType": "original_prompt"}
    metrics |= {"functionMode": mode[0], "generatorFeature": mode[1], "sceneOptions": as_json([scene])}
    metrics |= {"batchNumber": 1} | ({"submitGroupId": group_id} if group_id else {}) | {"hasRejectedAudit": 0}
    return as_json(metrics | ({"videoStage": "draft"} if spec.draft_mode else {}))


def _frame(new_id: NewId, uri: str, spec: DraftSpec) -> dict[str, Any]:
    """A frame image (2026 4.3); its size is the requested video's."""
    frame = {"type": "image", "id": new_id(), "source_from": "upload", "platform_type": 1, "name": ""}
    frame |= {"image_uri": uri, "aigc_image": node(new_id()), "width": spec.width, "height": spec.height}
    return frame | {"format": "", "uri": uri}


def _input(video: VideoConfig, spec: DraftSpec, node_id: str, new_id: NewId, min_version: str) -> dict[str, Any]:
    """``video_gen_inputs[0]``: the resolution always, frames only when given, ``ending_control`` with an end."""
    entry = node(node_id, min_version=min_version, prompt=spec.prompt)
    entry |= {"is_draft_mode": True} if spec.draft_mode else {}
    entry |= {"video_mode": video.video_mode, "fps": video.fps, "duration_ms": spec.duration_s * 1000}
    entry["resolution"] = spec.resolution
    for name, uri in zip(("first_frame_image", "end_frame_image"), spec.image_uris, strict=False):
        entry[name] = _frame(new_id, uri, spec)
    entry |= {"ending_control": video.ending_control} if len(spec.image_uris) > 1 else {}
    return entry | {"idip_meta_list": []}


def _extend(config: UpstreamConfig, spec: DraftSpec, benefit_type: str, abroad: Abroad | None) -> dict[str, Any]:
    """``extend``: the root model, abroad the workspace (9.3), and the commerce info, alone and as a one-element
    list (2026 4.2; kept abroad, where the US benefit names were seen, 9.4)."""
    video = config.video
    commerce: dict[str, Any] = {"amount": spec.duration_s} if video.send_amount else {}
    commerce |= {"benefit_type": benefit_type, "resource_id": video.commerce.resource_id}
    commerce |= {"resource_id_type": video.commerce.resource_id_type}
    commerce |= {"resource_sub_type": video.commerce.resource_sub_type}
    return extend(spec.model_key, abroad, m_video_commerce_info=commerce, m_video_commerce_info_list=[commerce])


def video_body(
    config: UpstreamConfig,
    spec: DraftSpec,
    *,
    submit_id: str,
    seed: int,
    now_ms: int,
    benefit_type: str | None = None,
    new_id: NewId = new_uuid,
    abroad: Abroad | None = None,
) -> dict[str, Any]:
    """Video body (2026 4.3): ``process_type`` 1, the model's ``min_features``, first/last frames from
    ``spec.image_uris``, draft-mode fields for the preview model. ``benefit_type`` overrides the spec's (the
    one retry with the fallback name)."""
    video = config.video
    min_version = config.app.draft_version if spec.draft_mode else video.draft_min_version
    mode = _mode(video, spec)
    component_id, draft_id, metadata_id = new_id(), new_id(), new_id()
    abilities_id, gen_video_id, params_id, input_id = new_id(), new_id(), new_id(), new_id()
    entry = _input(video, spec, input_id, new_id, min_version)
    metrics = _metrics(spec, submit_id, mode, new_id() if mode == OMNI else None)
    params = node(params_id, video_gen_inputs=[entry], video_aspect_ratio=spec.ratio, seed=seed)
    params |= {"model_req_key": spec.model_key, "priority": 0}
    gen_video = node(gen_video_id, text_to_video_params=params, video_task_extra=metrics)
    component: dict[str, Any] = {"type": "video_base_component", "id": component_id}
    component |= {"min_version": video.component_min_version, "aigc_mode": "workbench"}
    component |= {"metadata": metadata(metadata_id, now_ms), "generate_type": "gen_video"}
    component |= {"abilities": node(abilities_id, gen_video=gen_video), "process_type": 1}
    features = list(video.features_of(spec.model_key))
    content = draft(draft_id, min_version, config.app.draft_version, component, min_features=features)
    return envelope(_extend(config, spec, benefit_type or spec.benefit_type, abroad), submit_id, metrics, content,
                    config.app.aid)  # fmt: skip
