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
        ("93.184.216.34", None),
        ("2606:2800:220:1::", None),
        ("8.8.8.8", None),
    ],
)
def test_the_address_guard_refuses_every_non_public_address(address: str, refused: str | None) -> None:
    assert guard.address_refusal(address) == refused
