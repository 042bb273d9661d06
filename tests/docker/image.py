"""The repository's Dockerfile built and run without a Docker daemon: buildah (vfs storage, chroot isolation) builds
it, podman (runc) runs it.

``.ci/run`` installs buildah, podman, runc and mmdebstrap when they are missing (CI is root on Debian). Without
them these tests fail under CI and skip elsewhere, as the Redis and browser tests do.

The base image. The Dockerfile's ``FROM ${PYTHON_IMAGE}`` is ``python:3.11-slim`` from Docker Hub. When no
container registry can be reached (the CI machines reach the Debian, PyPI and npm registries only), the build
uses a stand-in built here: Debian bookworm (whose python3 is 3.11) by mmdebstrap from deb.debian.org, made
as Debian's slim images are (minbase, no docs, man pages or locales: python:3.11-slim's base) plus python3-venv,
imported as ``localhost/jimeng-ci-python``. Every step of the Dockerfile then runs as written
(venv, ``pip install .`` from PyPI, the non-root user, the HEALTHCHECK, the Procfile's command). The log of a
run (which base was used and why) is written beside the screenshots: ``<tmp>/jimeng-docker-image/build.log``.

Storage lives in the repository's ``.cache/containers`` (ignored by git and by ``.dockerignore``); a run keeps
the base image there for the next one and removes what it built.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support import ROOT

TOOLS = ("buildah", "podman", "runc", "mmdebstrap")
MISSING = "{} not installed; .ci/run installs them (apt-get install buildah podman runc mmdebstrap)"
UPSTREAM_BASE = "docker.io/library/python:3.11-slim"
STANDIN_PACKAGES = ("python3", "python3-venv", "python-is-python3", "ca-certificates", "passwd")  # passwd: useradd
STANDIN_RECIPE = ["--variant=minbase", f"--include={','.join(STANDIN_PACKAGES)}"] + [
    f"--dpkgopt=path-exclude=/usr/share/{folder}/*" for folder in ("doc", "man", "locale")
]
STANDIN_TAG = (
    "localhost/jimeng-ci-python:3.11-bookworm-" + hashlib.sha256(repr(STANDIN_RECIPE).encode()).hexdigest()[:8]
)
IMAGE = "localhost/jimeng-api:ci"
STORAGE = ROOT / ".cache" / "containers"
LOGS = Path(tempfile.gettempdir()) / "jimeng-docker-image"
# podman's database remembers its run root: one per storage, the same on every run
RUNROOT = Path(tempfile.gettempdir()) / f"jimeng-containers-{hashlib.sha256(bytes(STORAGE)).hexdigest()[:8]}"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def require_tools() -> None:
    """buildah, podman, runc and mmdebstrap as root; otherwise fail under CI and skip elsewhere."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    reason = MISSING.format(", ".join(missing)) if missing else None
    if reason is None and os.geteuid() != 0:
        reason = "building images with vfs storage needs root (CI runs .ci/run as root)"
    if reason is None:
        return
    missing(reason)


@dataclass
class Containers:
    """buildah and podman on one storage (vfs under .cache/containers) and one run root; every call is logged."""

    runroot: Path
    log: Path

    def storage(self) -> list[str]:
        return ["--root", str(STORAGE / "storage"), "--runroot", str(self.runroot), "--storage-driver", "vfs"]

    def run(
        self, command: Sequence[str], *, timeout: float = 600, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        done = subprocess.run(list(command), capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        with self.log.open("a") as log:
            log.write(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}")
            log.write(f"-> exit {done.returncode} in {time.monotonic() - started:.1f} s\n\n")
        if check and done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise AssertionError(f"{command[0]} {command[-1]} failed ({done.returncode}): {' | '.join(tail)}")
        return done

    def podman(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
        # runc, not Debian's default crun: crun refuses the hybrid cgroup hierarchy of these machines
        return self.run(["podman", *self.storage(), "--runtime", "runc", *args], timeout=timeout, check=check)

    def buildah(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return self.run(["buildah", *self.storage(), *args], timeout=timeout)

    def note(self, line: str) -> None:
        with self.log.open("a") as log:
            log.write(f"# {line}\n")

    def exists(self, image: str) -> bool:
        return self.podman("image", "exists", image, check=False).returncode == 0

    def base_image(self) -> str:
        """python:3.11-slim when a registry answers, else the bookworm stand-in (built once, kept in storage)."""
        if self.exists(UPSTREAM_BASE):
            self.note(f"base: {UPSTREAM_BASE} (in storage)")
            return UPSTREAM_BASE
        pulled = self.podman("pull", "--quiet", UPSTREAM_BASE, timeout=300, check=False)
        if pulled.returncode == 0:
            self.note(f"base: {UPSTREAM_BASE} (pulled)")
            return UPSTREAM_BASE
        why = (pulled.stderr.strip().splitlines() or ["no output"])[-1]
        if self.exists(STANDIN_TAG):
            self.note(f"base: {STANDIN_TAG} (in storage); {UPSTREAM_BASE} could not be pulled: {why}")
            return STANDIN_TAG
        self.note(f"base: {STANDIN_TAG}, built now; {UPSTREAM_BASE} could not be pulled: {why}")
        stale = self.podman("images", "--format", "{{.Repository}}:{{.Tag}}", STANDIN_TAG.split(":")[0]).stdout.split()
        if stale:  # stand-ins of an older recipe
            self.podman("rmi", "--force", *stale, check=False)
        with tempfile.TemporaryDirectory(prefix="jimeng-base-") as folder:
            tarball = Path(folder) / "rootfs.tar"
            self.run(["mmdebstrap", *STANDIN_RECIPE, "bookworm", str(tarball), "http://deb.debian.org/debian"])
            self.podman("import", "--change", 'CMD ["python3"]', str(tarball), STANDIN_TAG)
        return STANDIN_TAG

    def build(self, base: str) -> None:
        """The Dockerfile as written, in docker format (OCI images drop HEALTHCHECK). RUN steps see this host's
        CA bundle through a pip.conf mounted for the build only (machines behind a TLS-inspecting proxy)."""
        mounts: list[str] = []
        if HOST_CA_BUNDLE.exists():
            pip_conf = self.runroot / "pip.conf"
            pip_conf.write_text("[global]\ncert = /run/host-ca.crt\n")
            mounts = ["--volume", f"{HOST_CA_BUNDLE}:/run/host-ca.crt:ro", "--volume", f"{pip_conf}:/etc/pip.conf:ro"]
        self.buildah(
            "bud", "--isolation", "chroot", "--format", "docker", "--pull-never", "--layers=false",
            "--build-arg", f"PYTHON_IMAGE={base}", *mounts, "-f", "Dockerfile", "-t", IMAGE, ".",
        )  # fmt: skip

    def remove_built(self) -> None:
        self.podman("rm", "--all", "--force", check=False)
        self.podman("rmi", "--force", IMAGE, check=False)
        self.buildah("rm", "--all")


@contextmanager
def containers() -> Iterator[Containers]:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / "build.log"
    log.write_text("")
    RUNROOT.mkdir(parents=True, exist_ok=True)
    tools = Containers(RUNROOT, log)
    try:
        yield tools
    finally:
        tools.remove_built()


def same_limits() -> list[str]:
    """``--ulimit`` values at or below this process's own: podman's defaults (1048576 open files, 32768 or more
    processes) may be above what root may set on these machines (no CAP_SYS_RESOURCE), and runc then fails with
    "error setting rlimits". A lower limit can always be set; these are far above what one worker uses."""
    files = min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 65536)
    processes = min(resource.getrlimit(resource.RLIMIT_NPROC)[0], 32768)
    return ["--ulimit", f"nofile={files}:{files}", "--ulimit", f"nproc={processes}:{processes}"]
