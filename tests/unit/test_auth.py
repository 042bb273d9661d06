from __future__ import annotations

import pytest

from app.api.auth import is_known_key, parse_bearer
from app.domain.errors import MissingSessionError
from app.errors import describe_exception


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc", ["abc"]),
        ("bearer abc", ["abc"]),
        ("BEARER  abc ", ["abc"]),
        ("Bearer a,b,c", ["a", "b", "c"]),
        ("Bearer a , b ,c", ["a", "b", "c"]),
        ("Bearer a,b,a,c,b", ["a", "b", "c"]),
        ("Bearer a,,b,", ["a", "b"]),
        ("abc", ["abc"]),
    ],
)
def test_bearer_header_becomes_an_ordered_deduplicated_pool(header: str, expected: list[str]) -> None:
    assert parse_bearer(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "Bearer",
        "Bearer ",
        "Bearer ,, ,",
        "Basic dXNlcjpwYXNz",
        "Bearer ok,bad;id",
        'Bearer "q"',
        "Bearer Āb",
    ],
)
def test_missing_or_empty_bearer_is_missing_session(header: str | None) -> None:
    with pytest.raises(MissingSessionError) as caught:
        parse_bearer(header)
    assert describe_exception(caught.value)[0] == 401  # type: ignore[index]
    assert caught.value.code == "missing_session"


@pytest.mark.parametrize(
    ("candidate", "keys", "expected"),
    [("k1", ("k1", "k2"), True), ("k2", ("k1", "k2"), True), ("k3", ("k1", "k2"), False), ("", ("k1",), False)],
)
def test_api_key_membership(candidate: str, keys: tuple[str, ...], expected: bool) -> None:
    assert is_known_key(candidate, keys) is expected
