"""Masking of session ids, keys and URL passwords: pure, so every layer can mask a secret without Flask."""

from __future__ import annotations

from urllib.parse import unquote, unquote_plus, urlsplit


def mask(secret: str) -> str:
    """``…last4`` for ids long enough that 4 characters reveal nothing; ``…`` otherwise."""
    return f"…{secret[-4:]}" if len(secret) > 8 else "…"


def url_passwords(url: str) -> set[str]:
    """The password a URL carries (``scheme://user:password@host`` or ``?password=``), as written and
    percent-decoded; empty when it has none."""
    parts = urlsplit(url)
    try:
        written = {parts.password or ""}
    except ValueError:  # a malformed netloc: nothing trustworthy to extract
        written = set()
    pairs = (pair.partition("=") for pair in parts.query.split("&"))
    written |= {value for key, _, value in pairs if unquote_plus(key) == "password"}
    return {form for raw in written for form in (raw, unquote(raw), unquote_plus(raw))} - {""}


def mask_url(url: str) -> str:
    """The URL with its password masked (``redis://:…cret@host:6379/0``), safe for logs and messages."""
    text = url
    for secret in sorted(url_passwords(url), key=len, reverse=True):
        text = text.replace(secret, mask(secret))
    return text


def token_secrets(token: str) -> set[str]:
    """What of a Bearer token must never be logged: the token, and when it carries a proxy URL before its last
    ``@`` (``http://user:pass@host:port@us-<sessionid>``), the proxy URL, its password and the part after it."""
    found = {token}
    head, at, tail = token.rpartition("@")
    if at and "://" in head:
        found |= {head, tail} | url_passwords(head)
    return found - {""}
