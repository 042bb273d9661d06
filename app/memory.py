"""Large buffers go back to the operating system as soon as they are freed.

glibc's malloc serves a request of 128 KiB or more with its own ``mmap`` and unmaps it on ``free``, but it
raises that threshold to the size of the largest block freed so far (up to 32 MiB). After one 16 MB request
body, every later buffer up to that size comes from the heap instead: a body growing in a ``bytearray`` is
copied on every ``realloc`` (old and new blocks alive at once), and the freed heap stays in the worker's RSS.
Fixing the threshold keeps large buffers in their own mappings: ``realloc`` becomes ``mremap`` (no copy) and a
refused 16 MB body costs its own 16 MB for the moment, not twice that for good. Python's small objects live in
pymalloc's arenas and are not affected.

A gevent worker also allocates from one malloc arena only: its requests are greenlets of one OS thread, but
gevent resolves host names on a few real threads, and glibc gives each thread an arena of its own (up to 8 per
CPU), whose freed memory stays with it. One arena saved about 1 MiB of peak RSS at 1,000 generations in flight
(issue 17). ``MALLOC_ARENA_MAX`` in the environment, read by glibc itself, is left to win: the worker hook in
``config/gunicorn.py`` (``post_fork``) calls ``one_malloc_arena`` only without it.
"""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # glibc's <malloc.h>
LARGE_BUFFER_BYTES = 256 * 1024


def return_large_buffers_to_the_os() -> bool:
    """Fix malloc's mmap threshold at ``LARGE_BUFFER_BYTES``; False where the C library has no such knob (musl,
    macOS): nothing is changed there."""
    return _mallopt(M_MMAP_THRESHOLD, LARGE_BUFFER_BYTES)


def one_malloc_arena() -> bool:
    """Let every thread of the process allocate from the main arena (a gevent worker: see above); False where
    the C library has no such knob."""
    return _mallopt(M_ARENA_MAX, 1)


def _mallopt(option: int, value: int) -> bool:
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(option, value) == 1
