"""The cookie APIs on jimeng.jianying.com: the gate's checks, then the account calls and the routing table.

Every refusal is an HTTP 200 envelope with a string ``ret``; the passport call answers passport style.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from app.emulator import common_config, gate, generation_api, history_api, rets, sites
from app.emulator.context import Ctx, Refused, json_response, refusal_response
from app.emulator.state import Account

PASSPORT = "/passport/account/info/v2"
INTL_SPACE = "wopfjsm1ax"
CREDIT_HISTORY_PAGE = 20

Handler = Callable[[Ctx, Account, Any], Response]


def _json_body(ctx: Ctx) -> dict[str, Any]:
    try:
        body = json.loads(ctx.request.get_data() or b"")
    except ValueError as err:
        raise Refused(None, f"invalid parameters: body is not valid JSON ({err})", "body_invalid") from err
    if not isinstance(body, dict):
        raise Refused(None, "invalid parameters: body must be a JSON object", "body_invalid")
    return body


def _initial_credits(session: str, ctx: Ctx) -> Callable[[], dict[str, int]]:
    config = ctx.config
    if "nocredit" in session or "zerocredit" in session:
        return lambda: {"gift_credit": 0, "purchase_credit": 0, "vip_credit": 0}
    return lambda: {
        "gift_credit": config.initial_gift_credit,
        "purchase_credit": config.initial_purchase_credit,
        "vip_credit": config.initial_vip_credit,
    }


def _passport(ctx: Ctx, account: Account, _: Any) -> Response:
    user = {"user_id": account.user_id, "user_id_str": str(account.user_id), "name": "emulated user",
            "screen_name": "emulated user"}  # fmt: skip
    return json_response({"message": "success", "data": user})


def _user_credit(ctx: Ctx, account: Account, _: Any) -> Response:
    with ctx.state.lock:
        return ctx.ok({"credit": dict(account.credits)})


def _credit_receive(ctx: Ctx, account: Account, body: dict[str, Any]) -> Response:
    if not isinstance(body.get("time_zone"), str):
        raise Refused(None, "invalid parameters: time_zone must be a string", "body_invalid")
    grant = 0 if "nocredit" in account.session_id else ctx.config.daily_grant
    if not ctx.state.claim(account, ctx.day, grant):
        raise Refused("1", "daily credits already received today", "claim_repeated")
    ctx.stats.total("daily_claims")
    return ctx.ok({"cur_total_credits": account.total, "receive_quota": grant})


def _credit_history(ctx: Ctx, account: Account, body: dict[str, Any]) -> Response:
    """Spent credits per job, newest first, once the job ended + ``credit_history_delay`` (5.7)."""
    count, cursor = body.get("count", CREDIT_HISTORY_PAGE), str(body.get("cursor", "0"))
    if type(count) is not int or count < 1 or not cursor.isdigit():
        raise Refused(
            None, "invalid parameters: count must be a positive number, cursor a number string", "body_invalid"
        )
    settled = [
        (ready, g) for g in ctx.state.of_session(account.session_id)
        if (ready := g.ready) is not None and ctx.now >= ready + ctx.config.credit_history_delay
    ]  # fmt: skip
    settled.sort(key=lambda pair: pair[0], reverse=True)
    start = int(cursor)
    page = settled[start : start + count]
    entries = [{"amount": g.charged, "create_time": int(ready), "title": "视频生成" if g.kind == "video" else "图片生成",
                "submit_id": g.submit_id, "history_id": g.history_id, "status": 1} for ready, g in page]  # fmt: skip
    return ctx.ok({"total_credit": account.total, "records": entries, "new_cursor": str(start + len(page)),
                   "has_more": start + len(page) < len(settled)})  # fmt: skip


def _update_settings(ctx: Ctx, account: Account, body: dict[str, Any]) -> Response:
    """Stores ``custom_settings``; ``aigc_compliance_confirmed: true`` lifts the 4010 of checklist 22."""
    settings = body.get("custom_settings")
    if not isinstance(settings, dict):
        raise Refused(None, "invalid parameters: custom_settings must be an object", "body_invalid")
    with ctx.state.lock:
        account.settings.update(settings)
        if settings.get("aigc_compliance_confirmed") is True:
            account.compliance_confirmed = True
    return ctx.ok({})


def _upload_token(ctx: Ctx, account: Account, body: dict[str, Any]) -> Response:
    if body.get("scene") != 2 or isinstance(body.get("scene"), bool):
        raise Refused(None, f"invalid parameters: scene must be 2, got {body.get('scene')!r}", "body_invalid")
    expires = ctx.now + ctx.config.token_ttl
    service_id = ctx.config.service_id if ctx.cluster == "cn" else INTL_SPACE  # 9.3: space_name abroad
    token = ctx.state.issue_token(service_id, expires)
    return ctx.ok(
        {
            "access_key_id": token.access_key,
            "secret_access_key": token.secret_key,
            "session_token": token.session_token,
            "service_id": token.service_id,
            "space_name": token.service_id,
            "current_time": int(ctx.now),
            "expired_time": int(expires),
        }
    )


def _workspaces(ctx: Ctx, account: Account, _: Any) -> Response:
    """``workspace/list`` (9.3): the account's one workspace on this cluster, whose id drafts carry abroad."""
    workspace = {"workspace_id": sites.workspace_id(ctx.cluster, account.session_id), "name": "My workspace"}
    return ctx.ok({"workspaces": [workspace]})


HANDLERS: dict[str, Handler] = {
    PASSPORT: _passport,
    "/commerce/v1/benefits/user_credit": _user_credit,
    "/commerce/v1/benefits/credit_receive": _credit_receive,
    "/commerce/v1/benefits/user_credit_history": _credit_history,
    "/mweb/v1/get_upload_token": _upload_token,
    "/mweb/v1/update_settings": _update_settings,
    sites.WORKSPACE_LIST: _workspaces,
    "/mweb/v1/aigc_draft/generate": generation_api.submit,
    "/mweb/v1/get_history_by_ids": history_api.history,
    "/mweb/v1/get_history_queue_info": history_api.queue_info,
    "/mweb/v1/get_local_item_list": history_api.local_items,
    "/mweb/v1/get_image_by_uri": history_api.image_by_uri,
    "/mweb/v1/get_common_config": common_config.image_config,
    "/mweb/v1/video_generate/get_common_config": common_config.video_config,
}


def handle(ctx: Ctx) -> Response:
    """Answer one cookie-API call (the path is one of HANDLERS and the method POST)."""
    path = ctx.request.path
    try:
        session = gate.authenticate(ctx)
        body = None if path == PASSPORT else _json_body(ctx)
        account = ctx.state.account(session, _initial_credits(session, ctx))
        response = HANDLERS[path](ctx, account, body)
        ctx.stats.served(ctx.cluster, session)
        return response
    except Refused as refusal:
        ctx.refuse(refusal.reason, refusal.detail)
        if path == PASSPORT:
            code = int(refusal.ret or ctx.invalid_ret())
            return json_response({"message": "error", "data": {"error_code": code, "description": refusal.message}})
        if path == gate.GENERATE and refusal.data is None:  # generate errors always carry it (2.6)
            refusal.data = rets.generate_error_data(refusal.ret or ctx.invalid_ret())
        return refusal_response(ctx, refusal)
