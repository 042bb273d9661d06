"""The emulator's knobs: defaults, validated partial updates (``POST /__config``), JSON view.

A ``Config`` is immutable: an update builds a new one, so a request that read the config once sees a
consistent set of values even while a test changes it.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

FAULT_GROUPS = ("generate", "poll", "credit", "imagex", "upload", "config", "all")
FAULT_PROBABILITIES = ("http_502", "http_429", "error", "reset", "truncate")
FAULT_LATENCIES = ("latency_ms", "jitter_ms")
FAULT_KEYS = FAULT_PROBABILITIES + FAULT_LATENCIES

# 2026 constants (upstream notes 2.1): da_version / draft version 3.3.9 ... 3.3.28 were all seen working.
VERSIONS_2026 = tuple(f"3.3.{minor}" for minor in range(9, 29))
RETIRED_VIDEO = (
    "dreamina_ic_generate_video_model_vgfm_3.0",
    "dreamina_ic_generate_video_model_vgfm_lite",
    "dreamina_ic_generate_video_model_vgfm1.0",
)
# Baseline image keys that no 2026 model list carries (the emulator's choice: retired like the videos).
RETIRED_IMAGE = (
    "high_aes_general_v21_L:general_v2.1_L",
    "high_aes_general_v20_L:general_v2.0_L",
    "high_aes_general_v20:general_v2.0",
    "high_aes_general_v14:general_v1.4",
    "text2img_xl_sft",
)
BENEFIT_MODELS = ("high_aes_general_v30l_art_fangzhou:general_v3.0_18b", "high_aes_general_v30l:general_v3.0_18b")
CONFIG_FAILURES = ("", "http_500", "empty")  # or a ret code: digits, optionally negative
SHARES = ("queue_share", "poll_2008_share", "url_u0026_share")
MAX_QUEUE_SHARE = 0.3  # the queue must end before status 42 starts


def _no_faults() -> dict[str, dict[str, float]]:
    return {group: dict.fromkeys(FAULT_KEYS, 0.0) for group in FAULT_GROUPS}


@dataclasses.dataclass(frozen=True)
class Config:
    """Every value a test, a benchmark or the CLI may change at runtime."""

    image_seconds: float = 8.0
    video_seconds: float = 20.0
    clock_offset: float = 0.0
    device_time_window: float = 300.0
    amz_date_window: float = 900.0
    token_ttl: float = 3600.0
    media_ttl: float = 86400.0
    strict: bool = True
    sign_prefix: str = "9e2c"
    sign_suffix: str = "11ac"
    sign_error_ret: str = "1014"
    pf: str = "7"
    appvr_accepted: tuple[str, ...] = ("8.4.0",)
    da_versions: tuple[str, ...] = VERSIONS_2026
    web_versions: tuple[str, ...] = ("7.5.0",)
    aid: str = "513695"
    require_common_params: bool = True
    intl_shark: bool = False  # international generates without X-Bogus answer ret -6 (2026 10.2; checklist 21)
    accept_iptag_4k: bool = False
    retired_models: tuple[str, ...] = RETIRED_VIDEO + RETIRED_IMAGE
    benefit_models: tuple[str, ...] = BENEFIT_MODELS
    continuation: bool = True
    queue_share: float = 0.1
    image_forecast_factor: float = 1.1  # forecast_generate_cost / generation time (5.1: 23 s forecast, ~21 s run)
    video_forecast_factor: float = 2.0  # (5.1: 156 -> 93 s, 453 -> 167 s, 316 -> 156 s)
    queue_position: int = 2
    poll_2008_share: float = 0.0
    url_u0026_share: float = 0.0
    max_running_jobs: int = 0
    daily_generation_limit: int = 0
    credit_history_delay: float = 1.0
    image_config_failure: str = ""
    video_config_failure: str = ""
    initial_gift_credit: int = 100
    initial_purchase_credit: int = 0
    initial_vip_credit: int = 0
    daily_grant: int = 60
    image_cost: int = 1
    video_cost: int = 5
    max_items: int = 8
    service_id: str = "tb4s082cfz"
    fault_seed: int | None = None
    faults: dict[str, dict[str, float]] = dataclasses.field(default_factory=_no_faults)

    def to_json(self) -> dict[str, Any]:
        """A deep copy with lists for tuples, safe to serialise and to mutate."""
        values = copy.deepcopy(dataclasses.asdict(self))
        return {key: list(value) if isinstance(value, tuple) else value for key, value in values.items()}

    def updated(self, changes: Mapping[str, Any]) -> Config:
        """A new Config with ``changes`` applied; raises ValueError naming the first bad key."""
        values: dict[str, Any] = {}
        defaults = Config()
        for key, value in changes.items():
            if key == "faults":
                values["faults"] = _merge_faults(self.faults, value)
                continue
            if key not in _FIELD_NAMES:
                raise ValueError(f"unknown config key: {key}")
            values[key] = _coerce(key, getattr(defaults, key), value)
        return dataclasses.replace(self, **values)


_FIELD_NAMES = frozenset(field.name for field in dataclasses.fields(Config))


def _coerce(key: str, default: Any, value: Any) -> Any:
    """Check ``value`` against the type of the field's default, and the few range rules."""
    if key == "fault_seed":
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise ValueError("fault_seed must be an integer or null")
    if key in ("image_config_failure", "video_config_failure"):
        if isinstance(value, str) and (value in CONFIG_FAILURES or value.lstrip("-").isdigit()):
            return value
        raise ValueError(f"{key} must be '', 'http_500', 'empty' or a ret code")
    if key in SHARES:
        limit = MAX_QUEUE_SHARE if key == "queue_share" else 1.0
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= limit:
            return float(value)
        raise ValueError(f"{key} must be a number in 0..{limit}")
    if isinstance(default, tuple):
        if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
            return tuple(value)
    elif isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
    elif isinstance(value, bool):
        pass
    elif isinstance(default, int):
        if isinstance(value, int) and value >= 0:
            return value
    elif isinstance(default, float) and isinstance(value, int | float) and (value >= 0 or key == "clock_offset"):
        return float(value)
    raise ValueError(f"bad value for {key}: {value!r}")


def _merge_faults(current: Mapping[str, Mapping[str, float]], changes: Any) -> dict[str, dict[str, float]]:
    """Partial update of the per-group fault table; probabilities of a group must sum to <= 1."""
    if not isinstance(changes, Mapping):
        raise ValueError("faults must be an object keyed by group")
    merged = {group: dict(kinds) for group, kinds in current.items()}
    for group, kinds in changes.items():
        if group not in merged or not isinstance(kinds, Mapping):
            raise ValueError(f"unknown fault group: {group}")
        for kind, value in kinds.items():
            if kind not in FAULT_KEYS:
                raise ValueError(f"unknown fault kind: {kind}")
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"bad value for faults.{group}.{kind}: {value!r}")
            if kind in FAULT_PROBABILITIES and value > 1:
                raise ValueError(f"faults.{group}.{kind} is a probability (0..1)")
            merged[group][kind] = float(value)
        if sum(merged[group][kind] for kind in FAULT_PROBABILITIES) > 1.0 + 1e-9:
            raise ValueError(f"fault probabilities of group {group} add up to more than 1")
    return merged
