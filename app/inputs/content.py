"""What the bytes of an input image are: data URIs decoded, formats judged by content (Pillow), never by name.

Only PNG, JPEG, WebP, GIF and BMP pass; a file's extension, a data URI's declared type and a server's
``Content-Type`` are ignored, because any of them can lie. Pillow is imported with the first image read.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from dataclasses import replace

from app.domain.errors import ImageTooLargeError, InvalidRequestError
from app.domain.models import InputImage

MIME_BY_FORMAT = {fmt: f"image/{fmt.lower()}" for fmt in ("PNG", "JPEG", "WEBP", "GIF", "BMP")}  # Pillow's names
_DATA_URI = re.compile(r"data:(?P<mime>[^;,]*)(?P<params>(;[^;,]*)*),(?P<payload>.*)", re.IGNORECASE | re.DOTALL)


def sniff_image(data: bytes) -> str | None:
    """The MIME type of PNG/JPEG/WebP/GIF/BMP bytes judged by content, or None."""
    facts = image_facts(data)
    return facts[0] if facts else None


def image_facts(data: bytes) -> tuple[str, int, int] | None:
    """(MIME type, width, height) of PNG/JPEG/WebP/GIF/BMP bytes judged by content, or None.

    Pillow reads only the header to identify the format and the size (no pixel decoding); ``verify()`` then
    walks the chunk structure where the format has one (PNG CRCs), which is cheap and catches truncated files.
    """
    if not data:
        return None
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we never decode the pixels
            with Image.open(io.BytesIO(data), formats=list(MIME_BY_FORMAT)) as image:
                fmt, (width, height) = image.format, image.size
                image.verify()
    except Exception:  # Pillow's parsers raise many types on hostile input; any of them means "not an image"
        return None
    mime = MIME_BY_FORMAT.get(fmt or "")
    return (mime, width, height) if mime else None


def checked(image: InputImage, name: str) -> InputImage:
    """The image with its MIME type judged by content; anything but the five formats is refused."""
    facts = image_facts(image.data)
    if facts is None:
        raise InvalidRequestError(
            f"{name} is not a PNG, JPEG, WebP, GIF or BMP image", code="unsupported_image", param=name
        )
    mime, width, height = facts
    return replace(image, mime=mime, width=width, height=height)


def decode_data_uri(uri: str, *, max_bytes: int, param: str) -> InputImage:
    """A ``data:image/...;base64,...`` URI (whitespace and missing padding tolerated) as bytes."""
    match = _DATA_URI.fullmatch(uri.strip())
    if match is None:
        raise InvalidRequestError(f"{param} is not a data URI", code="unsupported_image", param=param)
    mime = match["mime"].strip().lower()
    params = [part.strip().lower() for part in match["params"].split(";") if part.strip()]
    if not mime.startswith("image/") or "base64" not in params:
        raise InvalidRequestError(
            f"{param} must be a data:image/...;base64, URI", code="unsupported_image", param=param
        )
    payload = re.sub(r"\s+", "", match["payload"])
    if len(payload) * 3 // 4 > max_bytes + 2:
        raise ImageTooLargeError(f"{param} is larger than {max_bytes} bytes", param=param)
    try:
        data = base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
    except (binascii.Error, ValueError) as err:
        raise InvalidRequestError(f"{param} is not valid base64", code="unsupported_image", param=param) from err
    if len(data) > max_bytes:
        raise ImageTooLargeError(f"{param} is larger than {max_bytes} bytes", param=param)
    return InputImage(data, "data_uri", mime)
