"""History records as ``get_history_by_ids`` shows them (11.2), and the media their URLs point at."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from werkzeug.wrappers import Response

from app.emulator import media
from app.emulator.context import Ctx, json_response
from app.emulator.state import Generation
from app.emulator.timeline import Snapshot

_NAME = r"(?P<name>(?P<stem>\d+|video)(?P<cover>~tplv-cover)?\.(?P<ext>png|mp4))"
_MEDIA_RE = re.compile(rf"^/media/(?P<hid>\d+)/{_NAME}$")
COVER_SIDE = 32


def _sign(secret: bytes, path: str, expires: int) -> str:
    return hmac.new(secret, f"{path}|{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def media_url(ctx: Ctx, generation: Generation, name: str) -> str:
    """A signed, expiring URL on the emulator itself, like the CDN's ``x-expires``/``x-signature`` URLs."""
    path = f"/media/{generation.history_id}/{name}"
    expires = int(generation.created + ctx.config.media_ttl)
    return f"{ctx.base_url}{path}?x-expires={expires}&x-signature={_sign(ctx.secret, path, expires)}"


def _image_item(ctx: Ctx, generation: Generation, index: int) -> dict[str, Any]:
    return {
        "image": {
            "large_images": [
                {
                    "image_url": media_url(ctx, generation, f"{index}.png"),
                    "width": generation.width,
                    "height": generation.height,
                    "format": "png",
                }
            ]
        },
        "common_attr": {
            "id": f"{generation.history_id}{index:02d}",
            "cover_url": media_url(ctx, generation, f"{index}~tplv-cover.png"),
        },
    }


def _video_item(ctx: Ctx, generation: Generation) -> dict[str, Any]:
    origin = {"video_url": media_url(ctx, generation, "video.mp4"), "width": generation.width,
              "height": generation.height}  # fmt: skip
    return {
        "video": {"transcoded_video": {"origin": origin}, "duration_ms": generation.duration_ms},
        "common_attr": {
            "id": f"{generation.history_id}00",
            "cover_url": media_url(ctx, generation, "video~tplv-cover.png"),
        },
    }


def history_record(ctx: Ctx, generation: Generation, snap: Snapshot) -> dict[str, Any]:
    """The job record: status, string fail_code, the items visible so far, counts and finish time."""
    if generation.kind == "video":
        items = [_video_item(ctx, generation)] if snap.visible_items else []
    else:
        items = [_image_item(ctx, generation, index) for index in range(snap.visible_items)]
    return {
        "history_record_id": generation.history_id,
        "submit_id": generation.submit_id,
        "status": snap.status,
        "fail_code": generation.fail_code if snap.terminal else "",
        "item_list": items,
        "task": {"finish_time": int(generation.ready) if snap.terminal else 0},
        "total_image_count": generation.items,
        "finished_image_count": snap.visible_items,
        "created_time": generation.created,
    }


def serve_media(ctx: Ctx) -> Response:
    """``GET /media/<history id>/<name>``: the bytes, if the signature holds and has not expired."""
    match = _MEDIA_RE.match(ctx.request.path)
    if match is None or ctx.request.method != "GET":
        return json_response({"error": "not found"}, 404)
    expires = ctx.request.args.get("x-expires", "")
    signature = ctx.request.args.get("x-signature", "")
    if not expires.isdigit() or not hmac.compare_digest(signature, _sign(ctx.secret, match[0], int(expires))):
        return json_response({"error": "bad signature"}, 403)
    if int(expires) < ctx.now:
        return json_response({"error": "url expired"}, 403)
    generation = ctx.state.generations.get(match["hid"])
    if generation is None or not _media_exists(generation, match):
        return json_response({"error": "not found"}, 404)
    return _media_bytes(generation, match["name"])


def _media_exists(generation: Generation, match: re.Match[str]) -> bool:
    """Videos have ``video.mp4`` and a PNG cover; images have ``<index>.png`` and covers."""
    is_video = match["stem"] == "video"
    if is_video != (generation.kind == "video"):
        return False
    if (match["ext"] == "mp4") != (is_video and not match["cover"]):
        return False
    return is_video or int(match["stem"]) < generation.items


def _media_bytes(generation: Generation, name: str) -> Response:
    seed = f"{generation.history_id}/{name.split('~')[0].split('.')[0]}"
    if name == "video.mp4":
        width, height = media.thumbnail_size(generation.width, generation.height)
        data = media.mp4_bytes(width, height, generation.duration_ms or 5000, seed)
        return Response(data, content_type="video/mp4")
    longest = COVER_SIDE if "~tplv-cover" in name else media.THUMB_SIDE
    width, height = media.thumbnail_size(generation.width, generation.height, longest)
    return Response(media.png_bytes(width, height, seed), content_type="image/png")
