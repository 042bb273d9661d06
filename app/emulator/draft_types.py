"""The types and small readers shared by the draft parsers (images in ``drafts``, videos in ``video_drafts``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from app.emulator.config import VERSIONS_2026

AID = 513695
Committed = Callable[[str], bool]


class DraftError(ValueError):
    """A generate body the upstream would refuse."""

    def __init__(self, message: str, ret: str | None = None, reason: str = "draft_invalid") -> None:
        super().__init__(message)
        self.ret = ret
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class Rules:
    """What the parser enforces. The default is the lenient (non-strict) parser: baseline drafts pass."""

    strict: bool = False
    versions: tuple[str, ...] = VERSIONS_2026
    iptag_4k: bool = False
    retired: frozenset[str] = frozenset()
    aid: int = AID  # the site's app id: 513641 on the international clusters (9.1)
    workspace_id: int | None = None  # the account's workspace abroad, checked in strict mode (9.3); None: no check
    us_metrics: bool = False  # a US host: image drafts' metrics_extra as the US capture (9.3)


@dataclasses.dataclass(frozen=True)
class DraftSpec:
    """What a valid draft asks for, reduced to what the emulator needs."""

    kind: str  # "generate", "blend" or "gen_video"
    model: str
    prompt: str
    submit_id: str
    width: int
    height: int
    image_uris: tuple[str, ...] = ()
    hash_prefix: int = 0
    duration_ms: int = 0
    resolution: str = ""  # the image tier or the video resolution
    gen_count: object = None  # abilities.gen_option.gen_count as received (None: absent)
    gen_count_placement: str | None = None  # "abilities" (right), "generate"/"blend" (misplaced), None
    benefit_type: str = ""
    input_video: bool = False
    action: int | None = None  # 2: "continue generating" of the record ``history_id`` (3.3)
    post_edit: dict[str, Any] | None = None  # the post-edit tools (8): tool, input, padding, tier
    history_id: str = ""
    draft: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)


@dataclasses.dataclass(frozen=True)
class Parts:
    """The pieces every kind's parser reads."""

    body: dict[str, Any]
    draft: dict[str, Any]
    component: dict[str, Any]
    abilities: dict[str, Any]
    root_model: str
    submit_id: str
    committed: Committed
    rules: Rules


def obj(parent: Any, key: str, where: str) -> dict[str, Any]:
    value = parent.get(key) if isinstance(parent, dict) else None
    if not isinstance(value, dict):
        raise DraftError(f"{where}{key} must be an object")
    return value


def string(parent: dict[str, Any], key: str, where: str, *, empty: bool = True) -> str:
    value = parent.get(key)
    if not isinstance(value, str) or (not empty and not value):
        raise DraftError(f"{where}{key} must be a {'' if empty else 'non-empty '}string")
    return value


def gen_option(abilities: dict[str, Any], ability: str) -> tuple[object, str | None]:
    """``gen_count`` and where it was found: ``abilities.gen_option`` is read, a nested one is not (3.3)."""
    top = abilities.get("gen_option")
    if isinstance(top, dict):
        return top.get("gen_count"), "abilities"
    nested = abilities.get(ability)
    if isinstance(nested, dict) and isinstance(nested.get("gen_option"), dict):
        return nested["gen_option"].get("gen_count"), ability
    return None, None
