"""The direction of imports between the layers, checked on every module's syntax tree (also imports inside
functions), so a shortcut across layers fails the build instead of slowly eroding them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ("flask", "werkzeug")
HTTP = ("requests", "urllib3")

# package -> (forbidden import prefixes, why)
RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "app/domain": (
        (
            *WEB,
            *HTTP,
            "PIL",
            "app.http",
            "app.imaging",
            "app.jimeng",
            "app.api",
            "app.inputs",
            "app.emulator",
            "app.wiring",
            "app.errors",
            "app.metrics",
            "prometheus_client",
            "cryptography",
            "app.sealing",
        ),
        "the domain is what a generation is: no web framework, no HTTP client, no concrete upstream",
    ),
    "app/api": (("app.jimeng", "app.inputs", "app.emulator"), "views talk to the domain; only wiring knows the client"),
    "app/jimeng": ((*WEB, "app.api", "app.inputs", "app.emulator", "app.wiring"), "the client knows no web framework"),
    "app/inputs": ((*WEB, "app.api", "app.jimeng", "app.emulator"), "users' inputs are not the Jimeng client"),
    "app/state": (
        (*WEB, "app.api", "app.jimeng", "app.inputs", "app.emulator", "app.wiring", "app.errors"),
        "the store is a plain library behind app.domain.store: no web framework, no upstream",
    ),
    "app/metrics.py": (
        (*HTTP, "app.api.images", "app.api.chat", "app.jimeng", "app.inputs", "app.state", "app.emulator"),
        "metrics keep the domain's events (its Observer) and answer /metrics; they reach nothing themselves",
    ),
    "app/emulator": (("app", "config"), "the emulator is an independent model of the upstream: it shares nothing"),
    "app/sealing.py": (
        (*WEB, *HTTP, "app.api", "app.domain", "app.jimeng", "app.inputs", "app.state"),
        "sealing secrets at rest is a plain library behind the domain's Sealer protocol",
    ),
    "app/http.py": ((*WEB, "app.api", "app.domain", "app.jimeng", "app.inputs"), "one neutral HTTP exchange"),
    "app/imaging.py": (
        (*WEB, *HTTP, "app.api", "app.domain", "app.jimeng", "app.inputs", "app.http"),
        "re-encoding result images is a plain library",
    ),
}


def imported_modules(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a file, relative ones resolved."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found += [(node.lineno, f"{base}.{alias.name}" if node.module is None else base) for alias in node.names]
    return found


def _matches(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(package: str, root: Path = ROOT) -> list[str]:
    forbidden, _ = RULES[package]
    allowed_inside = package.removesuffix(".py").replace("/", ".")
    place = root / package
    files = sorted(place.rglob("*.py")) if place.is_dir() else [place]
    return [
        f"{path.relative_to(root)}:{line} imports {module}"
        for path in files
        for line, module in imported_modules(path, root)
        if any(_matches(module, prefix) for prefix in forbidden) and not _matches(module, allowed_inside)
    ]


@pytest.mark.parametrize("package", sorted(RULES))
def test_layers_import_only_in_their_direction(package: str) -> None:
    assert (ROOT / package).exists()
    assert violations(package) == [], RULES[package][1]


def test_the_checker_sees_relative_and_nested_imports(tmp_path: Path) -> None:
    (tmp_path / "app" / "domain").mkdir(parents=True)
    probe = "from . import models\n\ndef f():\n    import requests\n    from ..jimeng import client\n"
    (tmp_path / "app" / "domain" / "probe.py").write_text(probe, encoding="utf-8")
    found = violations("app/domain", root=tmp_path)
    assert [entry.split(" imports ")[1] for entry in found] == ["requests", "app.jimeng"]
