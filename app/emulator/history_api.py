"""Reading records and results: ``get_history_by_ids`` (5.4), ``get_history_queue_info`` (5.5),
``get_local_item_list`` and ``get_image_by_uri`` (5.6). Unknown ids and other accounts' ids are absent."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.wrappers import Response

from app.emulator import records, rets
from app.emulator.context import Ctx, Refused
from app.emulator.records import history_record, image_item, local_video_item, queue_entry
from app.emulator.state import Account, Generation
from app.emulator.timeline import Snapshot

_ITEM_ID_RE = re.compile(r"^(?P<hid>\d{14})(?P<index>\d{2})$")


def id_list(body: dict[str, Any], key: str) -> list[str]:
    ids = body.get(key)
    if ids is None:
        return []
    if not isinstance(ids, list) or not all(isinstance(item, str) and item for item in ids):
        raise Refused(None, f"invalid parameters: {key} must be a list of non-empty strings", "body_invalid")
    return ids


def _check_history_body(body: dict[str, Any]) -> None:
    for key in ("image_info", "http_common_info"):
        if key in body and not isinstance(body[key], dict):
            raise Refused(None, f"invalid parameters: {key} must be an object", "body_invalid")
    if "need_batch" in body and not isinstance(body["need_batch"], bool):
        raise Refused(None, "invalid parameters: need_batch must be a boolean", "body_invalid")


def _poll(ctx: Ctx, generation: Generation) -> Snapshot | None:
    """Count one poll; the snapshot to show, or None while the record is still invisible."""
    with ctx.state.lock:
        generation.poll_count += 1
        if generation.poll_count <= generation.invisible_polls:
            return None
        snap = generation.snapshot(ctx.now)
        if snap.terminal and not ctx.answer_lost and generation.first_terminal_answer is None:
            generation.first_terminal_answer = ctx.now
        return snap


def history(ctx: Ctx, account: Account, body: dict[str, Any]) -> Response:
    """Records keyed by each id asked for: submit ids and history ids alike (5.4)."""
    history_ids, submit_ids = id_list(body, "history_ids"), id_list(body, "submit_ids")
    _check_history_body(body)
    if not history_ids and not submit_ids:
        raise Refused(None, "invalid parameters: history_ids or submit_ids required", "body_invalid")
    if ctx.faults.chance(ctx.config.poll_2008_share):
        raise Refused("2008", rets.message("2008"), "history_2008")
    session = account.session_id
    asked = [(key, ctx.state.find(session, history_id=key)) for key in history_ids]
    asked += [(key, ctx.state.find(session, submit_id=key)) for key in submit_ids]
    found = {generation.history_id: generation for _, generation in asked if generation is not None}
    snaps = {history_id: _poll(ctx, generation) for history_id, generation in found.items()}
    data = {}
    for key, generation in asked:
        snap = snaps.get(generation.history_id) if generation else None
        if generation is not None and snap is not None:
            data[key] = history_record(ctx, generation, snap, account.user_id)
    return ctx.ok(data)


def queue_info(ctx: Ctx, account: Account, body: dict[str, Any]) -> Response:
    """``{"history_ids": [...]}`` -> status, queue position and forecasts per record (duplicates once)."""
    history_ids = id_list(body, "history_ids")
    if not history_ids:
        raise Refused(None, "invalid parameters: history_ids required", "body_invalid")
    data = {}
    for history_id in dict.fromkeys(history_ids):
        generation = ctx.state.find(account.session_id, history_id=history_id)
        if generation is not None:
            data[history_id] = queue_entry(generation, generation.snapshot(ctx.now))
    return ctx.ok(data)


def _visible_item(ctx: Ctx, account: Account, item_id: str) -> tuple[Generation, int] | None:
    match = _ITEM_ID_RE.match(item_id)
    generation = ctx.state.find(account.session_id, history_id=match["hid"]) if match else None
    if generation is None or match is None:
        return None
    index = int(match["index"])
    return (generation, index) if index < generation.snapshot(ctx.now).visible_items else None


def local_items(ctx: Ctx, account: Account, body: dict[str, Any]) -> Response:
    """``{"item_id_list": [...], ...}`` -> ``item_list`` of the finished items asked for (5.6)."""
    item_ids = id_list(body, "item_id_list")
    if not item_ids:
        raise Refused(None, "invalid parameters: item_id_list required", "body_invalid")
    items = []
    for item_id in item_ids:
        found = _visible_item(ctx, account, item_id)
        if found is not None:
            generation, index = found
            kind_video = generation.kind == "video"
            items.append(local_video_item(ctx, generation) if kind_video else image_item(ctx, generation, index))
    return ctx.ok({"item_list": items})


def image_by_uri(ctx: Ctx, account: Account, body: dict[str, Any]) -> Response:
    """``{"uris": [...]}`` -> ``uri2image`` with fresh URLs; the singular ``uri`` is ret "1000" (5.6)."""
    if "uris" not in body:
        raise Refused("1000", f"{rets.message('1000')}: uris (a list) is required", "body_invalid")
    answer = {}
    for uri in id_list(body, "uris"):
        prefix = f"tos-cn-i-{ctx.config.service_id}/"
        found = _visible_item(ctx, account, uri.removeprefix(prefix)) if uri.startswith(prefix) else None
        if found is not None and found[0].kind != "video":
            generation, index = found
            large = image_item(ctx, generation, index, ctx.now + ctx.config.media_ttl)["image"]["large_images"][0]
            answer[uri] = {**large, "uri": records.image_uri(ctx, generation, index)}
    return ctx.ok({"uri2image": answer})
