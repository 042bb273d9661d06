"""Prompt markers: test-only switches embedded anywhere in a prompt, e.g. ``a cat [gen=500ms] [n=2]``."""

from __future__ import annotations

import dataclasses
import re

_SECONDS = r"(\d+(?:\.\d+)?)(ms|s)"
_GEN_RE = re.compile(rf"\[gen={_SECONDS}\]")
_QUEUE_RE = re.compile(rf"\[queue={_SECONDS}\]")
_QPOS_RE = re.compile(r"\[qpos=(\d+)\]")
_SIGMA_RE = re.compile(r"\[sigma=(\d+(?:\.\d+)?)\]")
_N_RE = re.compile(r"\[n=(\d+)\]")
_FILTER_RE = re.compile(r"\[filter\]")
_FAIL_RE = re.compile(r"\[fail=([0-9A-Za-z_.-]+)\]")
_INVISIBLE_RE = re.compile(r"\[invisible=(\d+)\]")
_RET_RE = re.compile(r"\[ret=(-?\d+)\]")
_STATUS_RE = re.compile(r"\[status=(10|30|40|100)\]")
_STALL_RE = re.compile(r"\[stall45\]")
_COUNT_RE = re.compile(r"(\d+)张")

# the status scripts of checklist 26, by their terminal status
SCRIPTS = {"10": "reject10", "30": "fail30", "40": "reject40", "100": "deleted100"}


@dataclasses.dataclass(frozen=True)
class Markers:
    """What the prompt asks the emulator to do; None means "not given"."""

    seconds: float | None = None
    items: int | None = None
    fail_code: str | None = None
    invisible_polls: int = 0
    ret: str | None = None
    script: str | None = None  # reject10, fail30, reject40, deleted100, stall45
    queue_seconds: float | None = None
    queue_position: int | None = None
    sigma: float | None = None  # lognormal spread of the generation time around its median


def _seconds(match: re.Match[str] | None) -> float | None:
    if match is None:
        return None
    return float(match[1]) / (1000.0 if match[2] == "ms" else 1.0)


def parse_markers(prompt: str) -> Markers:
    items = _N_RE.search(prompt)
    fail = _FAIL_RE.search(prompt)
    fail_code = fail[1] if fail else ("2038" if _FILTER_RE.search(prompt) else None)
    invisible = _INVISIBLE_RE.search(prompt)
    ret = _RET_RE.search(prompt)
    status = _STATUS_RE.search(prompt)
    script = SCRIPTS[status[1]] if status else ("stall45" if _STALL_RE.search(prompt) else None)
    qpos = _QPOS_RE.search(prompt)
    sigma = _SIGMA_RE.search(prompt)
    return Markers(
        seconds=_seconds(_GEN_RE.search(prompt)),
        items=int(items[1]) if items else None,
        fail_code=fail_code,
        invisible_polls=int(invisible[1]) if invisible else 0,
        ret=ret[1] if ret else None,
        script=script,
        queue_seconds=_seconds(_QUEUE_RE.search(prompt)),
        queue_position=int(qpos[1]) if qpos else None,
        sigma=float(sigma[1]) if sigma else None,
    )


def prompt_image_count(prompt: str) -> int | None:
    """The N of the first ``N张`` in the prompt (baseline 12.4, lenient mode only), or None."""
    match = _COUNT_RE.search(prompt)
    return int(match[1]) if match else None
