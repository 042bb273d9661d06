"""/playground without a browser: its headers, its files, the link to it, and words for every error code.

tests/browser/ drives the page itself in a real Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import requests

from app.api.playground import content_security_policy, media_origins
from tests.support import ROOT

SCRIPT = ROOT / "app" / "static" / "playground.js"


def test_the_page_and_its_files_are_served_with_a_self_only_policy(live_server: Callable[..., str]) -> None:
    base = live_server(jimeng_base_url="http://127.0.0.1:9", jimeng_imagex_url="https://imagex.example")
    page = requests.get(f"{base}/playground", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    policy = dict(part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";"))
    for directive in ("default-src", "script-src", "style-src", "connect-src"):
        assert policy[directive] == "'self'", directive  # the session id can go to this service only
    assert policy["img-src"] == "'self' data: blob: https: http://127.0.0.1:9"  # results: Jimeng's CDN, or the emulator
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert requests.get(base + src, timeout=10).status_code == 200, src
    assert "/static/playground.js" in page.text and "/static/playground.css" in page.text
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page.text)  # nothing fetched from elsewhere
    assert 'href="/playground"' in requests.get(f"{base}/", timeout=10).text


def test_the_module_fetches_nothing_from_elsewhere() -> None:
    script = SCRIPT.read_text()
    assert not re.search(r"\bimport\b[^;]*from\s", script)  # one module, no imports
    urls = re.findall(r'fetch\(\s*[`"]([^`"]*)', script)
    assert urls and all(url.startswith("/v1/") for url in urls), urls  # this service's API, by path


def test_media_origins_are_the_plain_http_upstreams_only() -> None:
    assert media_origins("https://jimeng.jianying.com", "http://127.0.0.1:5/x", "http://127.0.0.1:5") == [
        "http://127.0.0.1:5"
    ]
    assert "connect-src 'self'" in content_security_policy([])


def error_codes_answered() -> set[str]:
    """Every ``error.code`` the service can answer: the reference's error table, the domain's error classes and
    the codes views pass by name."""
    table = (ROOT / "docs" / "api.md").read_text()
    codes = set(re.findall(r"^\| \d{3} \| `[a-z_]+` \| `([a-z_]+)` \|", table, re.MULTILINE))
    domain = (ROOT / "app" / "domain" / "errors.py").read_text()
    codes |= set(re.findall(r'^    code(?:: ClassVar\[str\])? = "([a-z_]+)"', domain, re.MULTILINE)) - {"error"}
    for path in (ROOT / "app").rglob("*.py"):
        if "emulator" not in path.parts:
            codes |= set(re.findall(r'\bcode="([a-z_]+)"', path.read_text()))
    return codes


def sentences(language: str) -> dict[str, str]:
    script = SCRIPT.read_text()
    block = re.search(rf"^  {language}: \{{\n(.*?)^  \}},", script.split("export const ERRORS")[1], re.S | re.M)
    assert block, language
    return dict(re.findall(r'^    ([a-z_]+):\s*"([^"]+)",', block.group(1), re.MULTILINE))


def test_every_error_code_has_plain_words_in_english_and_chinese() -> None:
    codes = error_codes_answered()
    assert {"session_expired", "insufficient_credits", "content_filtered", "generation_failed"} <= codes
    for language in ("en", "zh"):
        words = sentences(language)
        missing = sorted(codes - set(words))
        assert not missing, f"playground.js ERRORS.{language} has no words for {missing}"
    assert re.search(r"[\u4e00-\u9fff]", sentences("zh")["session_expired"])


def test_the_page_is_packaged() -> None:
    """A non-editable install (the Docker image's) carries the page's files: tests/docker builds one."""
    setup = (ROOT / "setup.cfg").read_text()
    assert re.search(r"^app = templates/\*\.html, static/\*\.js, static/\*\.css$", setup, re.MULTILINE)
