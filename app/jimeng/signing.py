"""What makes a cookie-API call acceptable to Jimeng: the query string, headers, ``Sign``, and the cookie.

2026 protocol section 2. Everything here is a pure function of its arguments (time and the account are passed
in), so the worked examples of the protocol notes are unit tests, and the client can compute
``Device-Time``/``Sign``/``Cookie`` once per logical call and reuse them on retries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from urllib.parse import urlsplit

from config.upstream import CallConfig, RegionConfig, UpstreamConfig

WEB_ID_SALT = b"jimeng-api webId\x00"  # keeps the webId apart from any other hash of the session id


def sign(path: str, device_time: str, *, pf: str, appvr: str, tdid: str, prefix_salt: str, suffix_salt: str) -> str:
    """The ``Sign`` header (2026 2.2): MD5 over the path's last 7 characters, platform, version, time and tdid.

    ``path`` is the URL path only, as sent; the query string, body and cookies are not signed. The baseline's
    "empty field" before the suffix salt is ``tdid``, which the web app sends empty.
    """
    raw = f"{prefix_salt}|{path[-7:]}|{pf}|{appvr}|{device_time}|{tdid}|{suffix_salt}"
    return hashlib.md5(raw.encode("ascii"), usedforsecurity=False).hexdigest()


def web_id_for(session_id: str) -> str:
    """The account's ``webId`` (2026 2.5): 19 decimal digits starting with 7, derived from the session id.

    One stable value per account for its life, as the web app has (a random one per process is a fingerprint
    risk, and an imported cookie jar whose ``_tea_web_id`` differs from ``webId`` draws ret 4013). The hash is
    one-way, so neither the query string nor the cookie reveals more than the session id already does.
    """
    digest = hashlib.sha256(WEB_ID_SALT + session_id.encode("utf-8")).digest()
    return "7" + f"{int.from_bytes(digest[:16], 'big') % 10**18:018d}"


def cookie_header(session_id: str, *, web_id: str, cookies: Mapping[str, str]) -> str:
    """The ``Cookie`` header: the configured cookies in order, ``{session_id}``/``{web_id}`` filled in.

    The session id goes in verbatim (neither encoded nor trimmed): it is the only identity Jimeng reads.
    """
    values = {"session_id": session_id, "web_id": web_id}
    return "; ".join(f"{name}={template.format_map(values)}" for name, template in cookies.items())


def query_params(
    config: UpstreamConfig, call: CallConfig, web_id: str, *, region: RegionConfig | None = None
) -> list[tuple[str, str]]:
    """The query string of ``call`` (2026 2.4): its set's parameters, in the set's order. With a ``region``
    (9.1): its ``aid`` and ``region`` value, and no ``webId`` where the site sends none."""
    aid = region.aid if region is not None else config.app.aid
    filled = {"aid": str(aid), "webId": web_id}
    values = dict(config.query.values)
    if region is not None:
        values["region"] = region.region
    names = config.query.sets[call.query]
    if region is not None and not region.web_id_query:
        names = tuple(name for name in names if name != "webId")
    return [(name, filled[name] if name in filled else values[name]) for name in names]


def referer(call: CallConfig, region: RegionConfig | None) -> str:
    """The call's Referer, on the site's own origin (``https://dreamina.capcut.com/ai-tool/...`` abroad)."""
    if region is None:
        return call.referer
    parts = urlsplit(call.referer)
    return region.web_origin + parts.path + (f"?{parts.query}" if parts.query else "")


def region_headers(region: RegionConfig, web_id: str) -> dict[str, str]:
    """The headers that differ per site (2026 9.2): Appid, Loc, Lan, Origin and, abroad, the store country and
    the web id as ``did``."""
    headers = {"Appid": str(region.aid), "Loc": region.loc, "Lan": region.lan, "Origin": region.web_origin}
    if region.store_country_code:
        headers |= {
            "store-country-code": region.store_country_code,
            "store-country-code-src": "uid",
            "did": web_id,
        }
    return headers


def signed_headers(
    config: UpstreamConfig,
    call: CallConfig,
    *,
    device_time: str,
    cookie: str,
    region: RegionConfig | None = None,
    web_id: str = "",
) -> dict[str, str]:
    """The full header set of one cookie-API call (2026 2.3) with ``Device-Time``, ``Sign`` and ``Cookie``.

    ``Appid``, ``Pf``, ``Appvr`` and ``Tdid`` are taken from the sections the signature is computed from, so
    the headers always match what was signed (the upstream recomputes ``Sign`` from them). A ``region``
    replaces the CN site's headers with its own (9.2).
    """
    recipe = config.sign
    headers = dict(config.headers)
    headers |= {"Appid": str(config.app.aid), "Pf": recipe.pf, "Appvr": recipe.appvr, "Tdid": recipe.tdid}
    if region is not None:
        headers |= region_headers(region, web_id)
    headers |= {"Referer": referer(call, region), "Cookie": cookie, "Device-Time": device_time}
    headers["Sign"] = sign(
        call.path,
        device_time,
        pf=recipe.pf,
        appvr=recipe.appvr,
        tdid=recipe.tdid,
        prefix_salt=recipe.prefix_salt,
        suffix_salt=recipe.suffix_salt,
    )
    headers.setdefault("Sign-Ver", "1")
    return headers
