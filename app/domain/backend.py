"""What the generation flow needs from an upstream: the Jimeng client implements this protocol.

The domain depends on these protocols, never on requests or on the wire format; implementations raise the
domain's own errors (``app/domain/errors.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from app.domain.models import Claim, Credits, DraftSpec, InputImage, Snapshot, Submitted
from app.domain.sources import ImageSource


class GenerationBackend(Protocol):
    def account_live(self, session_id: str) -> bool: ...

    def credits(self, session_id: str) -> Credits: ...

    def receive_credits(self, session_id: str) -> Claim: ...

    def submit(self, session_id: str, spec: DraftSpec) -> Submitted: ...

    def histories(self, session_id: str, submit_ids: list[str]) -> dict[str, Snapshot]:
        """One poll for many generations of one account, keyed by submit id."""
        ...

    def lookup(self, session_id: str, task_id: str) -> Snapshot | None: ...

    def download(self, url: str, max_bytes: int, session_id: str | None = None) -> bytes:
        """A result file; with ``session_id``, fetched the way that session reaches Jimeng (its proxy)."""
        ...

    def hd_video_url(self, session_id: str, item_id: str) -> str | None:
        """A finished video's watermark-free file, or None (then the record's own URL is used)."""
        ...


class ImageEncoder(Protocol):
    """Result images in the format a caller asked for (``app/imaging.py`` implements it with Pillow)."""

    def format_of(self, data: bytes) -> str | None:
        """png, jpeg, webp or gif from the bytes' header; None when unknown."""
        ...

    def encode(self, data: bytes, fmt: str, compression: int | None) -> bytes:
        """``data`` re-encoded as ``fmt`` (png, jpeg, webp); ValueError when it cannot be read."""
        ...


class UploadBackend(Protocol):
    def upload_images(self, session_id: str, images: list[InputImage], *, video: bool) -> list[str]: ...


class ImageLoader(Protocol):
    """Turns user image sources into checked image bytes (fetching URLs safely); raises 4xx errors."""

    def load(self, sources: Sequence[ImageSource], *, param: str) -> tuple[InputImage, ...]: ...
