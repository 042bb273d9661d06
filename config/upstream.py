"""Typed view of ``config/upstream.yml``: the protocol constants and the model and size tables.

The file is data so that a drifting web release is an edit, not a code change; this module only gives the
rest of the code names and types for it, and fails loudly at start-up when the file is inconsistent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATH = Path(__file__).with_name("upstream.yml")
RESOLUTIONS = ("1k", "2k", "4k")


class UpstreamConfigError(ValueError):
    """config/upstream.yml is missing a key or holds an inconsistent table."""


@dataclass(frozen=True)
class ModelInfo:
    id: str
    key: str
    type: str  # "image" or "video"
    description: str
    default: bool = False
    multi_image: bool = False
    blend: bool = False


@dataclass(frozen=True)
class ImageSize:
    width: int
    height: int
    code: int


@dataclass(frozen=True)
class UpstreamConfig:
    app: dict[str, Any]
    sign: dict[str, str]
    headers: dict[str, str]
    credit_referer: str
    cookie: dict[str, Any]
    imagex: dict[str, Any]
    video: dict[str, Any]
    blend: dict[str, Any]
    costs: dict[str, int]
    models: tuple[ModelInfo, ...]
    image_sizes: dict[str, dict[str, ImageSize]]
    image_info: dict[str, Any]
    aliases: dict[str, str] = field(default_factory=dict)

    def model(self, model_id: str) -> ModelInfo | None:
        """The model with this public id (or configured alias), or None."""
        model_id = self.aliases.get(model_id, model_id)
        return next((m for m in self.models if m.id == model_id), None)

    def default_model(self, kind: str) -> ModelInfo:
        return next(m for m in self.models if m.type == kind and m.default)

    def models_of(self, kind: str) -> tuple[ModelInfo, ...]:
        return tuple(m for m in self.models if m.type == kind)

    @property
    def image_ratios(self) -> tuple[str, ...]:
        return tuple(self.image_sizes["2k"])

    @property
    def video_ratios(self) -> tuple[str, ...]:
        return tuple(self.video["ratios"])

    def image_size(self, ratio: str, resolution: str) -> ImageSize:
        return self.image_sizes[resolution][ratio]


def load_upstream(path: Path | str = DEFAULT_PATH) -> UpstreamConfig:
    """Read and check the protocol file; raise UpstreamConfigError naming what is wrong."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise UpstreamConfigError(f"cannot read {path}: {err}") from err
    try:
        models = tuple(ModelInfo(**entry) for entry in raw["models"])
        sizes = {
            tier: {ratio: ImageSize(*values) for ratio, values in table.items()}
            for tier, table in raw["image_sizes"].items()
        }
        config = UpstreamConfig(
            app=raw["app"],
            sign={k: str(v) for k, v in raw["sign"].items()},
            headers={k: str(v) for k, v in raw["headers"].items()},
            credit_referer=raw["credit_referer"],
            cookie=raw["cookie"],
            imagex=raw["imagex"],
            video=raw["video"],
            blend=raw["blend"],
            costs={k: int(v) for k, v in raw["costs"].items()},
            models=models,
            image_sizes=sizes,
            image_info=raw["image_info"],
            aliases=dict(raw.get("aliases") or {}),
        )
    except (KeyError, TypeError) as err:
        raise UpstreamConfigError(f"{path}: missing or malformed entry {err}") from err
    _check(config)
    return config


def _check(config: UpstreamConfig) -> None:
    for kind in ("image", "video"):
        defaults = [m.id for m in config.models if m.type == kind and m.default]
        if len(defaults) != 1:
            raise UpstreamConfigError(f"upstream.yml: exactly one default {kind} model needed, got {defaults}")
    if set(config.image_sizes) != set(RESOLUTIONS):
        raise UpstreamConfigError(f"upstream.yml: image_sizes tiers must be {RESOLUTIONS}")
    ratios = set(config.image_sizes["2k"])
    for tier, table in config.image_sizes.items():
        if set(table) != ratios:
            raise UpstreamConfigError(f"upstream.yml: tier {tier} ratios differ from the 2k tier")
    for alias, target in config.aliases.items():
        if not any(m.id == target for m in config.models):
            raise UpstreamConfigError(f"upstream.yml: alias {alias} points at unknown model {target}")
