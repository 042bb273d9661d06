"""Tiny real images (a few pixels, each format as Pillow writes it) for the input image tests."""

from __future__ import annotations

import base64
import io

from PIL import Image


def image_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), (200, 30, 90)).save(buffer, fmt)
    return buffer.getvalue()


PNG = image_bytes("PNG")
PNG_B64 = base64.b64encode(PNG).decode()
