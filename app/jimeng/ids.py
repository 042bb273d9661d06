"""Where the fresh values of a request come from: draft ids and seeds.

Kept apart so that builders take them as parameters and tests inject fixed ones.
"""

from __future__ import annotations

import random
import uuid

SEED_RANGE = (0, 2**32 - 1)  # [2026 3.4] any unsigned 32-bit number, inclusive

_SYSTEM_RANDOM = random.SystemRandom()


def new_uuid() -> str:
    """A hyphenated UUID for submit and draft ids (HEAD uses version 4; the upstream does not care)."""
    return str(uuid.uuid4())


def new_seed(rng: random.Random = _SYSTEM_RANDOM) -> int:
    """A random draft seed."""
    return rng.randint(*SEED_RANGE)
