"""The cookie APIs on jimeng.jianying.com: strict checks in the document's order, then the account calls.

Checks (each refusal an HTTP 200 envelope, section 5): common query parameters, ``Device-Time`` window and
``Sign``, the ``sessionid`` cookie (and the ``expired`` scenario), then the body.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from app.emulator import generation_api, verify
from app.emulator.context import Ctx, Refused, envelope_error, envelope_ok, json_response
from app.emulator.state import Account

PASSPORT = "/passport/account/info/v2"
COMMON_PARAMS = (
    "aid", "device_platform", "region", "webId", "da_version", "web_component_open_flag", "web_version",
    "aigc_features",
)  # fmt: skip
CHINA_OFFSET = 8 * 3600  # emulator days run from midnight Asia/Shanghai
SESSION_COOKIES = ("sessionid", "sid_tt", "sessionid_ss")

Handler = Callable[[Ctx, Account, Any], Response]


def session_id(cookie_header: str) -> str | None:
    """``sessionid``, falling back to ``sid_tt`` then ``sessionid_ss``; duplicates keep the first value."""
    cookies: dict[str, str] = {}
    for part in cookie_header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name not in cookies:
            cookies[name] = value
    return next((cookies[name] for name in SESSION_COOKIES if cookies.get(name)), None)


def _check_params(ctx: Ctx) -> None:
    args = ctx.request.args
    if ctx.config.require_common_params:
        missing = [name for name in COMMON_PARAMS if not args.get(name)]
        if missing:
            raise Refused("4002", f"missing common query parameters: {', '.join(missing)}", "params_missing")
    if args.get("aid") != ctx.config.aid:
        raise Refused("4002", f"invalid aid {args.get('aid')!r}, expected {ctx.config.aid}", "aid_invalid")


def _check_sign(ctx: Ctx) -> None:
    headers, config = ctx.request.headers, ctx.config
    device_time = headers.get("Device-Time", "")
    if not device_time.isdigit():
        raise Refused("1015", "invalid sign: Device-Time header missing or not integer seconds", "device_time")
    skew = int(device_time) - ctx.now
    if abs(skew) > config.device_time_window:
        window = config.device_time_window
        message = f"invalid sign: Device-Time is {skew:+.0f}s from server time (window {window:.0f}s)"
        raise Refused("1015", message, "device_time_skew")
    pf, appvr = headers.get("Pf", ""), headers.get("Appvr", "")
    if pf != config.pf or appvr != config.appvr:
        raise Refused("1015", f"invalid sign: unsupported Pf {pf!r} / Appvr {appvr!r}", "sign_version")
    path = ctx.request.environ.get("PATH_INFO", "")
    expected = verify.jimeng_sign(path, pf, appvr, device_time, config.sign_prefix, config.sign_suffix)
    if headers.get("Sign", "") != expected:
        raise Refused("1015", "invalid sign: Sign does not match path, Pf, Appvr and Device-Time", "sign_mismatch")


def authenticate(ctx: Ctx) -> str:
    """Run checks 1-3 and return the session id."""
    _check_params(ctx)
    _check_sign(ctx)
    session = session_id(ctx.request.headers.get("Cookie", ""))
    if not session:
        raise Refused("1015", "not logged in: sessionid cookie missing", "session_missing")
    if "expired" in session:
        raise Refused("1015", "login expired, please log in again", "session_expired")
    return session


def _json_body(ctx: Ctx) -> dict[str, Any]:
    try:
        body = json.loads(ctx.request.get_data() or b"")
    except ValueError as err:
        raise Refused("4002", f"invalid parameters: body is not valid JSON ({err})", "body_invalid") from err
    if not isinstance(body, dict):
        raise Refused("4002", "invalid parameters: body must be a JSON object", "body_invalid")
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
        return envelope_ok({"credit": dict(account.credits)})


def _credit_receive(ctx: Ctx, account: Account, body: dict[str, Any]) -> Response:
    if not isinstance(body.get("time_zone"), str):
        raise Refused("4002", "invalid parameters: time_zone must be a string", "body_invalid")
    grant = 0 if "nocredit" in account.session_id else ctx.config.daily_grant
    day = int((ctx.now + CHINA_OFFSET) // 86400)
    if not ctx.state.claim(account, day, grant):
        raise Refused("1", "daily credits already received today", "claim_repeated")
    ctx.stats.total("daily_claims")
    return envelope_ok({"cur_total_credits": account.total, "receive_quota": grant})


def _upload_token(ctx: Ctx, account: Account, body: dict[str, Any]) -> Response:
    if body.get("scene") != 2 or isinstance(body.get("scene"), bool):
        raise Refused("4002", f"invalid parameters: scene must be 2, got {body.get('scene')!r}", "body_invalid")
    expires = ctx.now + ctx.config.token_ttl
    token = ctx.state.issue_token(ctx.config.service_id, expires)
    return envelope_ok(
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


HANDLERS: dict[str, Handler] = {
    PASSPORT: _passport,
    "/commerce/v1/benefits/user_credit": _user_credit,
    "/commerce/v1/benefits/credit_receive": _credit_receive,
    "/mweb/v1/get_upload_token": _upload_token,
    "/mweb/v1/aigc_draft/generate": generation_api.submit,
    "/mweb/v1/get_history_by_ids": generation_api.history,
}


def handle(ctx: Ctx) -> Response:
    """Answer one cookie-API call (the path is one of HANDLERS and the method POST)."""
    path = ctx.request.path
    try:
        session = authenticate(ctx)
        body = None if path == PASSPORT else _json_body(ctx)
        account = ctx.state.account(session, _initial_credits(session, ctx))
        return HANDLERS[path](ctx, account, body)
    except Refused as refusal:
        ctx.refuse(refusal.reason, refusal.message)
        if path == PASSPORT:
            error = {"error_code": int(refusal.ret), "description": refusal.message}
            return json_response({"message": "error", "data": error})
        return envelope_error(refusal.ret, refusal.message)
