"""Typed view of ``config/upstream.yml``: the protocol constants and the model and size tables.

The file is data so that a drifting web release is an edit, not a code change; this module only gives the
rest of the code names and types for it. Loading is strict: every section is a frozen dataclass built by one
generic loader from the dataclass's fields and type hints, so a missing, unknown or mistyped key stops
start-up with one line naming the dotted key, instead of a 500 on the first request that reads it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import yaml

from config.model_tables import (
    ImageModelConfig,
    ImageSize,
    RetiredModelConfig,
    VideoModelConfig,
    check_models,
)
from config.typed_yaml import Invalid, build

DEFAULT_PATH = Path(__file__).with_name("upstream.yml")
COOKIE_FIELDS = ("session_id", "web_id")  # [2026 2.5] the placeholders a cookie value may use
__all__ = ["ImageModelConfig", "ImageSize", "RetiredModelConfig", "VideoModelConfig"]


class UpstreamConfigError(ValueError):
    """The protocol file is unreadable, misses a key, has an unknown or mistyped one, or an inconsistent table."""


# -- the sections ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppConstants:
    """[2026 2.1] The app id (query, ``Appid`` header, ``http_common_info``) and the drafts' version."""

    aid: int
    draft_version: str


@dataclass(frozen=True)
class SignConfig:
    """[2026 2.2] The parts of the ``Sign`` recipe; ``pf``, ``appvr`` and ``tdid`` are also sent as headers."""

    prefix_salt: str
    suffix_salt: str
    pf: str
    appvr: str
    tdid: str


@dataclass(frozen=True)
class QueryConfig:
    """[2026 2.4] Query strings as data: each call sends one named set of parameters, in the set's order.

    ``aid`` (from ``app``) and ``webId`` (the account's) are filled in by the client; every other name of a set
    takes its value from ``values``.
    """

    FILLED_IN: ClassVar[tuple[str, ...]] = ("aid", "webId")
    values: Mapping[str, str]
    sets: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class CallConfig:
    """[2026 2.3, 2.4] One cookie-API call: its path (signed), its query set and its ``Referer``."""

    path: str
    query: str
    referer: str


@dataclass(frozen=True)
class Calls:
    """Every cookie-API call the client makes."""

    account_info: CallConfig
    user_credit: CallConfig
    credit_receive: CallConfig
    upload_token: CallConfig
    image_generate: CallConfig
    video_generate: CallConfig
    history: CallConfig
    queue_info: CallConfig
    local_items: CallConfig
    image_config: CallConfig
    video_config: CallConfig
    workspace_list: CallConfig  # [2026 9.3] international drafts carry the account's workspace id


@dataclass(frozen=True)
class ImagexConfig:
    """[9] ImageX OpenAPI constants and the browser identity of uploads."""

    version: str
    region: str
    service: str
    default_service_id: str
    upload_scene: int
    storage_user: str
    referer_image: str
    referer_video: str
    user_agent: str
    sec_ch_ua: str


@dataclass(frozen=True)
class RegionConfig:
    """[2026 9.1, 9.2] One site's constants: app id, ``region`` query and headers, ImageX signing region."""

    aid: int
    region: str
    loc: str
    lan: str
    store_country_code: str  # "" sends no store-country-code headers (CN)
    web_origin: str
    web_id_query: bool
    imagex_region: str
    imagex_service_id: str
    draft_workspace: bool  # [2026 9.3] drafts' extend carries workspace_id (from workspace/list)
    image_scene_options: bool  # image drafts' metrics_extra with sceneOptions (false: the US capture's, 9.3)


REGION_NAMES = ("cn", "us", "hk", "jp", "sg")


@dataclass(frozen=True)
class ImageDraftConfig:
    """[2026 3.4, 3.5, 8.1] Version constants of image drafts: text to image, blends and post edits."""

    min_version: str
    blend_min_version: str
    blend_gen_type: int
    post_edit_min_version: str


@dataclass(frozen=True)
class VideoCommerce:
    """[2026 4.2] The fixed members of ``m_video_commerce_info``, sent after ``amount`` and ``benefit_type``."""

    resource_id: str
    resource_id_type: str
    resource_sub_type: str


@dataclass(frozen=True)
class VideoConfig:
    """[2026 4.2-4.6] Video draft constants, the rules keyed by model key, and each resolution's short side."""

    commerce: VideoCommerce
    send_amount: bool
    benefit_retry_rets: tuple[str, ...]
    draft_min_version: str
    component_min_version: str
    fps: int
    video_mode: int
    ending_control: str
    key_features: Mapping[str, tuple[str, ...]]  # key prefix -> min_features
    first_last_frames_keys: tuple[str, ...]  # key prefixes whose text-only jobs say first_last_frames
    resolution_sides: Mapping[str, int]  # name -> short side in pixels (the frames' size)

    def features_of(self, model_key: str) -> tuple[str, ...]:
        """The draft's ``min_features`` for a model key."""
        return tuple(
            f for prefix, features in self.key_features.items() if model_key.startswith(prefix) for f in features
        )


@dataclass(frozen=True)
class Costs:
    """Credits one draft costs, checked before a submit."""

    image: int
    video: int

    def of(self, kind: str) -> int:
        """The cost of a draft of ``kind`` ("image" or "video", as a model's ``type``)."""
        return self.video if kind == "video" else self.image


@dataclass(frozen=True)
class RequestLimits:
    """What one request may carry; the planner refuses more before any upstream call."""

    max_video_frames: int
    max_n: int  # images one request may ask for
    max_job_count: int  # [2026 3.3] images one job makes at most; more are split into several jobs


@dataclass(frozen=True)
class Defaults:
    """What a request that leaves a field out gets; resolutions, durations and counts are each model's own."""

    image_model: str
    video_model: str
    image_ratio: str


@dataclass(frozen=True)
class UpstreamConfig:
    """The whole file. ``headers`` and ``cookie`` are mappings because their names are data: the file's set and
    order."""

    app: AppConstants
    sign: SignConfig
    headers: Mapping[str, str]
    query: QueryConfig
    calls: Calls
    cookie: Mapping[str, str]  # cookie name -> value, with {session_id} and {web_id}, in file order
    regions: Mapping[str, RegionConfig]  # cn, us, hk, jp, sg
    imagex: ImagexConfig
    video: VideoConfig
    image_draft: ImageDraftConfig
    costs: Costs
    limits: RequestLimits
    defaults: Defaults
    image_tiers: Mapping[str, Mapping[str, ImageSize]]  # [2026 3.2] tier -> ratio -> size, in file order
    image_models: tuple[ImageModelConfig, ...]
    video_models: tuple[VideoModelConfig, ...]
    retired_models: tuple[RetiredModelConfig, ...]
    aliases: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # public alias -> model id


# -- loading -----------------------------------------------------------------------------------------------


def load_upstream(path: Path | str = DEFAULT_PATH) -> UpstreamConfig:
    """Read and check the protocol file; raise UpstreamConfigError with one line naming what is wrong."""
    try:
        raw = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except OSError as err:
        raise UpstreamConfigError(f"{path}: cannot read the file: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        raise UpstreamConfigError(f"{path}: not valid YAML: {_one_line(str(err))}") from None
    return upstream_from_mapping(raw, source=str(path))


def upstream_from_mapping(raw: Any, *, source: str) -> UpstreamConfig:
    """The config from an already parsed file; ``source`` names the file in error messages."""
    try:
        config = build(UpstreamConfig, raw)
        _check(config)
    except Invalid as err:
        raise UpstreamConfigError(f"{source}: {err}") from None
    return config


def _one_line(text: str) -> str:
    return " ".join(text.split())


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# -- consistency -------------------------------------------------------------------------------------------


def _check(config: UpstreamConfig) -> None:
    """What the types cannot say: see ``_check_calls``, ``check_models`` and ``_check_defaults``."""
    _check_calls(config)
    _check_regions(config)
    check_models(config.image_tiers, config.image_models, config.video_models, config.retired_models, config.aliases)
    _check_defaults(config)


def _check_calls(config: UpstreamConfig) -> None:
    """Every call names a query set that exists, every set only parameters that have a value, and cookie
    values only the placeholders the client fills in."""
    query = config.query
    for name, names in query.sets.items():
        for index, param in enumerate(names):
            if param not in query.values and param not in query.FILLED_IN:
                raise Invalid(f"query.sets.{name}[{index}]: {param} has no entry in query.values")
    for spec in dataclasses.fields(config.calls):
        call: CallConfig = getattr(config.calls, spec.name)
        if call.query not in query.sets:
            raise Invalid(f"calls.{spec.name}.query: {call.query} is not one of query.sets ({', '.join(query.sets)})")
    for name, template in config.cookie.items():
        try:
            template.format_map({field: "" for field in COOKIE_FIELDS})
        except (KeyError, ValueError, IndexError) as err:
            fields = ", ".join("{" + field + "}" for field in COOKIE_FIELDS)
            raise Invalid(f"cookie.{name}: {template!r} may use only {fields} ({err!r})") from None


def _check_regions(config: UpstreamConfig) -> None:
    """Exactly the five sites a token can name, each with an http(s) origin."""
    for name in REGION_NAMES:
        if name not in config.regions:
            raise Invalid(f"missing key regions.{name}")
    for name in config.regions:
        if name not in REGION_NAMES:
            raise Invalid(f"regions.{name}: unknown region (expected {', '.join(REGION_NAMES)})")
    for name, region in config.regions.items():
        if not region.web_origin.startswith(("https://", "http://")):
            raise Invalid(f"regions.{name}.web_origin: expected an http(s) origin, got {region.web_origin!r}")


def _check_defaults(config: UpstreamConfig) -> None:
    """The default models exist, and the default ratio is one a tier offers."""
    defaults = config.defaults
    for kind, name, models in (
        ("image", defaults.image_model, config.image_models),
        ("video", defaults.video_model, config.video_models),
    ):
        if not any(model.id == name for model in models):
            raise Invalid(f"defaults.{kind}_model: {name} is not one of {kind}_models")
    if not any(defaults.image_ratio in table for table in config.image_tiers.values()):
        raise Invalid(f"defaults.image_ratio: {defaults.image_ratio!r} is in no tier of image_tiers")
