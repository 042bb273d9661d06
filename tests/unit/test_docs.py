"""The documentation people read: links between the pages resolve, and the troubleshooting page and the API
reference's error table name every error code the service can answer and every Jimeng number behind one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import app.errors
from app.domain import errors as domain
from app.jimeng.errors import BY_CODE

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([*ROOT.glob("README*.md"), *(ROOT / "docs").glob("*.md")])
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.MULTILINE)
_LITERAL_CODE = re.compile(r"""\bcode\s*=\s*["']([a-z_]+)["']""")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (letters of any script kept), spaces to
    hyphens."""
    text = re.sub(r"[`*]", "", heading.strip()).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    return {slug(match) for match in _HEADING.findall(text)}


def links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    text = re.sub(r"`[^`\n]*`", "", text)  # `[video](url)` in a code span is an example, not a link
    return [target for target in _LINK.findall(text) if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.relative_to(ROOT)}")
    assert not broken, broken


def answerable_codes() -> set[str]:
    """Every error.code the service can send: the error classes', the HTTP server's, and the literal codes
    given where an error is raised."""
    classes: set[type[domain.DomainError]] = set()
    todo = domain.DomainError.__subclasses__()  # the base itself is never raised
    while todo:
        cls = todo.pop()
        classes.add(cls)
        todo.extend(cls.__subclasses__())
    codes = {cls.code for cls in classes if cls.code}
    codes |= set(app.errors._HTTP_CODES.values()) | {"http_error"}
    for source in (ROOT / "app").rglob("*.py"):
        if "emulator" not in source.parts:
            codes |= set(_LITERAL_CODE.findall(source.read_text(encoding="utf-8")))
    return codes


def test_the_scan_finds_the_codes_it_should() -> None:
    codes = answerable_codes()
    assert {"invalid_json", "session_expired", "too_many_images", "missing_field", "uri_too_long"} <= codes


def test_the_troubleshooting_page_covers_every_error_code() -> None:
    text = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    assert sorted(code for code in answerable_codes() if f"| `{code}` |" not in text) == []


def test_the_troubleshooting_page_covers_every_jimeng_number() -> None:
    text = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    assert sorted(number for number in BY_CODE if f"`{number}`" not in text) == []


def test_the_api_reference_s_error_table_covers_every_code_a_request_can_get() -> None:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    never_sent = {"client_closed_request"}  # logged only: the client is gone
    missing = sorted(code for code in answerable_codes() - never_sent if f"| `{code}` |" not in text)
    assert missing == []


def test_the_api_reference_documents_every_operation_of_openapi_json_and_every_request_field() -> None:
    """docs/api.md is kept by hand; /openapi.json is built from the schemas that validate requests. Every
    operation of the one is named in the other (`POST /v1/images/upscale`), and every field a request body
    takes appears in it as `field`."""
    from app import create_app
    from config.settings import settings_for_tests

    spec = create_app(settings_for_tests(log_level="WARNING")).test_client().get("/openapi.json").get_json()
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    missing = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if f"{method.upper()} {path}" not in text:
                missing.append(f"{method.upper()} {path}")
            for media in operation.get("requestBody", {}).get("content", {}).values():
                schema = media.get("schema", {})
                if "$ref" in schema:
                    schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
                missing += [f"{path}: `{field}`" for field in schema.get("properties", {}) if f"`{field}`" not in text]
    assert missing == []
