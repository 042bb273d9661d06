"""The address guard of user-supplied URLs (SSRF): which addresses may be fetched from, and connecting to
exactly the address that was checked. ``FetchError`` lives here because the guard is where fetching first
refuses a URL."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import requests
from requests.adapters import HTTPAdapter

_GUARDED = ("unspecified", "loopback", "link_local", "multicast", "private", "reserved")  # ipaddress's is_* flags
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local use, where the IPv4 sits varies
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")  # RFC 3056: the IPv4 address is bits 16-47
_TEREDO = ipaddress.ip_network("2001::/32")  # RFC 4380: server IPv4 in bits 32-63, client IPv4 inverted at the end
_SIX_TO_FOUR_RELAY = ipaddress.ip_network("192.88.99.0/24")  # RFC 7526: deprecated 6to4 relay anycast


class FetchError(Exception):
    """Why one URL could not be fetched; becomes ``image_fetch_failed`` with the URL and this reason."""


def address_refusal(address: str) -> str | None:
    """Why an address must not be fetched from ("a private address 10.0.0.1"), or None if it is public.

    IPv6 forms that carry an IPv4 address are judged by it: IPv4-mapped, NAT64 (``64:ff9b::/96``) and 6to4
    (``2002::/16``, allowed only when the embedded address is public). Teredo (``2001::/32``, a tunnel to a
    host behind NAT), local-use NAT64 (``64:ff9b:1::/48``), site-local ``fec0::/10`` and the deprecated 6to4
    relay anycast ``192.88.99.0/24`` are refused whatever they embed.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        elif ip in _SIX_TO_FOUR and ip.sixtofour is not None:
            embedded = _refusal(ip.sixtofour)
            return f"a 6to4 address {ip} embedding {embedded}" if embedded else None
        elif ip in _TEREDO and ip.teredo is not None:
            server, client = ip.teredo
            embedded = _refusal(server) or _refusal(client)
            return f"a Teredo address {ip}" + (f" embedding {embedded}" if embedded else "")
        elif ip in _LOCAL_NAT64:
            return f"a local-use NAT64 address {ip}"
        elif ip.is_site_local:
            return f"a site-local address {ip}"
    return _refusal(ip)


def _refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    for flag in _GUARDED:
        if getattr(ip, f"is_{flag}"):
            return f"{'an' if flag[0] == 'u' else 'a'} {flag.replace('_', '-')} address {ip}"
    if ip in _SIX_TO_FOUR_RELAY:
        return f"a 6to4 relay address {ip}"
    return None if ip.is_global else f"a non-public address {ip}"  # 100.64/10 (CGNAT) and the like


def resolve(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to; every address of the name must pass the guard, not just the first."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise FetchError("the host name does not resolve") from err
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private:
        for address in addresses:
            if reason := address_refusal(address):
                raise FetchError(f"resolves to {reason}")
    return addresses[0]


class PinnedAdapter(HTTPAdapter):
    """Connects to one already-checked address whatever the URL's name resolves to now."""

    def __init__(self, address: str) -> None:
        super().__init__(max_retries=0)
        self._address = address

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        name = host_params["host"]
        if host_params["scheme"] == "https":  # SNI and the certificate check still use the name
            pool_kwargs = {**pool_kwargs, "server_hostname": name, "assert_hostname": name}
        return {**host_params, "host": self._address}, pool_kwargs
