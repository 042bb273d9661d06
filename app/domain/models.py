"""What a generation is, independent of HTTP and of the upstream's wire format.

A request flows as ``ImageRequest``/``VideoRequest`` (built by the HTTP layer or the chat parser) -> ``Plan``
(checked against the tables, ``planning.py``) -> ``Prepared`` (input images in hand) -> ``Job`` (accepted by
Jimeng) -> ``GenerationResult``. The backend accepts a ``DraftSpec`` and answers ``Snapshot``s. Every one of
these is frozen and built by keyword, so a new field cannot silently shift the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.errors import DomainError
from app.domain.sources import ImageSource, ResultRef


class GenerationKind(StrEnum):
    """What a generation makes: decides the deadline, the cost and the answer's shape."""

    IMAGE = "image"
    VIDEO = "video"


class Phase(StrEnum):
    """A generation's state as the contract's tasks show it."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (Phase.SUCCEEDED, Phase.FAILED)


class DraftKind(StrEnum):
    """Which draft the backend builds: text to image, image to image (blend) or video."""

    GENERATE = "image"
    BLEND = "blend"
    VIDEO = "video"
    POST_EDIT = "post_edit"  # 超清, 智能超清, 细节修复, 扩图 of one image (app/domain/post_edit.py)


@dataclass(frozen=True)
class InputImage:
    """One input image as bytes already checked to be an image (compositions, video frames)."""

    data: bytes
    source: str  # "url", "data_uri" or "upload": for logs and errors, never the bytes
    mime: str = "application/octet-stream"
    width: int = 0  # read from the header by the loader (0: not known)
    height: int = 0


class ResponseFormat(StrEnum):
    """How images are answered: links to Jimeng's files, or the bytes inline (downloaded by the service)."""

    URL = "url"
    B64_JSON = "b64_json"


@dataclass(frozen=True, kw_only=True)
class ImageRequest:
    """Images as asked for; nothing checked against the tables yet. ``*_param`` name the fields in errors."""

    prompt: str
    model: str | None = None
    ratio: str | None = None
    resolution: str | None = None
    size: str | None = None
    n: int | None = None
    negative_prompt: str = ""
    sample_strength: float = 0.5
    seed: int | None = None
    response_format: ResponseFormat = ResponseFormat.URL
    output_format: str | None = None  # b64_json: png, jpeg or webp (re-encoded); None: as Jimeng made them
    output_compression: int | None = None  # 0-100, jpeg and webp
    images: tuple[ImageSource, ...] = ()
    run_async: bool = False
    stream: bool = False  # OpenAI's image streaming: each image as an SSE event the moment it is ready
    partial_images: int | None = None  # OpenAI's previews per image (0-3); Jimeng makes none, so none are sent
    messages_chars: int = 0  # chat: the text of every message, bounded as a whole (MAX_MESSAGES_CHARS)
    prompt_param: str = "prompt"
    images_param: str = "images"
    ratio_param: str = "ratio"
    size_param: str = "size"


@dataclass(frozen=True, kw_only=True)
class VideoRequest:
    prompt: str
    model: str | None = None
    ratio: str | None = None
    resolution: str | None = None
    duration: int | None = None
    response_format: ResponseFormat = ResponseFormat.URL
    frames: tuple[ImageSource, ...] = ()  # first frame, then last frame
    run_async: bool = False
    size: tuple[int, int] | None = None  # the reference's width/height, mapped to the nearest ratio
    messages_chars: int = 0  # chat: the text of every message, bounded as a whole (MAX_MESSAGES_CHARS)
    prompt_param: str = "prompt"
    frames_param: str = "images"
    ratio_param: str = "ratio"


class PostEditTool(StrEnum):
    """A post-edit tool of one image, named as Jimeng's draft names it (its ``generate_type``)."""

    NORMAL_HD = "normal_hd"  # 超清
    PRO_HD = "pro_hd"  # 智能超清
    SUPER_RESOLUTION = "super_resolution"  # 细节修复
    PAINTING = "painting"  # 扩图 (outpaint)


@dataclass(frozen=True, kw_only=True)
class Padding:
    """How far an outpaint extends each side, as a share of the source's width (left, right) or height."""

    top: float
    bottom: float
    left: float
    right: float


@dataclass(frozen=True, kw_only=True)
class PostEditRequest:
    """One image upscaled or extended; nothing checked yet. ``image`` is None when the caller sent none.
    ``source_size`` is filled by the service once the image is known (the file's header, or the record of an
    earlier result), so an outpaint's padding for a target ``ratio`` can be computed."""

    tool: str | None
    image: ImageSource | ResultRef | None
    ratio: str | None = None
    padding: Padding | None = None
    resolution: str | None = None  # pro_hd's tier
    n: int | None = None
    model: str | None = None  # the draft's root model: the default image model when absent
    response_format: ResponseFormat = ResponseFormat.URL
    output_format: str | None = None
    output_compression: int | None = None
    run_async: bool = False
    stream: bool = False
    source_size: tuple[int, int] | None = None
    tool_param: str = "mode"
    image_param: str = "image"


GenerationRequest = ImageRequest | VideoRequest | PostEditRequest


@dataclass(frozen=True, kw_only=True)
class DraftSpec:
    """Everything the backend needs to build one draft (one job); validated against the catalog already.

    Images: ``count`` is the ``gen_count`` of this one job; ``gen_option`` False for a model that makes a fixed
    batch (its draft carries no count). Videos: ``width``/``height`` are the video's pixel size (also sent as
    the frames' size), ``benefit_type`` the billing name for the resolution and ``benefit_fallback`` the
    alternative name sent once when Jimeng refuses the first (empty: none); ``draft_mode`` marks the preview
    model's drafts.
    """

    kind: DraftKind
    model_key: str
    prompt: str
    width: int
    height: int
    ratio: str
    resolution: str
    ratio_code: int = 1
    count: int = 1
    gen_option: bool = True
    negative_prompt: str = ""
    sample_strength: float = 0.5
    seed: int | None = None
    duration_s: int = 5
    benefit_type: str = ""
    benefit_fallback: str = ""
    draft_mode: bool = False
    image_uris: tuple[str, ...] = ()
    tool: str = ""  # post edits: the tool (PostEditTool); its input is image_uris[0] or the origin item
    origin_history_id: str = ""  # post edits of an earlier result: its record and item (2026 8.3)
    origin_item_id: str = ""
    padding: Padding | None = None  # outpaint


@dataclass(frozen=True, kw_only=True)
class Submitted:
    history_id: str
    submit_id: str
    forecast_seconds: float | None = None  # Jimeng's forecast of queue + generation time


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """One look at a generation's history record."""

    history_id: str
    phase: Phase
    status: int
    submit_id: str = ""
    fail_code: str = ""
    finished: int = 0
    total: int = 0
    image_urls: tuple[str, ...] = ()
    video_url: str | None = None
    item_id: str = ""  # the first item's id (a video's watermark-free file is looked up by it)
    item_ids: tuple[str, ...] = ()  # every image item's id, in order (post edits name an earlier result by it)
    image_sizes: tuple[tuple[int, int], ...] = ()  # every image item's (width, height), when the record says
    created_time: float | None = None  # unix seconds, Jimeng's clock
    queue_position: int | None = None  # 0-based place in Jimeng's queue while queued
    queue_length: int | None = None
    forecast_seconds: float | None = None  # Jimeng's forecast of queue + generation time, from creation
    forecast_generate_seconds: float | None = None  # its generation part alone
    executed_count: int | None = None  # images Jimeng says it ran for this draft (read on finished records)
    must_progress: bool = False  # items arriving or an unknown state: standing still too long is a failure
    error: DomainError | None = None  # why a failed record failed (carries its history id)

    @property
    def image_size(self) -> str | None:
        """The first image's pixel size as ``"WxH"``, when the record says."""
        return f"{self.image_sizes[0][0]}x{self.image_sizes[0][1]}" if self.image_sizes else None

    @property
    def queue_place(self) -> int | None:
        """1-based place in Jimeng's queue (1: next), only while queued and when Jimeng said."""
        if self.phase is not Phase.QUEUED or self.queue_position is None:
            return None
        return self.queue_position + 1

    def eta_seconds(self, now: float) -> float | None:
        """Seconds until Jimeng expects it done (never negative), or None without a forecast."""
        if self.forecast_seconds is None or self.created_time is None or self.phase.terminal:
            return None
        return max(0.0, self.created_time + self.forecast_seconds - now)


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


@dataclass(frozen=True, kw_only=True)
class GenerationResult:
    history_id: str
    kind: GenerationKind
    model: str
    urls: tuple[str, ...]
    created: int
    b64: tuple[str, ...] = ()
    output_format: str | None = None  # images: the files' format (png, jpeg, webp), when known
    size: str | None = None  # images: "2048x2048", the size the drafts asked for
    prompt: str = ""
    input_images: int = 0
    history_ids: tuple[str, ...] = ()  # every part's history id when the request took several generations
    failures: tuple[DomainError, ...] = ()  # parts that failed while others succeeded (each with its id)
