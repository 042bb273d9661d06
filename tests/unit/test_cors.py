"""The CORS preflight's echo of requested headers: only well-formed names, bounded."""

from __future__ import annotations

from app.wiring import CORS_ALLOWED_HEADERS, MAX_ECHOED_CHARS, MAX_ECHOED_HEADERS, allowed_headers


def names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",")]


def test_the_fixed_names_come_first_and_requested_names_follow_once() -> None:
    echoed = names(allowed_headers("X-Stainless-OS, authorization, OpenAI-Project, x-stainless-os"))
    assert echoed == [*CORS_ALLOWED_HEADERS, "x-stainless-os", "openai-project"]


def test_malformed_names_are_dropped() -> None:
    echoed = names(allowed_headers("x-ok, bad name, evil\r\nx-injected: 1, (paren), , x-also-ok"))
    assert echoed[len(CORS_ALLOWED_HEADERS) :] == ["x-ok", "x-also-ok"]


def test_the_echo_is_bounded_in_count_and_length() -> None:
    many = ", ".join(f"x-h{i}" for i in range(1000))
    echoed = names(allowed_headers(many))
    assert len(echoed) == len(CORS_ALLOWED_HEADERS) + MAX_ECHOED_HEADERS
    long = ", ".join(f"x-{'a' * 120}{i}" for i in range(100))
    assert len(allowed_headers(long)) <= MAX_ECHOED_CHARS
    assert len(allowed_headers("x" * 1_000_000)) < MAX_ECHOED_CHARS  # one overlong name: not a token of 128
