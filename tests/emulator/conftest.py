"""One emulator per test session (port 0, short generation times), reset before every test."""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Callable, Iterator

import pytest
import requests

from app.emulator import EmulatorServer, start_emulator
from tests.emulator.emulator_client import Wire


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    with start_emulator(port=0, image_seconds=0.4, video_seconds=0.6) as server:
        yield server


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> EmulatorServer:
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def make_wire(emulator: EmulatorServer, http: requests.Session) -> Callable[[str], Wire]:
    def make(sessionid: str = "") -> Wire:
        return Wire(emulator.url, sessionid or uuid.uuid4().hex, http)

    return make


@pytest.fixture
def wire(make_wire: Callable[[str], Wire]) -> Wire:
    return make_wire("")


def png(width: int, height: int) -> bytes:
    """A minimal valid PNG (grey), built independently of the emulator's encoder."""
    raw = b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
