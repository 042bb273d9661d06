"""Records as the upstream shows them (2026 notes 5.1-5.6): submit answers, history records, items.

Image items carry a clean ``image_url`` and watermarked ``item_urls``; video items carry the watermarked
``transcoded_video`` URLs, while ``get_local_item_list`` gives the watermark-free one, base64-encoded.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import time
from typing import Any

from app.emulator import image_models, rets, video_models
from app.emulator.context import CHINA_OFFSET, Ctx
from app.emulator.mediahost import media_url, video_bytes
from app.emulator.state import Generation
from app.emulator.timeline import Snapshot

GENERATE_TYPES = {
    "image": 1,
    "blend": 1,
    "video": 10,
    "normal_hd": 1,
    "pro_hd": 1,
    "super_resolution": 1,
    "painting": 1,
}
POLLING_CONFIG = {"interval_seconds": 30, "timeout_seconds": 86400}
QUEUE_THRESHOLD = {"vip_queuing_time_threshold": 300, "waiting_time_threshold": 60}
PRIORITY = 2


def model_name(key: str) -> str:
    model = image_models.IMAGE_MODELS.get(key) or video_models.VIDEO_MODELS.get(key)
    return model.name if model else key


def image_uri(ctx: Ctx, generation: Generation, index: int) -> str:
    """A storage URI of a result image, answered again by ``get_image_by_uri``."""
    return f"tos-cn-i-{ctx.config.service_id}/{generation.history_id}{index:02d}"


def _share(generation: Generation, index: int) -> float:
    digest = hashlib.sha256(f"{generation.history_id}/{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def _escaped(ctx: Ctx, generation: Generation, index: int, url: str) -> str:
    """Some real URLs hold a literal ``\\u0026`` for ``&`` (5.6): a share of them here, stable per item."""
    return url.replace("&", "\\u0026") if _share(generation, index) < ctx.config.url_u0026_share else url


def queue_info(snap: Snapshot) -> dict[str, Any]:
    """``queue_status`` 2 while queued, 3 once running (5.1: 2 in a fresh submit, 3 later; UNVERIFIED)."""
    return {"queue_idx": snap.queue_idx, "priority": PRIORITY, "queue_status": 2 if snap.queue_left > 0 else 3,
            "queue_length": snap.queue_idx, "polling_config": dict(POLLING_CONFIG)}  # fmt: skip


def forecasts(generation: Generation, snap: Snapshot) -> dict[str, int]:
    """Seconds (5.1): the generation part is fixed at submission, the queue part falls as the queue moves."""
    return {"forecast_generate_cost": generation.forecast, "forecast_queue_cost": math.ceil(snap.queue_left)}


def image_item(ctx: Ctx, generation: Generation, index: int, expires: float | None = None) -> dict[str, Any]:
    url = _escaped(ctx, generation, index, media_url(ctx, generation, f"{index}.png", expires))
    cover = media_url(ctx, generation, f"{index}~tplv-cover.png", expires)
    large = {"image_uri": image_uri(ctx, generation, index), "image_url": url, "width": generation.width,
             "height": generation.height, "format": "png"}  # fmt: skip
    common = {"id": f"{generation.history_id}{index:02d}", "cover_url": cover,
              "cover_url_map": {"360": cover, "720": cover},
              "item_urls": [media_url(ctx, generation, f"{index}~tplv-wm.png", expires)]}  # fmt: skip
    return {"image": {"format": "png", "large_images": [large]}, "common_attr": common}


def _video_file(ctx: Ctx, generation: Generation, name: str) -> dict[str, Any]:
    data = video_bytes(generation, name)
    return {"video_url": media_url(ctx, generation, name), "width": generation.width, "height": generation.height,
            "fps": video_models.FPS, "format": "mp4", "size": len(data), "md5": hashlib.md5(data).hexdigest()}  # fmt: skip


def video_item(ctx: Ctx, generation: Generation) -> dict[str, Any]:
    marked = _video_file(ctx, generation, "video~tplv-wm.mp4")
    cover = media_url(ctx, generation, "video~tplv-cover.png")
    video = {"video_id": f"v0{generation.history_id}", "duration_ms": generation.duration_ms, "cover_url": cover,
             "has_audio": generation.model.startswith("dreamina_seedance"),
             "transcoded_video": {"origin": marked, generation.resolution or "720p": dict(marked)}}  # fmt: skip
    common = {"id": f"{generation.history_id}00", "cover_url": cover, "item_urls": [marked["video_url"]]}
    return {"video": video, "common_attr": common}


def _variant(ctx: Ctx, generation: Generation, name: str, definition: str, size: tuple[int, int]) -> dict[str, Any]:
    url = media_url(ctx, generation, name)
    encoded = base64.b64encode(url.encode()).decode()
    return {"definition": definition, "vtype": "mp4", "vwidth": size[0], "vheight": size[1], "fps": video_models.FPS,
            "size": len(video_bytes(generation, name)), "main_url": encoded, "backup_url_1": encoded}  # fmt: skip


def local_video_item(ctx: Ctx, generation: Generation) -> dict[str, Any]:
    """``get_local_item_list``'s video item: ``video_model`` is a JSON string, ``main_url`` base64 (5.6)."""
    small = video_models.video_size_for_height(generation.width, generation.height, 360)
    full = (generation.width, generation.height)
    video_list = {"video_1": _variant(ctx, generation, "video~tplv-360p.mp4", "360p", small),
                  "video_2": _variant(ctx, generation, "video.mp4", generation.resolution or "720p", full)}  # fmt: skip
    model = {"video_list": video_list, "video_duration": generation.duration_ms / 1000}
    item = video_item(ctx, generation)
    item["video"]["video_model"] = json.dumps(model, separators=(",", ":"))
    return item


def _generate_id(generation: Generation) -> str:
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(generation.created + CHINA_OFFSET))
    return stamp + hashlib.md5(generation.history_id.encode()).hexdigest()[:20].upper()


def core_record(ctx: Ctx, generation: Generation, snap: Snapshot, account_uid: int) -> dict[str, Any]:
    """The members shared by the submit answer and the history record (5.1, 5.4)."""
    ready = generation.ready
    task = {"task_id": generation.history_id, "submit_id": generation.submit_id, "aid": 0, "status": snap.status,
            "finish_time": int(ready) if snap.terminal and ready else 0, "history_id": generation.history_id}  # fmt: skip
    return {
        "generate_type": GENERATE_TYPES[generation.kind],
        "history_record_id": generation.history_id,
        "created_time": round(generation.created, 3),
        "task": task,
        "mode": "workbench",
        "uid": str(account_uid),
        "status": snap.status,
        "history_group_key": generation.prompt,
        "submit_id": generation.submit_id,
        "generate_id": _generate_id(generation),
        "model_info": {"model_name": model_name(generation.model), "model_req_key": generation.model},
        **forecasts(generation, snap),
        "queue_info": queue_info(snap),
        "total_image_count": generation.items,
        "finished_image_count": snap.visible_items,
    }


def history_record(ctx: Ctx, generation: Generation, snap: Snapshot, account_uid: int) -> dict[str, Any]:
    """The job record of ``get_history_by_ids``: status, fail fields, the items visible so far, the draft."""
    if generation.kind == "video":
        items = [video_item(ctx, generation)] if snap.visible_items else []
    else:
        items = [image_item(ctx, generation, index) for index in range(snap.visible_items)]
    fail_code = generation.fail_code if snap.terminal else ""
    record = core_record(ctx, generation, snap, account_uid)
    record.update(image_type=3, **rets.fail_fields(fail_code), item_list=items, draft_content=generation.draft_content)
    return record


def queue_entry(generation: Generation, snap: Snapshot) -> dict[str, Any]:
    """One entry of ``get_history_queue_info`` (5.5)."""
    info = queue_info(snap)
    info.update(priority_queue_display_threshold=dict(QUEUE_THRESHOLD), debug_info='{"queue":"emulated"}')
    return {"status": snap.status, "queue_info": info, "forecast_cost_time": forecasts(generation, snap)}
