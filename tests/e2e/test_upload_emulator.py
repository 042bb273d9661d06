"""The ImageUploader against the emulator, which verifies SigV4, the issued token, Auth and CRC32 itself."""

from __future__ import annotations

import hashlib
import io
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from PIL import Image

from app.domain.errors import UpstreamUnavailableError
from app.domain.models import InputImage
from app.emulator import EmulatorServer, start_emulator
from app.jimeng import upload as upload_module
from app.jimeng.client import ClientConfig, JimengClient
from app.jimeng.transport import new_http_session
from app.jimeng.upload import ImageUploader
from config.upstream import load_upstream


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


IMAGES = [InputImage(png(30 + i, 20, (40 * i, 90, 200)), "url", "image/png") for i in range(3)]


class CountingSession(requests.Session):
    """The pooled session, counting how many requests are in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = new_http_session()
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kw: Any) -> requests.Response:  # type: ignore[override]
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self.inner.request(method, url, *args, **kw)
        finally:
            with self._lock:
                self.in_flight -= 1

    def close(self) -> None:
        self.inner.close()
        super().close()


@pytest.fixture(scope="module")
def emulator_server() -> Iterator[EmulatorServer]:
    with start_emulator(port=0) as server:
        yield server


@pytest.fixture
def emu(emulator_server: EmulatorServer) -> EmulatorServer:
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def http() -> Iterator[CountingSession]:
    with CountingSession() as session:
        yield session


def make_client(emu: EmulatorServer, http: requests.Session) -> JimengClient:
    config = ClientConfig(
        base_url=emu.url, imagex_url=emu.url, connect_timeout=2.0, read_timeout=5.0, submit_settle_seconds=0
    )
    return JimengClient(load_upstream(), config, http=http, sleep=lambda _: None)


def committed(emu: EmulatorServer, uris: list[str], images: list[InputImage]) -> bool:
    """Every URI committed, and holding the bytes of the image at the same position."""
    return all(
        emu.state.is_committed(uri) and emu.state.slots[uri].uploaded["md5"] == hashlib.md5(image.data).hexdigest()  # type: ignore[index]
        for uri, image in zip(uris, images, strict=True)
    )


def test_images_are_uploaded_concurrently_and_returned_in_order(emu: EmulatorServer, http: CountingSession) -> None:
    emu.configure(faults={"upload": {"latency_ms": 300}})
    uris = ImageUploader(make_client(emu, http)).upload_images(uuid.uuid4().hex, IMAGES, video=False)
    assert len(set(uris)) == 3 and all(uri.startswith("tos-cn-i-tb4s082cfz/") for uri in uris)
    assert committed(emu, uris, IMAGES)
    assert http.max_in_flight >= 2
    routes = emu.stats()["requests"]["by_path"]
    assert routes["/?Action=ApplyImageUpload"] == routes["/upload/v1"] == routes["/?Action=CommitImageUpload"] == 3
    assert routes["/mweb/v1/get_upload_token"] == 3


@pytest.mark.parametrize("kind", ["http_502", "reset", "truncate"])
def test_faults_on_imagex_and_the_upload_host_still_commit_every_image(
    emu: EmulatorServer, http: CountingSession, kind: str
) -> None:
    """Seeded faults and one image at a time (a fixed request order), so the faults drawn are the same each run."""
    emu.configure(fault_seed=7, faults={"imagex": {kind: 0.25}, "upload": {kind: 0.25}})
    uploader = ImageUploader(make_client(emu, http), workers=1, sleep=lambda _: None)
    images = IMAGES[:2]
    uris = uploader.upload_images(uuid.uuid4().hex, images, video=False)
    assert committed(emu, uris, images)
    faults = emu.stats()["faults"]
    assert all(sum(faults.get(group, {}).values()) >= 1 for group in ("imagex", "upload")), faults


def test_an_expired_upload_token_is_renewed_once(emu: EmulatorServer, http: CountingSession) -> None:
    client = make_client(emu, http)
    issue = client.upload_token
    tokens: list[str] = []

    def upload_token(session_id: str) -> dict[str, Any]:
        tokens.append(session_id)
        token = issue(session_id)
        emu.configure(token_ttl=3600.0)  # only the first token is born expired
        return token

    client.upload_token = upload_token  # type: ignore[method-assign]
    emu.configure(token_ttl=0.0)
    uris = ImageUploader(client).upload_images(uuid.uuid4().hex, IMAGES[:1], video=True)
    assert committed(emu, uris, IMAGES[:1])
    assert len(tokens) == 2
    assert emu.stats()["refusals"] == {"imagex_TokenExpired": 1}


def test_a_token_that_keeps_expiring_fails_after_one_renewal(emu: EmulatorServer, http: CountingSession) -> None:
    emu.configure(token_ttl=0.0)
    session = uuid.uuid4().hex
    with pytest.raises(UpstreamUnavailableError) as caught:
        ImageUploader(make_client(emu, http)).upload_images(session, IMAGES[:1], video=False)
    assert "TokenExpired" in str(caught.value) and session not in str(caught.value)
    stats = emu.stats()
    assert stats["requests"]["by_path"]["/mweb/v1/get_upload_token"] == 2
    assert stats["totals"].get("uploads_committed", 0) == 0


def test_a_wrong_crc32_is_refused_and_nothing_is_committed(
    emu: EmulatorServer, http: CountingSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upload_module, "crc32_hex", lambda data: "00000000")
    with pytest.raises(UpstreamUnavailableError, match=r"upload host refused the image \(HTTP 400, code 4003\)"):
        ImageUploader(make_client(emu, http)).upload_images(uuid.uuid4().hex, IMAGES[:2], video=False)
    stats = emu.stats()
    assert "upload_crc32" in stats["refusals"]
    assert stats["totals"].get("uploads_committed", 0) == 0


def test_one_failing_image_fails_the_whole_call(
    emu: EmulatorServer, http: CountingSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = upload_module.crc32_hex
    bad = IMAGES[1].data
    monkeypatch.setattr(upload_module, "crc32_hex", lambda data: "00000000" if data == bad else real(data))
    with pytest.raises(UpstreamUnavailableError, match="code 4003"):
        ImageUploader(make_client(emu, http)).upload_images(uuid.uuid4().hex, IMAGES, video=False)
