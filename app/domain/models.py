"""What a generation is, independent of HTTP and of the upstream's wire format.

The HTTP layer builds requests (``ImageRequest``, ``VideoRequest``); the backend (the Jimeng client) accepts
``DraftSpec`` and answers ``Snapshot``; the service turns snapshots into ``GenerationResult``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.domain.sources import ImageSource


class Phase(StrEnum):
    """A generation's state as the contract's tasks show it."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (Phase.SUCCEEDED, Phase.FAILED)


@dataclass(frozen=True)
class InputImage:
    """One input image as bytes already checked to be an image (compositions, video frames)."""

    data: bytes
    source: str  # "url", "data_uri" or "upload": for logs and errors, never the bytes
    mime: str = "application/octet-stream"


@dataclass(frozen=True)
class ImageRequest:
    prompt: str
    model: str | None = None
    ratio: str | None = None
    resolution: str | None = None
    size: str | None = None
    n: int | None = None
    negative_prompt: str = ""
    sample_strength: float = 0.5
    seed: int | None = None
    response_format: str = "url"
    images: tuple[ImageSource, ...] = ()
    run_async: bool = False


@dataclass(frozen=True)
class VideoRequest:
    prompt: str
    model: str | None = None
    ratio: str | None = None
    resolution: str = "720p"
    duration: int = 5
    response_format: str = "url"
    frames: tuple[ImageSource, ...] = ()  # first frame, then last frame
    run_async: bool = False
    size: tuple[int, int] | None = None  # the reference's width/height, mapped to the nearest ratio


@dataclass(frozen=True)
class DraftSpec:
    """Everything the backend needs to build one draft; validated against the tables already."""

    kind: str  # "image" (generate), "blend" or "video"
    model_key: str
    prompt: str
    width: int
    height: int
    ratio: str
    resolution: str
    ratio_code: int = 1
    negative_prompt: str = ""
    sample_strength: float = 0.5
    seed: int | None = None
    multi_image: bool = False
    duration_s: int = 5
    image_uris: tuple[str, ...] = ()


@dataclass(frozen=True)
class Submitted:
    history_id: str
    submit_id: str


@dataclass(frozen=True)
class Snapshot:
    """One look at a generation's history record."""

    history_id: str
    phase: Phase
    status: int
    fail_code: str = ""
    finished: int = 0
    total: int = 0
    image_urls: tuple[str, ...] = ()
    video_url: str | None = None

    @property
    def progress(self) -> tuple[int, int]:
        return self.finished, self.total


@dataclass(frozen=True)
class Credits:
    gift: int = 0
    purchase: int = 0
    vip: int = 0

    @property
    def total(self) -> int:
        return self.gift + self.purchase + self.vip


@dataclass(frozen=True)
class Claim:
    """The answer to a daily free-credit claim."""

    received: int
    total: int


@dataclass(frozen=True)
class GenerationResult:
    history_id: str
    kind: str  # "image" or "video"
    model: str
    urls: tuple[str, ...]
    created: int
    b64: tuple[str, ...] = ()
    prompt: str = ""
    input_images: int = 0


@dataclass
class JobContext:
    """Who asked: carried into the poller and logs explicitly (greenlets do not inherit loguru context)."""

    request_id: str = "-"
    session_label: str = "…"
    extra: dict[str, str] = field(default_factory=dict)
