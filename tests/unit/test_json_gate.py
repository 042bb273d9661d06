"""The gate a body larger than LENIENT_JSON_MAX_BYTES passes before it is decoded: strict syntax, bounded
values, and nothing built on the way."""

from __future__ import annotations

import tracemalloc

import pytest

from app.api.body import parse_lenient_json
from app.api.json_gate import count_values, line_and_column, require_strict_json
from app.domain.errors import InvalidJsonError

LENIENT = 1024
VALUES = 1000
MIB = 1024 * 1024


def gate(raw: bytes | bytearray) -> None:
    require_strict_json(raw, lenient_max_bytes=LENIENT, max_values=VALUES)


def refusal(raw: bytes | bytearray) -> str:
    with pytest.raises(InvalidJsonError) as caught:
        gate(raw)
    assert caught.value.code == "invalid_json"
    return caught.value.message


def test_a_trailing_comma_at_the_end_is_named_by_line_and_column() -> None:
    raw = b'{"prompt": "", "x": "' + b"A" * 5000 + b'",}'
    message = refusal(raw)
    assert message.startswith("Malformed JSON body: trailing comma in object at line 1, column 5024.")
    assert f"bodies up to {LENIENT} bytes; this one has {len(raw)}: send strict JSON" in message


def test_the_column_counts_characters_and_the_line_counts_newlines() -> None:
    raw = ('{\n"prompt": "' + "猫" * 2000 + '",\n  "n": 1,}').encode()
    assert "at line 3, column 10." in refusal(raw)  # `  "n": 1,` then the `}`
    head = '{"prompt": "' + "猫" * 2000 + '", '
    assert f"at line 1, column {len(head) + 1}." in refusal((head + "x}").encode())


def test_a_body_that_stops_inside_a_value_is_malformed_at_its_end() -> None:
    raw = b'{"prompt": "' + b"A" * 5000
    assert f"the body ends inside a value at line 1, column {len(raw) + 1}." in refusal(raw)


def test_deep_nesting_is_a_400_not_a_crash() -> None:
    with pytest.raises(InvalidJsonError, match=r"^Malformed JSON body: nested too deeply$"):
        require_strict_json(b"[" * 200_000 + b"]" * 200_000, lenient_max_bytes=LENIENT, max_values=10**6)


def test_a_body_over_the_bound_is_refused_before_its_syntax_is_walked() -> None:
    raw = b"[" * 200_000  # malformed too: the bound speaks first, after one megabyte at most
    assert refusal(raw).startswith(f"Request body holds more than {VALUES} JSON values")
    assert count_values(b"{}," * 2_000_000, stop_after=VALUES) < 2_000_000  # stopped early


def test_a_valid_body_of_many_tiny_values_is_refused_before_it_is_built() -> None:
    raw = b'{"prompt": "cat", "x": [' + b"{}," * 5000 + b"{}]}"
    assert refusal(raw).startswith(f"Request body holds more than {VALUES} JSON values")


def test_the_count_is_an_upper_bound_of_the_values_a_parser_builds() -> None:
    raw = b'{"messages": [{"role": "user", "content": "a, b"}], "n": 1}'
    # {  [  {  and three commas, the one inside "a, b" too; +1 for a top-level value without either
    assert count_values(raw) == 3 + 3 + 1
    assert count_values(b"1") == 1


def test_punctuation_inside_strings_counts_too_so_a_crafted_body_cannot_make_counting_slow() -> None:
    text = 'say \\"a, [b], {c}\\" ' * 300  # escapes: a regex that skipped strings would crawl on these
    raw = ('{"prompt": "cat", "x": "' + text + '"}').encode()
    assert refusal(raw).startswith(f"Request body holds more than {VALUES} JSON values (counted as its commas")
    require_strict_json(raw, lenient_max_bytes=LENIENT, max_values=count_values(raw))


def test_one_long_base64_image_passes() -> None:
    raw = b'{"prompt": "cat", "image": "data:image/png;base64,' + b"QUJD" * (4 * MIB) + b'"}'
    gate(raw)


def test_invalid_utf8_in_a_large_body_is_still_named_as_such() -> None:
    raw = b'{"prompt": "' + b"A" * 5000 + b'\xff"}'
    with pytest.raises(InvalidJsonError, match=r"not valid UTF-8 \(byte 5012\)"):
        parse_lenient_json(raw, lenient_max_bytes=LENIENT, max_values=VALUES)


def test_line_and_column_of_offsets_at_the_edges() -> None:
    assert line_and_column(b"", 0) == (1, 1)
    assert line_and_column(b"ab\ncd", 3) == (2, 1)
    assert line_and_column(b"ab\ncd", 99) == (2, 3)
    assert line_and_column("é\né€x".encode(), len("é\né€".encode())) == (2, 3)


def test_refusing_a_16_mb_body_allocates_no_copy_of_it() -> None:
    raw = bytearray(b"A") * (16 * MIB)
    raw[:21], raw[-3:] = b'{"prompt": "", "x": "', b'",}'
    tracemalloc.start()
    try:
        with pytest.raises(InvalidJsonError, match="trailing comma"):
            parse_lenient_json(raw, lenient_max_bytes=LENIENT, max_values=VALUES)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * MIB  # the decoded text alone would be 16 MiB, the string value 16 MiB more
