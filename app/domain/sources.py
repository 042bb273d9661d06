"""Input images as the user gave them, before anything is fetched: a URL, a data URI, or uploaded bytes.

The JSON and multipart schemas and the chat parser all produce these, so every entry point hands the same
type to the planner (which counts them) and to the image loader (which fetches and checks them).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from app.domain.errors import InvalidRequestError

SOURCE_FORMS = "an http(s) URL, a data:image/...;base64, URI or an object with a url"


@dataclass(frozen=True)
class ImageUrl:
    """An http(s) URL this server fetches (behind the address guard)."""

    url: str


@dataclass(frozen=True)
class DataUri:
    """A ``data:image/...;base64,...`` URI, decoded without any network call."""

    uri: str


@dataclass(frozen=True)
class Upload:
    """A multipart file field's bytes."""

    filename: str
    data: bytes

    def __repr__(self) -> str:  # never the bytes in a log line or a test failure
        return f"Upload(filename={self.filename!r}, {len(self.data)} bytes)"


ImageSource = ImageUrl | DataUri | Upload


@dataclass(frozen=True)
class ResultRef:
    """An image of an earlier generation of the same account (post edits take it without a re-upload):
    ``history_id`` and the 0-based ``index`` of its image. The look-up fills ``item_id`` and the size."""

    history_id: str
    index: int = 0
    item_id: str = ""
    width: int = 0
    height: int = 0


def parse_image_source(value: object, *, param: str) -> ImageSource:
    """A JSON value (``"https://..."``, ``"data:image/..."`` or ``{"url": ...}``) as a source; 400 naming
    ``param`` for anything else."""
    if isinstance(value, dict):
        value = value.get("url")
    text = value.strip() if isinstance(value, str) else ""
    if text[:5].lower() == "data:":
        return DataUri(text)
    if text and _scheme(text) in ("http", "https"):
        return ImageUrl(text)
    raise InvalidRequestError(f"{param} must be {SOURCE_FORMS}", param=param)


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:  # "http://[": an unbalanced IPv6 bracket
        return ""
