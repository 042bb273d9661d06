"""A real headless Chromium (Debian's ``chromium``, driven by Playwright) against the service and the emulator.

``.ci/run`` installs chromium when it is missing. Without it (or without the ``playwright`` package of the test
extras) these tests fail under CI (the env var ``CI`` set: a browser test silently skipped there would hide a
broken page) and skip with the reason elsewhere. Screenshots go to a temporary folder, never the repository:
``$PLAYGROUND_SCREENSHOTS`` or ``<tmp>/jimeng-playground-screenshots``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from app.emulator import EmulatorServer, start_emulator
from config.settings import settings_for_tests
from tests.support import LiveServer, missing

MISSING = "chromium not installed; .ci/run installs it (apt-get install chromium)"
NO_PLAYWRIGHT = "the playwright package is missing: pip install -e '.[test]'"
BINARIES = ("chromium", "chromium-browser", "google-chrome")
FAST = {"poll_min_seconds": 0.05, "poll_max_seconds": 0.5}


def chromium_binary() -> str | None:
    for name in (os.environ.get("CHROMIUM"), *BINARIES):
        if name and (found := shutil.which(name)):
            return found
    return None


@dataclass
class Site:
    """The service under test and its emulator."""

    url: str
    emulator: EmulatorServer


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    with start_emulator(port=0, image_seconds=1.0, video_seconds=1.5) as emulator:
        settings = {"jimeng_base_url": emulator.url, "jimeng_imagex_url": emulator.url, **FAST}
        server = LiveServer(create_app(settings_for_tests(**settings)))
        try:
            yield Site(server.url, emulator)
        finally:
            server.stop()
            server.app.extensions["generation"].poller.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    binary = chromium_binary()
    if binary is None:
        missing(MISSING)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing(NO_PLAYWRIGHT)
    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # chromium refuses to run as root with its sandbox
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=binary, args=args)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    folder = Path(
        os.environ.get("PLAYGROUND_SCREENSHOTS") or Path(tempfile.gettempdir()) / "jimeng-playground-screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Console:
    """What the page said on its console: CSP violations and script errors fail a test."""

    lines: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [line for line in self.lines if "Content Security Policy" in line or line.startswith("pageerror")]


@pytest.fixture
def open_page(browser: Any, site: Site) -> Iterator[Any]:
    """``open_page(locale="en-US")``: a fresh browser context (empty localStorage) on /playground."""
    contexts: list[Any] = []
    consoles: list[Console] = []

    def open_(locale: str = "en-US") -> Any:
        context = browser.new_context(locale=locale, viewport={"width": 1100, "height": 1300})
        contexts.append(context)
        page = context.new_page()
        console = Console()
        consoles.append(console)
        page.on("console", lambda message: console.lines.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: console.lines.append(f"pageerror: {error}"))
        page.goto(f"{site.url}/playground")
        page.locator("body[data-ready='1']").wait_for(timeout=15_000)
        return page

    yield open_
    for context in contexts:
        context.close()
    problems = [line for console in consoles for line in console.problems()]
    assert not problems, problems
