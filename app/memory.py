"""Large buffers go back to the operating system as soon as they are freed.

glibc's malloc serves a request of 128 KiB or more with its own ``mmap`` and unmaps it on ``free``, but it
raises that threshold to the size of the largest block freed so far (up to 32 MiB). After one 16 MB request
body, every later buffer up to that size comes from the heap instead: a body growing in a ``bytearray`` is
copied on every ``realloc`` (old and new blocks alive at once), and the freed heap stays in the worker's RSS.
Fixing the threshold keeps large buffers in their own mappings: ``realloc`` becomes ``mremap`` (no copy) and a
refused 16 MB body costs its own 16 MB for the moment, not twice that for good. Python's small objects live in
pymalloc's arenas and are not affected.
"""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>
LARGE_BUFFER_BYTES = 256 * 1024


def return_large_buffers_to_the_os() -> bool:
    """Fix malloc's mmap threshold at ``LARGE_BUFFER_BYTES``; False where the C library has no such knob (musl,
    macOS): nothing is changed there."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, LARGE_BUFFER_BYTES) == 1
