"""Frozen dataclasses from parsed YAML, guided only by their fields and type hints.

One generic, strict loader for ``config/upstream.yml``: a missing, unknown or mistyped key is an ``Invalid``
naming its dotted key, so a bad file stops start-up with one line instead of a 500 on the first request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

T = TypeVar("T")


class Invalid(Exception):
    """One problem at one dotted key; the caller adds the file name."""


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
            raise TypeError(f"the typed YAML loader reads only tuple[X, ...], not {hint!r} of {where}")
        if not isinstance(raw, list):
            raise Invalid(f"{_named(where)}: expected a list, got {_show(raw)}")
        return tuple(_value(item, entry, f"{where}[{index}]") for index, entry in enumerate(raw))
    if origin is Mapping:
        _key, item = get_args(hint)
        if not isinstance(raw, dict):
            raise Invalid(f"{_named(where)}: expected a mapping, got {_show(raw)}")
        for key in raw:
            if not isinstance(key, str):
                raise Invalid(f"{_named(where)}: expected string keys, got {_show(key)}")
        return MappingProxyType({key: _value(item, value, _join(where, key)) for key, value in raw.items()})
    if origin is Literal:
        choices = get_args(hint)
        if not isinstance(raw, str) or raw not in choices:
            raise Invalid(f"{_named(where)}: expected one of {', '.join(choices)}, got {_show(raw)}")
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
        raise TypeError(f"the typed YAML loader does not know the type {hint!r} of {where}")
    if not ok:
        raise Invalid(f"{_named(where)}: expected {what}, got {_show(raw)}")
    return raw


def _dataclass(cls: type[Any], raw: Any, where: str) -> Any:
    specs = {spec.name: spec for spec in dataclasses.fields(cls) if spec.init}
    if isinstance(raw, list) and getattr(cls, "ROW", False):
        if len(raw) != len(specs):
            raise Invalid(f"{_named(where)}: expected a row [{', '.join(specs)}], got {_show(raw)}")
        raw = dict(zip(specs, raw, strict=True))
    if not isinstance(raw, dict):
        raise Invalid(f"{_named(where)}: expected a mapping, got {_show(raw)}")
    unknown = next((key for key in raw if key not in specs), None)
    if unknown is not None:
        raise Invalid(f"unknown key {_join(where, str(unknown))}")
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        if name in raw:
            values[name] = _value(hints[name], raw[name], _join(where, name))
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise Invalid(f"missing key {_join(where, name)}")
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
