"""The SSRF address guard: every kind of non-public address is refused, with a reason naming it."""

from __future__ import annotations

import pytest

from app.inputs import guard


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("10.1.2.3", "a private address 10.1.2.3"),
        ("172.16.0.1", "a private address 172.16.0.1"),
        ("192.168.1.1", "a private address 192.168.1.1"),
        ("127.0.0.1", "a loopback address 127.0.0.1"),
        ("127.8.9.10", "a loopback address 127.8.9.10"),
        ("::1", "a loopback address ::1"),
        ("fe80::1", "a link-local address fe80::1"),
        ("fe80::1%eth0", "a link-local address fe80::1"),
        ("169.254.169.254", "a link-local address 169.254.169.254"),
        ("::ffff:127.0.0.1", "a loopback address 127.0.0.1"),
        ("::ffff:10.0.0.1", "a private address 10.0.0.1"),
        ("64:ff9b::a00:1", "a private address 10.0.0.1"),
        ("0.0.0.0", "an unspecified address 0.0.0.0"),
        ("::", "an unspecified address ::"),
        ("224.0.0.1", "a multicast address 224.0.0.1"),
        ("ff02::1", "a multicast address ff02::1"),
        ("100.64.0.1", "a non-public address 100.64.0.1"),
        ("fc00::1", "a private address fc00::1"),
        ("240.0.0.1", "a private address 240.0.0.1"),
        # 6to4 (2002::/16) is judged by the IPv4 address in bits 16-47
        ("2002:7f00:1::1", "a 6to4 address 2002:7f00:1::1 embedding a loopback address 127.0.0.1"),
        ("2002:a00:1::1", "a 6to4 address 2002:a00:1::1 embedding a private address 10.0.0.1"),
        ("2002:a9fe:a9fe::", "a 6to4 address 2002:a9fe:a9fe:: embedding a link-local address 169.254.169.254"),
        ("2002:6440:1::1", "a 6to4 address 2002:6440:1::1 embedding a non-public address 100.64.0.1"),
        ("2002:c058:6301::1", "a 6to4 address 2002:c058:6301::1 embedding a 6to4 relay address 192.88.99.1"),
        ("2002:808:808::1", None),
        # Teredo (2001::/32): refused whatever it carries, naming the server (bits 32-63) or the client (the
        # inverted last 32 bits) when either is not public
        ("2001:0:7f00:1::1", "a Teredo address 2001:0:7f00:1::1 embedding a loopback address 127.0.0.1"),
        (
            "2001:0:808:808::f5ff:fffe",
            "a Teredo address 2001:0:808:808::f5ff:fffe embedding a private address 10.0.0.1",
        ),
        ("2001:0:808:808::f7f7:f7f7", "a Teredo address 2001:0:808:808::f7f7:f7f7"),
        # NAT64: the well-known prefix is judged by its IPv4 address; the local-use prefix is refused
        ("64:ff9b::7f00:1", "a loopback address 127.0.0.1"),
        ("64:ff9b::a9fe:a9fe", "a link-local address 169.254.169.254"),
        ("64:ff9b::808:808", None),
        ("64:ff9b:1::a00:1", "a local-use NAT64 address 64:ff9b:1::a00:1"),
        ("64:ff9b:1:ffff::808:808", "a local-use NAT64 address 64:ff9b:1:ffff::808:808"),
        # site-local (deprecated, still routed inside some networks) and the deprecated 6to4 relay anycast
        ("fec0::1", "a site-local address fec0::1"),
        ("feff:ffff::1", "a site-local address feff:ffff::1"),
        ("192.88.99.1", "a 6to4 relay address 192.88.99.1"),
        ("::ffff:192.88.99.1", "a 6to4 relay address 192.88.99.1"),
        ("93.184.216.34", None),
        ("2606:2800:220:1::", None),
        ("8.8.8.8", None),
    ],
)
def test_the_address_guard_refuses_every_non_public_address(address: str, refused: str | None) -> None:
    assert guard.address_refusal(address) == refused
