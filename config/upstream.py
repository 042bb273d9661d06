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
from typing import Any, ClassVar, Literal, TypeVar, get_args, get_origin, get_type_hints

import yaml

DEFAULT_PATH = Path(__file__).with_name("upstream.yml")

T = TypeVar("T")
ModelKind = Literal["image", "video"]


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


COOKIE_FIELDS = ("session_id", "web_id")  # [2026 2.5] the placeholders a cookie value may use


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
class BlendConfig:
    """[8.3] min_version of image-to-image drafts and their component."""

    draft_min_version: str
    component_min_version: str

    @property
    def versions(self) -> tuple[str, str]:
        """(draft, component) ``min_version``, in the order the draft builder takes them."""
        return self.draft_min_version, self.component_min_version


@dataclass(frozen=True)
class CommerceInfo:
    """[10] ``m_video_commerce_info`` of video drafts; sent as a JSON object in this field order."""

    benefit_type: str
    resource_id: str
    resource_id_type: str
    resource_sub_type: str

    def as_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class VideoConfig:
    """[10] Video draft constants and the ratios, resolutions and durations the service accepts."""

    commerce_info: CommerceInfo
    draft_min_version: str
    component_min_version: str
    fps: int
    video_mode: int
    first_last_frame_model: str
    ratios: tuple[str, ...]
    resolutions: Mapping[str, int]  # name -> short side in pixels
    durations: tuple[int, ...]


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

    max_input_images: int
    max_video_frames: int
    max_n: int


@dataclass(frozen=True)
class Defaults:
    """What a request that leaves a field out gets."""

    image_ratio: str
    image_resolution: str
    video_ratio: str
    video_resolution: str
    video_duration: int


@dataclass(frozen=True)
class ModelInfo:
    """[12.1] [12.2] A public model id and its upstream key; the flags say what the model can do."""

    id: str
    key: str
    type: ModelKind
    description: str
    default: bool = False
    multi_image: bool = False
    blend: bool = False


@dataclass(frozen=True)
class ImageSize:
    """[12.3] One ratio of one tier, written in the file as the row ``[width, height, code]``."""

    ROW: ClassVar[bool] = True
    width: int
    height: int
    code: int


@dataclass(frozen=True)
class ImageInfoConfig:
    """[11.1] ``image_info`` of poll bodies."""

    width: int
    height: int
    format: str
    scenes: tuple[ImageScene, ...]


@dataclass(frozen=True)
class ImageScene:
    """[11.1] One rendition asked for when polling, written as the row ``[scene, width, height, uniq_key]``."""

    ROW: ClassVar[bool] = True
    scene: str
    width: int
    height: int
    uniq_key: str


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
    imagex: ImagexConfig
    video: VideoConfig
    blend: BlendConfig
    costs: Costs
    limits: RequestLimits
    defaults: Defaults
    models: tuple[ModelInfo, ...]
    image_tier_sides: Mapping[str, int]  # tier -> nominal longest side, in file order
    image_sizes: Mapping[str, Mapping[str, ImageSize]]  # tier -> ratio -> size, in file order
    image_info: ImageInfoConfig
    aliases: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def model(self, model_id: str) -> ModelInfo | None:
        """The model with this public id (or configured alias), or None."""
        model_id = self.aliases.get(model_id, model_id)
        return next((m for m in self.models if m.id == model_id), None)

    def default_model(self, kind: str) -> ModelInfo:
        return next(m for m in self.models if m.type == kind and m.default)

    def models_of(self, kind: str) -> tuple[ModelInfo, ...]:
        return tuple(m for m in self.models if m.type == kind)

    @property
    def image_tiers(self) -> tuple[str, ...]:
        """The resolution tiers, in file order."""
        return tuple(self.image_tier_sides)

    @property
    def image_ratios(self) -> tuple[str, ...]:
        return tuple(self.image_sizes["2k"])

    @property
    def video_ratios(self) -> tuple[str, ...]:
        return self.video.ratios

    def image_size(self, ratio: str, resolution: str) -> ImageSize:
        return self.image_sizes[resolution][ratio]


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
    except _Invalid as err:
        raise UpstreamConfigError(f"{source}: {err}") from None
    return config


class _Invalid(Exception):
    """One problem at one dotted key; load_upstream adds the file name."""


def build(cls: type[T], raw: Any, where: str = "") -> T:
    """A ``cls`` dataclass from parsed YAML, guided only by its fields and type hints.

    Understands nested dataclasses (from a mapping, or from a list for classes marked ``ROW``), ``tuple[X, ...]``,
    ``Mapping[str, X]`` (kept in file order, read-only), ``Literal`` of strings, and int, float, str and bool,
    which are not converted into each other (YAML's ``3.10`` is a float, not a version string). A field with a
    default may be left out; any other missing key, and every unknown key, is an error.
    """
    return _value(cls, raw, where)


def _value(hint: Any, raw: Any, where: str) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(hint, raw, where)
    origin = get_origin(hint)
    if origin is tuple:
        item, ellipsis = get_args(hint)
        if ellipsis is not Ellipsis:
            raise TypeError(f"the upstream loader reads only tuple[X, ...], not {hint!r} of {where}")
        if not isinstance(raw, list):
            raise _Invalid(f"{_named(where)}: expected a list, got {_show(raw)}")
        return tuple(_value(item, entry, f"{where}[{index}]") for index, entry in enumerate(raw))
    if origin is Mapping:
        _key, item = get_args(hint)
        if not isinstance(raw, dict):
            raise _Invalid(f"{_named(where)}: expected a mapping, got {_show(raw)}")
        for key in raw:
            if not isinstance(key, str):
                raise _Invalid(f"{_named(where)}: expected string keys, got {_show(key)}")
        return MappingProxyType({key: _value(item, value, _join(where, key)) for key, value in raw.items()})
    if origin is Literal:
        choices = get_args(hint)
        if not isinstance(raw, str) or raw not in choices:
            raise _Invalid(f"{_named(where)}: expected one of {', '.join(choices)}, got {_show(raw)}")
        return raw
    return _scalar(hint, raw, where)


def _scalar(hint: Any, raw: Any, where: str) -> Any:
    if hint is bool:
        ok, what = isinstance(raw, bool), "true or false"
    elif hint is int:
        ok, what = isinstance(raw, int) and not isinstance(raw, bool), "an integer"
    elif hint is float:
        ok, what = isinstance(raw, int | float) and not isinstance(raw, bool), "a number"
        raw = float(raw) if ok else raw
    elif hint is str:
        ok, what = isinstance(raw, str), "a string"
    else:
        raise TypeError(f"the upstream loader does not know the type {hint!r} of {where}")
    if not ok:
        raise _Invalid(f"{_named(where)}: expected {what}, got {_show(raw)}")
    return raw


def _dataclass(cls: type[Any], raw: Any, where: str) -> Any:
    specs = {spec.name: spec for spec in dataclasses.fields(cls) if spec.init}
    if isinstance(raw, list) and getattr(cls, "ROW", False):
        if len(raw) != len(specs):
            raise _Invalid(f"{_named(where)}: expected a row [{', '.join(specs)}], got {_show(raw)}")
        raw = dict(zip(specs, raw, strict=True))
    if not isinstance(raw, dict):
        raise _Invalid(f"{_named(where)}: expected a mapping, got {_show(raw)}")
    unknown = next((key for key in raw if key not in specs), None)
    if unknown is not None:
        raise _Invalid(f"unknown key {_join(where, str(unknown))}")
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        if name in raw:
            values[name] = _value(hints[name], raw[name], _join(where, name))
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise _Invalid(f"missing key {_join(where, name)}")
    return cls(**values)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _named(where: str) -> str:
    return where or "the top level"


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _one_line(text: str) -> str:
    return " ".join(text.split())


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# -- consistency -------------------------------------------------------------------------------------------


def _check(config: UpstreamConfig) -> None:
    """What the types cannot say: one default model per kind, unique ids, the same ratios in every tier."""
    seen: set[str] = set()
    for index, model in enumerate(config.models):
        if model.id in seen:
            raise _Invalid(f"models[{index}].id: model {model.id} is listed twice")
        seen.add(model.id)
    for kind in ("image", "video"):
        defaults = [m.id for m in config.models if m.type == kind and m.default]
        if len(defaults) != 1:
            raise _Invalid(f"models: exactly one default {kind} model needed, got {defaults}")
    tiers = tuple(config.image_tier_sides)
    for tier in tiers:
        if tier not in config.image_sizes:
            raise _Invalid(f"missing key image_sizes.{tier}")
    for tier in config.image_sizes:
        if tier not in tiers:
            raise _Invalid(f"unknown key image_sizes.{tier} (tiers are {', '.join(tiers)})")
    for tier, table in config.image_sizes.items():
        for other, other_table in config.image_sizes.items():
            missing = next((ratio for ratio in other_table if ratio not in table), None)
            if missing is not None:
                raise _Invalid(f"missing key image_sizes.{tier}.{missing} (image_sizes.{other} has it)")
    _check_calls(config)
    for alias, target in config.aliases.items():
        if not any(m.id == target for m in config.models):
            raise _Invalid(f"aliases.{alias}: points at unknown model {target}")
    _check_defaults(config)


def _check_calls(config: UpstreamConfig) -> None:
    """Every call names a query set that exists, every set only parameters that have a value, and cookie
    values only the placeholders the client fills in."""
    query = config.query
    for name, names in query.sets.items():
        for index, param in enumerate(names):
            if param not in query.values and param not in query.FILLED_IN:
                raise _Invalid(f"query.sets.{name}[{index}]: {param} has no entry in query.values")
    for spec in dataclasses.fields(config.calls):
        call: CallConfig = getattr(config.calls, spec.name)
        if call.query not in query.sets:
            raise _Invalid(f"calls.{spec.name}.query: {call.query} is not one of query.sets ({', '.join(query.sets)})")
    for name, template in config.cookie.items():
        try:
            template.format_map({field: "" for field in COOKIE_FIELDS})
        except (KeyError, ValueError, IndexError) as err:
            fields = ", ".join("{" + field + "}" for field in COOKIE_FIELDS)
            raise _Invalid(f"cookie.{name}: {template!r} may use only {fields} ({err!r})") from None


def _check_defaults(config: UpstreamConfig) -> None:
    """Every default must be a value the tables accept, or a request that leaves the field out fails."""
    defaults = config.defaults
    choices: list[tuple[str, object, tuple[object, ...]]] = [
        ("image_ratio", defaults.image_ratio, config.image_ratios),
        ("image_resolution", defaults.image_resolution, tuple(config.image_tier_sides)),
        ("video_ratio", defaults.video_ratio, config.video.ratios),
        ("video_resolution", defaults.video_resolution, tuple(config.video.resolutions)),
        ("video_duration", defaults.video_duration, config.video.durations),
    ]
    for name, value, allowed in choices:
        if value not in allowed:
            shown = ", ".join(map(str, allowed))
            raise _Invalid(f"defaults.{name}: {value!r} is not one of the table's values ({shown})")
