"""``Authorization: Bearer a,b,c`` -> the request's session pool.

Without ``API_KEYS`` the Bearer list *is* the pool of Jimeng session ids. With ``API_KEYS`` the Bearer is
an API key (compared in constant time) and the pool is the server's ``JIMENG_SESSION_IDS``, which never
leave the server.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from flask import Request

from app.domain.errors import InvalidApiKeyError, MissingSessionError, TooManySessionsError
from app.domain.tokens import parse_token
from app.logging import register_secret
from app.secrets import token_secrets
from config.settings import Settings

_SCHEME = "bearer"
# RFC 6265 cookie-octets: a sessionid travels verbatim in the Cookie header, so nothing else can be one
_COOKIE_SAFE = re.compile(r"^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]{1,512}$")


def is_cookie_safe(token: str) -> bool:
    return bool(_COOKIE_SAFE.match(token))


def parse_bearer(header: str | None, limit: int | None = None) -> list[str]:
    """Ordered, de-duplicated, trimmed tokens of a Bearer header; MissingSessionError when there are none,
    TooManySessionsError when there are more than ``limit``."""
    if not header or not header.strip():
        raise MissingSessionError("Missing Authorization header; send 'Authorization: Bearer <sessionid>'")
    value = header.strip()
    scheme, separator, rest = value.partition(" ")
    if separator and scheme.lower() == _SCHEME:
        credentials = rest
    elif not separator and value.lower() != _SCHEME:
        credentials = value  # a bare token, as some tools send it
    elif separator:
        raise MissingSessionError("Authorization must be 'Bearer <sessionid>[,<sessionid>...]'")
    else:
        credentials = ""
    tokens = list(dict.fromkeys(t.strip() for t in credentials.split(",") if t.strip()))
    if not tokens:
        raise MissingSessionError("Authorization header holds no session id; send 'Bearer <sessionid>'")
    if limit is not None and len(tokens) > limit:
        raise TooManySessionsError(
            f"Authorization holds {len(tokens)} session ids; at most {limit} are allowed per request",
            param="Authorization",
        )
    if not all(is_cookie_safe(token) for token in tokens):
        raise MissingSessionError("Authorization holds a value that cannot be a Jimeng sessionid (cookie-safe ASCII)")
    for token in tokens:
        parse_token(token)  # [proxy@][region-]sessionid: a bad proxy part is a 401 naming the form, not the value
    return tokens


def is_known_key(candidate: str, keys: tuple[str, ...]) -> bool:
    """Constant-time membership: every key is compared, so timing does not tell how close a guess was."""
    found = False
    for key in keys:
        found |= hmac.compare_digest(candidate.encode(), key.encode())
    return found


def caller_scope(request: Request, settings: Settings) -> str:
    """A name for the caller's credentials that reveals nothing of them: whose Idempotency-Keys these are."""
    tokens = parse_bearer(request.headers.get("Authorization"), settings.max_sessions_per_request)
    credentials = tokens[0] if settings.api_key_mode else ",".join(sorted(tokens))
    return hashlib.sha256(f"jimeng-api caller {credentials}".encode()).hexdigest()[:32]


def session_pool(request: Request, settings: Settings) -> list[str]:
    """The sessions this request may use. Bearer mode: the header's ids, registered for log masking (they
    are used: sent to Jimeng). API-key mode: the server's own (registered at start-up); a key, right or
    wrong, is never registered (a wrong one is masked by its place after ``Bearer``)."""
    tokens = parse_bearer(request.headers.get("Authorization"), settings.max_sessions_per_request)
    if settings.api_key_mode:
        if len(tokens) != 1 or not is_known_key(tokens[0], settings.api_keys):
            raise InvalidApiKeyError("Invalid API key")
        return list(settings.jimeng_session_ids)
    for token in tokens:
        for secret in token_secrets(token):
            register_secret(secret)
    return tokens
