"""What makes a cookie-API call acceptable to Jimeng: common query, headers, ``Sign``, and the cookie.

Protocol sections 2-4. Everything here is a pure function of its arguments (time, ids and randomness are
passed in), so the worked examples of the protocol document are unit tests, and the client can compute
``Device-Time``/``Sign``/``Cookie`` once per logical call and reuse them on retries (section 5.4).
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Iterable
from urllib.parse import quote_plus

from config.upstream import AppConstants, UpstreamConfig

WEB_ID_RANGE = (7 * 10**18, 8 * 10**18)  # [4.2] 19 decimal digits starting with 7
PASSPORT_EXTRA: tuple[tuple[str, str], ...] = (("account_sdk_source", "web"),)  # [2] session check only

_SYSTEM_RANDOM = random.SystemRandom()


def sign(path: str, device_time: str, *, pf: str, appvr: str, prefix_salt: str, suffix_salt: str) -> str:
    """The ``Sign`` header (3.2): MD5 over the path's last 7 characters, platform, version and time.

    The empty field before the suffix salt (``||``) is part of the recipe, not a typo.
    """
    raw = f"{prefix_salt}|{path[-7:]}|{pf}|{appvr}|{device_time}||{suffix_salt}"
    return hashlib.md5(raw.encode("ascii"), usedforsecurity=False).hexdigest()


def new_web_id(rng: random.Random = _SYSTEM_RANDOM) -> str:
    """A fresh ``_tea_web_id``/``webId`` (4.2): any 19-digit decimal in [7e18, 8e18)."""
    low, high = WEB_ID_RANGE
    return str(rng.randrange(low, high))


def new_user_id() -> str:
    """A fresh ``uid_tt`` (4.2): a version-1 UUID as 32 hex characters.

    The node is random (multicast bit set, as RFC 4122 asks) so the id does not leak this host's MAC address.
    """
    node = _SYSTEM_RANDOM.getrandbits(48) | 0x010000000000
    return uuid.uuid1(node=node).hex


def sid_guard(sessionid: str, *, now: int, max_age: int, expires: str) -> str:
    """The ``sid_guard`` cookie value (4.3): ``sessionid|issued|max-age|expires``, form-encoded."""
    return quote_plus(f"{sessionid}|{now}|{max_age}|{expires}")


def cookie_header(sessionid: str, *, web_id: str, user_id: str, now: int, max_age: int, expires: str) -> str:
    """The ``Cookie`` header (4.1): 11 cookies in the reference's order, duplicate ``sid_tt`` included.

    Only the sessionid carries identity; it goes in verbatim (neither encoded nor trimmed).
    """
    cookies = [
        ("_tea_web_id", web_id),
        ("is_staff_user", "false"),
        ("store-region", "cn-gd"),
        ("store-region-src", "uid"),
        ("sid_guard", sid_guard(sessionid, now=now, max_age=max_age, expires=expires)),
        ("uid_tt", user_id),
        ("uid_tt_ss", user_id),
        ("sid_tt", sessionid),
        ("sessionid", sessionid),
        ("sessionid_ss", sessionid),
        ("sid_tt", sessionid),
    ]
    return "; ".join(f"{name}={value}" for name, value in cookies)


def common_params(
    app: AppConstants, web_id: str, extra: Iterable[tuple[str, str]] | None = None
) -> list[tuple[str, str]]:
    """The 8 common query parameters in order (section 2), merged with per-call ones.

    A per-call parameter with a common name replaces the value in place (the video ``web_version``);
    any other is appended (``babi_param``, ``account_sdk_source``).
    """
    params = [
        ("aid", str(app.aid)),
        ("device_platform", app.device_platform),
        ("region", app.region),
        ("webId", web_id),
        ("da_version", app.da_version),
        ("web_component_open_flag", app.web_component_open_flag),
        ("web_version", app.web_version),
        ("aigc_features", app.aigc_features),
    ]
    for name, value in extra or ():
        index = next((i for i, (known, _) in enumerate(params) if known == name), None)
        if index is None:
            params.append((name, value))
        else:
            params[index] = (name, value)
    return params


def babi_param(model_key: str) -> str:
    """The image drafts' ``babi_param`` as compact JSON (section 2).

    Returned unencoded: the HTTP library percent-encodes it once, the normal form of a query value. The
    reference's double encoding is a quirk (15.12) we do not copy.
    """
    value = {
        "scenario": "image_video_generation",
        "feature_key": "aigc_to_image",
        "feature_entrance": "to_image",
        "feature_entrance_detail": f"to_image-{model_key}",
    }
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def signed_headers(
    upstream_config: UpstreamConfig, path: str, *, device_time: str, cookie: str, referer: str | None = None
) -> dict[str, str]:
    """The full header set of one cookie-API call (3.1) with ``Device-Time``, ``Sign`` and ``Cookie``.

    ``Pf`` and ``Appvr`` are taken from the ``sign`` section so the headers always match what was signed
    (the upstream recomputes ``Sign`` from them).
    """
    sign_config = upstream_config.sign
    headers = dict(upstream_config.headers)
    headers["Pf"] = sign_config.pf
    headers["Appvr"] = sign_config.appvr
    if referer is not None:
        headers["Referer"] = referer
    headers["Cookie"] = cookie
    headers["Device-Time"] = device_time
    headers["Sign"] = sign(
        path,
        device_time,
        pf=sign_config.pf,
        appvr=sign_config.appvr,
        prefix_salt=sign_config.prefix_salt,
        suffix_salt=sign_config.suffix_salt,
    )
    headers.setdefault("Sign-Ver", "1")
    return headers
