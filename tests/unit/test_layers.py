"""Which package may import which (the README's layers), checked on the source, lazy imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import ROOT

WEB = ("flask", "werkzeug")
FORBIDDEN = {
    "app/domain": (*WEB, "requests", "urllib3", "app.api", "app.jimeng", "app.inputs", "app.http"),
    "app/inputs": (*WEB, "app.api", "app.jimeng"),
    "app/http.py": (*WEB, "app.api", "app.jimeng", "app.inputs"),
}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_it_must_not(layer: str) -> None:
    place = ROOT / layer
    files = sorted(place.rglob("*.py")) if place.is_dir() else [place]
    found = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in imported(path)
        if any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN[layer])
    }
    assert files and not found
