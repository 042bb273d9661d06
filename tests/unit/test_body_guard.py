from __future__ import annotations

import io

import pytest

from app.api.body_guard import DRAIN_MAX_BYTES, BodyPolicy, GuardedInput
from app.domain.errors import RequestTimeoutError, RequestTooLargeError


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked = 0

    def read(self, size: int | None = -1) -> bytes:
        self.asked += size if size is not None and size >= 0 else 1 << 40
        return super().read(size)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def guarded(data: bytes, policy: BodyPolicy, clock: Clock | None = None) -> tuple[GuardedInput, CountingStream]:
    stream = CountingStream(data)
    return GuardedInput(stream, policy, sock=None, clock=clock or Clock()), stream


def test_the_deadline_is_the_grace_plus_what_the_bytes_bought_capped_by_the_whole_timeout() -> None:
    policy = BodyPolicy(max_bytes=1000, timeout=30, min_rate=100, grace=5)
    assert policy.deadline(0, 0) == 5
    assert policy.deadline(0, 1000) == 15
    assert policy.deadline(0, 10_000) == 30
    assert BodyPolicy(max_bytes=1000, timeout=30, min_rate=0).deadline(0, 0) == 30


def test_a_piece_takes_at_most_half_the_grace_at_the_floor_rate() -> None:
    assert BodyPolicy(max_bytes=1, timeout=30, min_rate=4096, grace=5).piece == 10240
    assert BodyPolicy(max_bytes=1, timeout=30, min_rate=1, grace=5).piece == 1024
    assert BodyPolicy(max_bytes=1, timeout=30, min_rate=0).piece == 64 * 1024


def test_a_body_within_the_cap_is_read_whole() -> None:
    body = b"x" * 100_000
    stream, _ = guarded(body, BodyPolicy(max_bytes=100_000, timeout=30, min_rate=4096))
    assert stream.read() == body
    assert not stream.refused


def test_a_body_over_the_cap_is_refused_after_the_cap_and_one_byte() -> None:
    stream, source = guarded(b"x" * 1_000_000, BodyPolicy(max_bytes=50_000, timeout=30, min_rate=4096))
    with pytest.raises(RequestTooLargeError, match="50000"):
        stream.read()
    assert stream.refused
    assert stream.received == 50_001
    assert source.asked == 50_001


def test_reads_of_a_size_never_ask_past_one_piece() -> None:
    stream, source = guarded(b"x" * 1_000_000, BodyPolicy(max_bytes=10**7, timeout=30, min_rate=4096))
    assert len(stream.read(1_000_000)) == stream.received == 10240
    assert source.asked == 10240


def test_a_read_after_the_deadline_is_refused_with_408_naming_the_rule() -> None:
    clock = Clock()
    stream, _ = guarded(b"x" * 10, BodyPolicy(max_bytes=1000, timeout=30, min_rate=4096), clock)
    clock.now += 6  # past the grace with nothing received
    with pytest.raises(RequestTimeoutError, match="average 4096 bytes/s") as caught:
        stream.read()
    assert caught.value.code == "request_timeout"
    assert stream.refused
    clock.now += 30
    with pytest.raises(RequestTimeoutError, match="within 30 s"):
        stream.read(5)


def test_a_body_arriving_fast_is_read_in_larger_pieces_a_slow_one_in_the_floor_pieces() -> None:
    """gunicorn's reader copies what it buffered ahead on every read: small pieces of a fast body cost CPU."""
    policy = BodyPolicy(max_bytes=10**8, timeout=30, min_rate=4096, grace=5)
    clock = Clock()
    fast, _ = guarded(b"x" * 10_000_000, policy, clock)
    fast.read(10240)
    clock.now += 0.01  # 10 KB in 10 ms: about 1 MB/s
    assert len(fast.read(10**7)) > 10240
    slow_clock = Clock()
    slow, _ = guarded(b"x" * 100_000, policy, slow_clock)
    slow.read(10240)
    slow_clock.now += 5  # 10 KB in 5 s: at the floor
    assert len(slow.read(10**7)) == 10240


POLICY = BodyPolicy(max_bytes=10 * DRAIN_MAX_BYTES, timeout=30, min_rate=4096)


def framed(data: bytes, *, declared: int | None, chunked: bool = False) -> GuardedInput:
    return GuardedInput(CountingStream(data), POLICY, sock=None, declared=declared, chunked=chunked, clock=Clock())


def test_a_body_read_to_its_end_keeps_the_connection() -> None:
    body = b"x" * (2 * DRAIN_MAX_BYTES)
    declared = framed(body, declared=len(body))
    while declared.read(DRAIN_MAX_BYTES // 4):  # werkzeug's LimitedStream stops at the length: no empty read
        if declared.received == len(body):
            break
    assert not declared.must_close
    chunked = framed(body, declared=None, chunked=True)
    chunked.read()
    assert not chunked.must_close


def test_an_answer_that_leaves_a_large_rest_unread_closes_the_connection() -> None:
    assert framed(b"", declared=DRAIN_MAX_BYTES + 1).must_close  # 413 or 401 before a byte was read
    assert framed(b"", declared=None, chunked=True).must_close  # a chunked body's rest is of unknown size
    partly = framed(b"x" * 3 * DRAIN_MAX_BYTES, declared=3 * DRAIN_MAX_BYTES)
    partly.read(DRAIN_MAX_BYTES)
    assert partly.must_close


def test_a_short_unread_rest_or_no_body_keeps_the_connection() -> None:
    assert not framed(b"", declared=DRAIN_MAX_BYTES).must_close  # cheap to drain: the client keeps its connection
    assert not framed(b"", declared=None).must_close  # a GET
    assert not framed(b"", declared=0).must_close


def test_a_refused_body_always_closes_the_connection() -> None:
    refused = framed(b"x" * POLICY.max_bytes * 2, declared=None, chunked=True)
    with pytest.raises(RequestTooLargeError):
        refused.read()
    assert refused.must_close
