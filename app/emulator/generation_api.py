"""``aigc_draft/generate`` (submit a draft, charge credits) and ``get_history_by_ids`` (poll)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from app.emulator import drafts, records, tables
from app.emulator.context import Ctx, Refused, envelope_ok
from app.emulator.markers import Markers, parse_markers, prompt_image_count
from app.emulator.state import Account, Generation
from app.emulator.timeline import Snapshot

DEFAULT_ITEMS = 4
KINDS = {"generate": "image", "blend": "blend", "gen_video": "video"}
RET_MESSAGES = {
    "4001": "content violates the community rules",
    "5000": "not enough credits",
    "3018": "permission denied",
    "1015": "login expired, please log in again",
}


def _item_count(spec: drafts.DraftSpec, markers: Markers, max_items: int) -> int:
    if spec.kind == "gen_video":
        return 1
    wanted = markers.items
    if wanted is None and spec.kind == "generate" and spec.model == tables.MULTI_IMAGE_MODEL:
        wanted = prompt_image_count(spec.prompt)
    return DEFAULT_ITEMS if wanted is None else max(1, min(wanted, max_items))


def _fail_code(session: str, markers: Markers) -> str:
    if markers.fail_code is not None:
        return markers.fail_code
    return "2038" if "filtered" in session else ""


def _builder(ctx: Ctx, account: Account, spec: drafts.DraftSpec, markers: Markers) -> Any:
    config = ctx.config
    seconds = markers.seconds
    if seconds is None:
        seconds = config.video_seconds if spec.kind == "gen_video" else config.image_seconds
    if "slow" in account.session_id:
        seconds *= 3
    hash_ok = spec.hash_prefix == 2 * len(spec.image_uris) if spec.kind == "blend" else None

    def build(history_id: str) -> Generation:
        return Generation(
            history_id=history_id,
            submit_id=spec.submit_id,
            session_id=account.session_id,
            kind=KINDS[spec.kind],
            model=spec.model,
            created=ctx.now,
            duration=seconds,
            items=_item_count(spec, markers, config.max_items),
            width=spec.width,
            height=spec.height,
            fail_code=_fail_code(account.session_id, markers),
            invisible_polls=markers.invisible_polls,
            duration_ms=spec.duration_ms,
            hash_prefix_ok=hash_ok,
            image_uris=spec.image_uris,
        )

    return build


def submit(ctx: Ctx, account: Account, body: Any) -> Response:
    """Validate the draft, honour a ``[ret=CODE]`` marker, charge credits, create the generation."""
    try:
        spec = drafts.parse_generate(body, ctx.state.is_committed)
    except drafts.DraftError as err:
        raise Refused("4002", f"invalid parameters: {err}", "draft_invalid") from err
    markers = parse_markers(spec.prompt)
    if markers.ret is not None:
        message = RET_MESSAGES.get(markers.ret, "request refused (emulated)")
        raise Refused(markers.ret, message, "ret_marker")
    cost = ctx.config.video_cost if spec.kind == "gen_video" else ctx.config.image_cost
    generation = ctx.state.submit(account, cost, _builder(ctx, account, spec, markers))
    if generation is None:
        message = f"not enough credits: balance {account.total}, this draft costs {cost}"
        raise Refused("5000", message, "credits_insufficient")
    ctx.stats.total("generations_created")
    ctx.stats.total("credits_charged", cost)
    aigc_data = {"history_record_id": generation.history_id, "submit_id": spec.submit_id, "status": 20}
    return envelope_ok({"aigc_data": aigc_data})


def _id_list(body: dict[str, Any], key: str) -> list[str]:
    ids = body.get(key)
    if ids is None:
        return []
    if not isinstance(ids, list) or not all(isinstance(item, str) and item for item in ids):
        raise Refused("4002", f"invalid parameters: {key} must be a list of non-empty strings", "body_invalid")
    return ids


def _check_history_body(body: dict[str, Any]) -> None:
    for key in ("image_info", "http_common_info"):
        if key in body and not isinstance(body[key], dict):
            raise Refused("4002", f"invalid parameters: {key} must be an object", "body_invalid")
    if "need_batch" in body and not isinstance(body["need_batch"], bool):
        raise Refused("4002", "invalid parameters: need_batch must be a boolean", "body_invalid")


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
    """Records keyed by each id asked for; other accounts' and unknown ids are simply absent (11.8)."""
    history_ids, submit_ids = _id_list(body, "history_ids"), _id_list(body, "submit_ids")
    _check_history_body(body)
    if not history_ids and not submit_ids:
        raise Refused("4002", "invalid parameters: history_ids or submit_ids required", "body_invalid")
    session = account.session_id
    asked = [(key, ctx.state.find(session, history_id=key)) for key in history_ids]
    asked += [(key, ctx.state.find(session, submit_id=key)) for key in submit_ids]
    found = {generation.history_id: generation for _, generation in asked if generation is not None}
    snaps = {history_id: _poll(ctx, generation) for history_id, generation in found.items()}
    data = {}
    for key, generation in asked:
        snap = snaps.get(generation.history_id) if generation else None
        if generation is not None and snap is not None:
            data[key] = records.history_record(ctx, generation, snap)
    return envelope_ok(data)
