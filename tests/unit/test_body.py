from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from app.api.body import form_fields, parse_lenient_json
from app.domain.errors import InvalidJsonError
from config.settings import Settings

LENIENT = Settings().lenient_json_max_bytes
VALUES = Settings().max_json_values


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"prompt": "cat"}', {"prompt": "cat"}),
        ('{"prompt": "cat", "n": 2,}', {"prompt": "cat", "n": 2}),
        ("{'prompt': 'cat'}", {"prompt": "cat"}),
        ('{"prompt": "cat" /* why */, // note\n "n": 1}', {"prompt": "cat", "n": 1}),
        ('{"prompt": "猫"}'.encode(), {"prompt": "猫"}),
        ('{"images": ["a", "b",],}', {"images": ["a", "b"]}),
    ],
)
def test_lenient_json_accepts_what_curl_users_type(raw: str | bytes, expected: dict[str, object]) -> None:
    assert parse_lenient_json(raw, lenient_max_bytes=LENIENT, max_values=VALUES) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ('{"prompt": ', "line 1, column"),
        ('{\n  "a": 1\n  "b": 2}', "line 3"),
        ("", "empty"),
        ("   ", "empty"),
        ("[1, 2]", "not an array"),
        ('"text"', "not a string"),
        ("42", "not a number"),
        ("null", "not null"),
        ("true", "not a boolean"),
    ],
)
def test_lenient_json_refuses_malformed_or_non_objects(raw: str, fragment: str) -> None:
    with pytest.raises(InvalidJsonError) as caught:
        parse_lenient_json(raw, lenient_max_bytes=LENIENT, max_values=VALUES)
    assert fragment in caught.value.message
    assert caught.value.code == "invalid_json"


def test_lenient_json_parses_a_huge_valid_body_with_the_fast_parser() -> None:
    big = "A" * 5_000_000
    assert parse_lenient_json('{"image": "' + big + '"}', lenient_max_bytes=LENIENT, max_values=VALUES)["image"] == big


def test_lenient_json_refuses_deep_nesting_without_crashing() -> None:
    with pytest.raises(InvalidJsonError):
        parse_lenient_json("[" * 100_000, lenient_max_bytes=LENIENT, max_values=VALUES)


def test_a_large_body_that_strict_json_refuses_is_not_read_leniently() -> None:
    raw = '{"image": "' + "A" * 100_000 + '",}'
    with pytest.raises(InvalidJsonError) as caught:
        parse_lenient_json(raw, lenient_max_bytes=LENIENT, max_values=VALUES)
    message = caught.value.message
    assert "line 1, column 100014" in message
    assert f"up to {LENIENT} bytes" in message
    assert caught.value.code == "invalid_json"


def test_the_lenient_limit_counts_bytes_and_keeps_small_bodies_lenient() -> None:
    raw = '{"prompt": "猫",}'.encode()
    assert parse_lenient_json(raw, lenient_max_bytes=len(raw), max_values=VALUES) == {"prompt": "猫"}
    with pytest.raises(InvalidJsonError, match="Lenient JSON"):
        parse_lenient_json(raw, lenient_max_bytes=len(raw) - 1, max_values=VALUES)


def test_a_large_garbage_body_is_refused_at_its_first_byte() -> None:
    with pytest.raises(InvalidJsonError, match="line 1, column 1"):
        parse_lenient_json(b"\x00" * 16_000_000, lenient_max_bytes=LENIENT, max_values=VALUES)


def test_form_fields_collect_repeated_keys_into_lists() -> None:
    form = MultiDict([("prompt", "cat"), ("images[]", "a"), ("images[]", "b"), ("tag", "x"), ("tag", "y")])
    assert form_fields(form) == {"prompt": "cat", "images": ["a", "b"], "tag": ["x", "y"]}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"prompt": "caf\xe9"}', "Request body is not valid UTF-8 (byte 15)"),
        (b'{"prompt": "\xff\xfe"}', "Request body is not valid UTF-8 (byte 12)"),
        (b'{"prompt": "\xed\xa0\x80"}', "Request body is not valid UTF-8 (byte 12)"),  # an encoded surrogate
        (b'{"n": 1' + b"0" * 5000 + b"}", "Malformed JSON body: a number has too many digits"),
        (b'{"n": 1' + b"0" * 5000 + b",}", "Malformed JSON body: a number has too many digits"),
    ],
)
def test_bodies_python_cannot_read_are_refused_without_its_internals(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidJsonError) as caught:
        parse_lenient_json(raw, lenient_max_bytes=LENIENT, max_values=VALUES)
    assert caught.value.message == message
