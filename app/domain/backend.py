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

    def histories(self, session_id: str, history_ids: list[str]) -> dict[str, Snapshot]: ...

    def lookup(self, session_id: str, task_id: str) -> Snapshot | None: ...

    def download(self, url: str, max_bytes: int) -> bytes: ...


class UploadBackend(Protocol):
    def upload_images(self, session_id: str, images: list[InputImage], *, video: bool) -> list[str]: ...


class ImageLoader(Protocol):
    """Turns user image sources into checked image bytes (fetching URLs safely); raises 4xx errors."""

    def load(self, sources: Sequence[ImageSource], *, param: str) -> tuple[InputImage, ...]: ...
