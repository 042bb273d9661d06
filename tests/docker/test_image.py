"""The Docker image: built from the repository's Dockerfile, run with its own command, answering /ping, the
playground and a generation against the emulator (see tests/docker/image.py for how, without a daemon)."""

from __future__ import annotations

import json
import re
import shlex
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from app.emulator import EmulatorServer, start_emulator
from tests.docker.image import IMAGE, Containers, containers, require_tools, same_limits
from tests.support import ROOT, free_port, wait_until_up

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def built() -> Iterator[Containers]:
    require_tools()
    with containers() as tools:
        tools.build(tools.base_image())
        yield tools


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with start_emulator(port=0, image_seconds=0.5) as server:
        yield server


@pytest.fixture(scope="module")
def service(built: Containers, emulator: EmulatorServer) -> Iterator[tuple[str, str]]:
    """The image run as a platform runs it: its own command, PORT from the environment, host networking (the
    emulator listens on this machine's loopback)."""
    port = free_port()
    env = {
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "1",
        "JIMENG_BASE_URL": emulator.url,
        "JIMENG_IMAGEX_URL": emulator.url,
    }
    flags = [item for key, value in env.items() for item in ("--env", f"{key}={value}")]
    name = f"jimeng-api-ci-{port}"
    built.podman("run", "--detach", "--name", name, "--network", "host", *same_limits(), *flags, IMAGE)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/ping", timeout=60)
        yield name, f"http://127.0.0.1:{port}"
    finally:
        built.podman("stop", "--time", "10", name, check=False)
        built.podman("logs", name, check=False)  # into the build log


def image_config(built: Containers) -> dict[str, Any]:
    """The image's config; podman lists a docker-format image's HEALTHCHECK beside it, as ``Healthcheck``."""
    inspected = json.loads(built.podman("image", "inspect", IMAGE).stdout)[0]
    return {
        **inspected["Config"],
        "Healthcheck": inspected.get("Healthcheck") or inspected["Config"].get("Healthcheck"),
    }


def test_the_image_answers_ping_the_playground_and_a_demo_generation(service: tuple[str, str]) -> None:
    _, url = service
    assert requests.get(f"{url}/ping", timeout=5).text == "pong"
    page = requests.get(f"{url}/playground", timeout=5)
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    assert requests.get(f"{url}/static/playground.js", timeout=5).status_code == 200  # packaged by pip install .
    generated = requests.post(
        f"{url}/v1/images/generations",
        json={"prompt": "a lighthouse in a container", "n": 1},
        headers={"Authorization": "Bearer docker-ci-session"},
        timeout=60,
    )
    assert generated.status_code == 200, generated.text
    assert generated.json()["history_id"] and len(generated.json()["data"]) == 1


def test_the_image_runs_the_procfile_command_as_a_non_root_user(built: Containers, service: tuple[str, str]) -> None:
    name, _ = service
    config = image_config(built)
    procfile = (ROOT / "Procfile").read_text().split("web:", 1)[1].strip()
    assert config["Cmd"] == shlex.split(procfile)
    assert config["User"] == "10001:10001"
    assert built.podman("exec", name, "id", "-u").stdout.strip() == "10001"
    top = built.podman("exec", name, "python", "-c", "import os; print(open('/proc/1/cmdline').read())").stdout
    assert "gunicorn" in top


def test_the_healthcheck_probes_ping(built: Containers, service: tuple[str, str]) -> None:
    name, _ = service
    check = image_config(built)["Healthcheck"]
    assert "/ping" in " ".join(check["Test"])
    assert check["Interval"] == 30 * 10**9 and check["Retries"] == 3
    deadline = time.monotonic() + 30
    while built.podman("healthcheck", "run", name, check=False).returncode != 0:  # the image's own probe, run
        assert time.monotonic() < deadline, "the HEALTHCHECK never passed"
        time.sleep(1)


def test_the_build_context_leaves_out_what_the_image_must_not_carry() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", ".cache", ".env", "instance", "tests"} <= ignored  # .cache holds the build's storage
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER 10001", dockerfile, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n.*/ping", dockerfile, re.MULTILINE)
