"""The checks every cookie-API call passes first, in order: query, version constants, Sign, session.

Strict mode (the default) models the 2026 upstream: an ``Appvr``, ``da_version`` or ``web_version`` outside
the accepted sets draws ret "3018" "permission denied" (2.1, 2.6), a wrong ``Sign`` ret "1014" (the bundle's
``sign_error``), and ``user_credit`` wants no query string and the image-generate Referer (2.3, 2.4).
Non-strict mode keeps the baseline's leniency: any version constant, wrong Sign ret "1015".
"""

from __future__ import annotations

from urllib.parse import urlsplit

from app.emulator import rets, sites, verify
from app.emulator.context import Ctx, Refused

GENERATE = "/mweb/v1/aigc_draft/generate"
HISTORY = "/mweb/v1/get_history_by_ids"
USER_CREDIT = "/commerce/v1/benefits/user_credit"
CREDIT_REFERER_PATH = "/ai-tool/image/generate"
# Set B of 2.4: what the web app sends everywhere on /mweb, and the fuller set of generate and polls.
MWEB_PARAMS = ("aid", "da_version", "web_version", "aigc_features")
FULL_PARAMS = (*MWEB_PARAMS, "device_platform", "region", "webId")
SESSION_COOKIES = ("sessionid", "sid_tt", "sessionid_ss")


def cookies(cookie_header: str) -> dict[str, str]:
    """Cookie name -> value; a duplicated name keeps its first value."""
    jar: dict[str, str] = {}
    for part in cookie_header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name not in jar:
            jar[name] = value
    return jar


def session_id(cookie_header: str) -> str | None:
    """``sessionid``, falling back to ``sid_tt`` then ``sessionid_ss``."""
    jar = cookies(cookie_header)
    return next((jar[name] for name in SESSION_COOKIES if jar.get(name)), None)


def permission_denied(reason: str) -> Refused:
    """ret "3018" with the empty generation object of 2.6, whatever the endpoint."""
    return Refused("3018", rets.message("3018"), reason, rets.generate_error_data("3018"))


def _check_query(ctx: Ctx) -> None:
    args, config, path = ctx.request.args, ctx.config, ctx.request.path
    if path.startswith("/mweb/"):
        required: tuple[str, ...] = FULL_PARAMS if path in (GENERATE, HISTORY) else MWEB_PARAMS
        if ctx.cluster != sites.CN:  # no webId abroad (9.1)
            required = tuple(name for name in required if name != "webId")
        if not (config.strict and config.require_common_params):
            required = ("aid",)
        missing = [name for name in required if not args.get(name)]
        if missing:
            raise Refused(None, f"missing query parameters: {', '.join(missing)}", "params_missing")
    cluster = sites.CLUSTERS[ctx.cluster]
    aid = cluster.aid or config.aid
    if "aid" in args and args["aid"] != aid:
        raise Refused(None, f"invalid aid {args['aid']!r}, expected {aid}", "aid_invalid")
    if not config.strict:
        return
    if args.get("region", cluster.regions[0]) not in cluster.regions:
        accepted = " or ".join(cluster.regions)
        raise Refused(None, f"invalid region {args['region']!r} ({accepted} on this host)", "region_invalid")
    if args.get("device_platform", "web") != "web":
        raise Refused(None, "device_platform must be web", "params_invalid")
    if "da_version" in args and args["da_version"] not in config.da_versions:
        raise permission_denied("da_version")
    if "web_version" in args and args["web_version"] not in config.web_versions:
        raise permission_denied("web_version")


def _check_credit_call(ctx: Ctx) -> None:
    """``user_credit``: no query string at all, Referer ``…/ai-tool/image/generate`` (2.3, 2.4, item 6)."""
    if ctx.request.query_string:
        raise Refused("1014", rets.message("1014"), "credit_query")
    if urlsplit(ctx.request.headers.get("Referer", "")).path != CREDIT_REFERER_PATH:
        raise Refused("1014", rets.message("1014"), "credit_referer")


def _check_sign(ctx: Ctx) -> None:
    headers, config = ctx.request.headers, ctx.config
    pf, appvr = headers.get("Pf", ""), headers.get("Appvr", "")
    if config.strict and appvr not in config.appvr_accepted:
        raise permission_denied("appvr")
    bad_sign = config.sign_error_ret if config.strict else "1015"
    if not bad_sign:
        return
    device_time = headers.get("Device-Time", "")
    if not device_time.isdigit():
        raise Refused(bad_sign, "invalid sign: Device-Time header missing or not integer seconds", "device_time")
    skew = int(device_time) - ctx.now
    if abs(skew) > config.device_time_window:
        window = config.device_time_window
        message = f"invalid sign: Device-Time is {skew:+.0f}s from server time (window {window:.0f}s)"
        raise Refused(bad_sign, message, "device_time_skew")
    if pf != config.pf:
        raise Refused(bad_sign, f"invalid sign: unsupported Pf {pf!r}", "sign_version")
    path = ctx.request.environ.get("PATH_INFO", "")
    tdid = headers.get("Tdid", "")
    expected = verify.jimeng_sign(path, pf, appvr, device_time, tdid, config.sign_prefix, config.sign_suffix)
    if headers.get("Sign", "") != expected:
        message = "invalid sign: Sign does not match path, Pf, Appvr, Device-Time and Tdid"
        raise Refused(bad_sign, message, "sign_mismatch")


def authenticate(ctx: Ctx) -> str:
    """Run the checks in order and return the session id."""
    _check_query(ctx)
    if ctx.config.strict and ctx.request.path == USER_CREDIT:
        _check_credit_call(ctx)
    _check_sign(ctx)
    session = session_id(ctx.request.headers.get("Cookie", ""))
    if not session:
        raise Refused("1015", "not logged in: sessionid cookie missing", "session_missing")
    if "expired" in session:
        raise Refused("1015", "login expired, please log in again", "session_expired")
    home = ctx.state.home_cluster(session, sites.home_of(session, ctx.cluster))
    if home != ctx.cluster:  # 9.1: an account must use its own cluster
        raise Refused("1015", "not logged in on this cluster", "cluster_mismatch", detail=f"account of {home}")
    return session
