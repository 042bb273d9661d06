from __future__ import annotations

import platform

import pytest

from app.memory import return_large_buffers_to_the_os


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's mmap threshold is glibc's")
def test_the_mmap_threshold_is_fixed_on_glibc() -> None:
    assert return_large_buffers_to_the_os() is True
