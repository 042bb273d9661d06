"""What a Bearer token names: ``[<proxy URL>@][us-|hk-|jp-|sg-]<sessionid>``.

The region prefix (case-insensitive, no prefix = CN) picks the site the session belongs to (Jimeng in China,
Dreamina's US cluster, or its Singapore cluster for HK/JP/SG); a session is only ever used with its own
region. A proxy URL before the **last** ``@`` sends that session's calls (cookie API, ImageX uploads, result
downloads) through it, as the peers do. The whole token stays the session's name everywhere in the domain (the
pool, the ledger's digest, the caches); only the upstream client splits it, with ``parse_token``.

A proxy URL is a secret like the session id: ``shown_proxy`` is the only form that may appear in a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from urllib.parse import urlsplit

from app.domain.errors import MissingSessionError
from app.secrets import mask, mask_url

PROXY_SCHEMES = ("http", "https", "socks4", "socks5", "socks5h", "socks")


class Region(StrEnum):
    CN = "cn"
    US = "us"
    HK = "hk"
    JP = "jp"
    SG = "sg"

    @property
    def label(self) -> str:
        """How messages name it: ``CN``, ``US`` ..."""
        return self.value.upper()


_PREFIXES = {f"{region.value}-": region for region in Region if region is not Region.CN}


@dataclass(frozen=True)
class Credential:
    """One token split: the bare session id (the cookie), its region and its proxy ("" for none)."""

    session_id: str
    region: Region
    proxy: str = ""


@lru_cache(maxsize=4096)
def parse_token(token: str) -> Credential:
    """Split a token; MissingSessionError (401) when its proxy part or its session id cannot be used."""
    proxy, rest = "", token
    head, at, tail = token.rpartition("@")
    if at and "://" in head:
        proxy, rest = check_proxy(head, where="the token's proxy"), tail
    region = _PREFIXES.get(rest[:3].lower(), Region.CN)
    session_id = rest[3:] if region is not Region.CN else rest
    if not session_id:
        raise MissingSessionError("Authorization holds a region prefix or proxy without a session id after it")
    return Credential(session_id=session_id, region=region, proxy=proxy)


def check_proxy(url: str, *, where: str) -> str:
    """A proxy URL as ``requests`` takes it (``scheme://[user:pass@]host:port``); the error never quotes it."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme.lower() not in PROXY_SCHEMES or not parts.hostname or port is None:
        schemes = ", ".join(f"{scheme}://" for scheme in PROXY_SCHEMES)
        raise MissingSessionError(f"{where} must be {{{schemes}}}[user:password@]host:port")
    if parts.scheme.lower() == "socks":  # the peers' spelling; requests knows it as socks5
        return "socks5" + url[len(parts.scheme) :]
    return url


def shown_proxy(url: str) -> str:
    """The proxy as a message may show it: scheme, masked user and password, host and port."""
    parts = urlsplit(url)
    masked = mask_url(url)
    if parts.username:
        masked = masked.replace(f"{parts.username}:", f"{mask(parts.username)}:", 1)
    return masked


def region_of(token: str) -> Region:
    """The region of a token, CN when it cannot be parsed (callers that must refuse use ``parse_token``)."""
    try:
        return parse_token(token).region
    except MissingSessionError:
        return Region.CN
