"""Result images re-encoded as the caller asked (``output_format``, ``output_compression``), with Pillow.

A plain library like ``app/http.py``: bytes in, bytes out, no web framework and no layer of the service. It
implements the domain's ``ImageEncoder`` (``app/domain/backend.py``); ``wiring`` hands it to the
``GenerationService``, which calls it for ``b64_json`` results after their download.

Pillow is imported when an image is first read, not when the worker boots (most answers never need it).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}  # the contract's names -> Pillow's
MAX_PIXELS = 64_000_000  # a 4k result is 16.4 Mpx at most (6197x2656); anything far above is refused


class ImageEncodeError(ValueError):
    """The bytes are not an image Pillow can read, or too large to decode."""


def format_of(data: bytes) -> str | None:
    """``png``, ``jpeg``, ``webp`` or ``gif`` from the first bytes, without Pillow; None when unknown."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    return None


_PILLOW_NAMES = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "GIF": "gif", "BMP": "bmp"}


def image_facts(data: bytes) -> tuple[str, str]:
    """(output_format, ``WIDTHxHEIGHT``) read from an image's own bytes (its header only); ("png", "auto") when
    they cannot be read."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            return _PILLOW_NAMES.get(image.format or "", (image.format or "png").lower()), f"{width}x{height}"
    except (OSError, ValueError, Image.DecompressionBombError):
        return "png", "auto"


class PillowEncoder:
    """``ImageEncoder`` with Pillow: decodes only when the format or the compression has to change."""

    def format_of(self, data: bytes) -> str | None:
        return format_of(data)

    def encode(self, data: bytes, fmt: str, compression: int | None) -> bytes:
        """``data`` as ``fmt`` (png, jpeg, webp); ``compression`` 0-100 (OpenAI's: 100 is the least compressed)
        sets JPEG and WebP quality and is ignored for PNG (lossless). Unchanged when already ``fmt`` and no
        compression is asked for. ImageEncodeError when the bytes cannot be read."""
        target = PILLOW_FORMATS[fmt]
        if format_of(data) == fmt and (compression is None or fmt == "png"):
            return data
        from PIL import Image

        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise ImageEncodeError(f"the image has {image.width}x{image.height} pixels")
                image.load()
                converted = _for_target(image, target)
                options: dict[str, Any] = {}
                if target in ("JPEG", "WEBP"):
                    options["quality"] = 90 if compression is None else max(1, compression)
                if target == "PNG":
                    options["optimize"] = False
                buffer = io.BytesIO()
                converted.save(buffer, target, **options)
        except ImageEncodeError:
            raise
        except Exception as err:  # Pillow raises many types on bytes it cannot read
            raise ImageEncodeError(f"the file could not be read as an image ({type(err).__name__})") from err
        return buffer.getvalue()


def _for_target(image: Image.Image, target: str) -> Image.Image:
    """JPEG has no alpha and no palette: flatten onto white; other targets keep what they can hold."""
    from PIL import Image

    if target == "JPEG":
        if image.mode in ("RGBA", "LA", "P", "PA"):
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return image.convert("RGB") if image.mode != "RGB" else image
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        return image.convert("RGBA")
    return image
