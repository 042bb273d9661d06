"""The result media on the emulator's own host: signed, expiring URLs and the bytes behind them.

Names under ``/media/<history id>/``: images ``<k>.png`` (clean), ``<k>~tplv-wm.png`` (watermarked, the
``item_urls``), ``<k>~tplv-cover.png``; videos ``video.mp4`` (watermark-free, behind ``get_local_item_list``),
``video~tplv-360p.mp4`` (watermark-free, small), ``video~tplv-wm.mp4`` (watermarked, the ``transcoded_video``
URLs) and ``video~tplv-cover.png``. Every download is counted by variant in the stats.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from werkzeug.wrappers import Response

from app.emulator import media
from app.emulator.context import Ctx, json_response
from app.emulator.state import Generation

_NAME = r"(?P<name>(?P<stem>\d+|video)(?:~tplv-(?P<variant>cover|wm|360p))?\.(?P<ext>png|mp4))"
_MEDIA_RE = re.compile(rf"^/media/(?P<hid>\d+)/{_NAME}$")
COVER_SIDE = 32
SMALL_SIDE = 32
# (is video, variant, extension) -> the stats name of a download
_KINDS = {
    (False, None, "png"): "image",
    (False, "wm", "png"): "image_watermarked",
    (False, "cover", "png"): "cover",
    (True, None, "mp4"): "video",
    (True, "wm", "mp4"): "video_watermarked",
    (True, "360p", "mp4"): "video_360p",
    (True, "cover", "png"): "cover",
}


def _sign(secret: bytes, path: str, expires: int) -> str:
    return hmac.new(secret, f"{path}|{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def media_url(ctx: Ctx, generation: Generation, name: str, expires: float | None = None) -> str:
    """A signed URL on the emulator itself, like the CDN's ``x-expires``/``x-signature`` URLs (5.6)."""
    path = f"/media/{generation.history_id}/{name}"
    stamp = int(generation.created + ctx.config.media_ttl if expires is None else expires)
    return f"{ctx.base_url}{path}?x-expires={stamp}&x-signature={_sign(ctx.secret, path, stamp)}"


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
    kind = _KINDS.get((match["stem"] == "video", match["variant"], match["ext"]))
    if generation is None or kind is None or not _exists(generation, match):
        return json_response({"error": "not found"}, 404)
    ctx.stats.media(kind)
    return media_response(generation, match["name"])


def _exists(generation: Generation, match: re.Match[str]) -> bool:
    if (match["stem"] == "video") != (generation.kind == "video"):
        return False
    return match["stem"] == "video" or int(match["stem"]) < generation.items


def video_bytes(generation: Generation, name: str) -> bytes:
    """The MP4 of a video variant: watermarked and clean files differ, so a test can tell them apart."""
    longest = SMALL_SIDE if "360p" in name else media.THUMB_SIDE
    width, height = media.thumbnail_size(generation.width, generation.height, longest)
    return media.mp4_bytes(width, height, generation.duration_ms or 5000, f"{generation.history_id}/{name}")


def media_response(generation: Generation, name: str) -> Response:
    if name.endswith(".mp4"):
        return Response(video_bytes(generation, name), content_type="video/mp4")
    longest = COVER_SIDE if "~tplv-cover" in name else media.THUMB_SIDE
    width, height = media.thumbnail_size(generation.width, generation.height, longest)
    if generation.full_media and "~tplv-cover" not in name:
        width, height = generation.width, generation.height
    seed = f"{generation.history_id}/{name.replace('~tplv-cover', '').removesuffix('.png')}"
    return Response(media.png_bytes(width, height, seed), content_type="image/png")
