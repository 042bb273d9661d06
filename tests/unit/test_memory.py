from __future__ import annotations

import platform

import pytest

from app.memory import one_malloc_arena, return_large_buffers_to_the_os


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's mmap threshold is glibc's")
def test_the_mmap_threshold_is_fixed_on_glibc() -> None:
    assert return_large_buffers_to_the_os() is True


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's arena limit is glibc's")
def test_the_worker_allocates_from_one_arena_unless_the_environment_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert one_malloc_arena() is True
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")  # glibc read it at start; it is not overridden
    assert one_malloc_arena() is False
