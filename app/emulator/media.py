"""Bytes of the emulated results (PNG, MP4) and a header sniffer for uploaded images.

Generated media are tiny but real: a PNG with the requested aspect ratio and a structurally valid MP4,
deterministic per seed so that two downloads of one URL are byte-identical.
"""

from __future__ import annotations

import functools
import hashlib
import struct
import zlib

THUMB_SIDE = 64


def thumbnail_size(width: int, height: int, longest: int = THUMB_SIDE) -> tuple[int, int]:
    """Scale (width, height) so the longest side is ``longest`` pixels, keeping the ratio."""
    if width >= height:
        return longest, max(1, round(longest * height / width))
    return max(1, round(longest * width / height)), longest


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.lru_cache(maxsize=512)
def png_bytes(width: int, height: int, seed: str) -> bytes:
    """An RGB PNG of exactly width x height: a diagonal gradient whose colours derive from ``seed``."""
    digest = hashlib.sha256(seed.encode()).digest()
    base, tint = digest[:3], digest[3:6]
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type 0 (none) for every scanline
        for x in range(width):
            shade = (x + y) * 255 // max(1, width + height - 2)
            rows.extend((base[i] + tint[i] * shade // 255) % 256 for i in range(3))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(rows), 6))
        + _png_chunk(b"IEND", b"")
    )


def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *payload)


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _track(width: int, height: int, duration_ms: int) -> bytes:
    tkhd = _full_box(
        b"tkhd", 0, 3, struct.pack(">IIIII", 0, 0, 1, 0, duration_ms), bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0), _MATRIX, struct.pack(">II", width << 16, height << 16),
    )  # fmt: skip
    mdhd = _full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, 1000, duration_ms, 0x55C4, 0))
    hdlr = _full_box(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"VideoHandler\x00")
    dinf = _box(b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1), _full_box(b"url ", 0, 1)))
    empty_tables = [_full_box(name, 0, 0, struct.pack(">I", 0)) for name in (b"stsd", b"stts", b"stsc")]
    stbl = _box(b"stbl", *empty_tables, _full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
                _full_box(b"stco", 0, 0, struct.pack(">I", 0)))  # fmt: skip
    minf = _box(b"minf", _full_box(b"vmhd", 0, 1, bytes(8)), dinf, stbl)
    return _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf))


@functools.lru_cache(maxsize=128)
def mp4_bytes(width: int, height: int, duration_ms: int, seed: str) -> bytes:
    """ftyp + moov(mvhd, trak) + mdat: valid box structure, no decodable frames."""
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 512), b"isomiso2avc1mp41")
    mvhd = _full_box(
        b"mvhd", 0, 0, struct.pack(">IIIIIH", 0, 0, 1000, duration_ms, 0x10000, 0x100), bytes(10),
        _MATRIX, bytes(24), struct.pack(">I", 2),
    )  # fmt: skip
    payload = hashlib.sha256(seed.encode()).digest() * 32
    return ftyp + _box(b"moov", mvhd, _track(width, height, duration_ms)) + _box(b"mdat", payload)


def sniff_image(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) read from a PNG/JPEG/GIF/WebP header; ("", 0, 0) when unknown."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "gif", width, height
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ("webp", *_webp_size(data))
    if data.startswith(b"\xff\xd8"):
        return ("jpeg", *_jpeg_size(data))
    return "", 0, 0


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return 0, 0


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """Walk the JPEG segments up to the first start-of-frame marker."""
    pos = 2
    while pos + 9 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return 0, 0
