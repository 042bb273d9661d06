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
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FetchError(Exception):
    """Why one URL could not be fetched; becomes ``image_fetch_failed`` with the URL and this reason."""


def address_refusal(address: str) -> str | None:
    """Why an address must not be fetched from ("a private address 10.0.0.1"), or None if it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    for flag in _GUARDED:
        if getattr(ip, f"is_{flag}"):
            return f"{'an' if flag[0] == 'u' else 'a'} {flag.replace('_', '-')} address {ip}"
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
