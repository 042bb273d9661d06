"""Prompt markers: test-only switches embedded anywhere in a prompt, e.g. ``a cat [gen=500ms] [n=2]``."""

from __future__ import annotations

import dataclasses
import re

_GEN_RE = re.compile(r"\[gen=(\d+(?:\.\d+)?)(ms|s)\]")
_N_RE = re.compile(r"\[n=(\d+)\]")
_FILTER_RE = re.compile(r"\[filter\]")
_FAIL_RE = re.compile(r"\[fail=([0-9A-Za-z_.-]+)\]")
_INVISIBLE_RE = re.compile(r"\[invisible=(\d+)\]")
_RET_RE = re.compile(r"\[ret=(\d+)\]")
_COUNT_RE = re.compile(r"(\d+)张")


@dataclasses.dataclass(frozen=True)
class Markers:
    """What the prompt asks the emulator to do; None means "not given"."""

    seconds: float | None = None
    items: int | None = None
    fail_code: str | None = None
    invisible_polls: int = 0
    ret: str | None = None


def parse_markers(prompt: str) -> Markers:
    gen = _GEN_RE.search(prompt)
    seconds = None
    if gen is not None:
        seconds = float(gen[1]) / (1000.0 if gen[2] == "ms" else 1.0)
    items = _N_RE.search(prompt)
    fail = _FAIL_RE.search(prompt)
    fail_code = fail[1] if fail else ("2038" if _FILTER_RE.search(prompt) else None)
    invisible = _INVISIBLE_RE.search(prompt)
    ret = _RET_RE.search(prompt)
    return Markers(
        seconds=seconds,
        items=int(items[1]) if items else None,
        fail_code=fail_code,
        invisible_polls=int(invisible[1]) if invisible else 0,
        ret=ret[1] if ret else None,
    )


def prompt_image_count(prompt: str) -> int | None:
    """The N of the first ``N张`` in the prompt (section 12.4), or None."""
    match = _COUNT_RE.search(prompt)
    return int(match[1]) if match else None
