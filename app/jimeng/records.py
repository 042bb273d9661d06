"""``get_history_by_ids``: what we ask for and how we read the records that come back.

Protocol section 11. The request bodies (11.1, 11.8) are built here next to the reading so one module owns the
poll call. Reading is total: a record is upstream data of unknown quality, so a missing or oddly typed field
gives an empty value, never an exception; the poller decides what an empty value means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.domain.models import Phase
from config.upstream import UpstreamConfig

STATUS_PHASES: dict[int, Phase] = {  # [11.3]; 10 is the reference's alias of 50
    20: Phase.QUEUED,
    42: Phase.RUNNING,
    45: Phase.RUNNING,
    50: Phase.SUCCEEDED,
    10: Phase.SUCCEEDED,
    30: Phase.FAILED,
}

_IMAGE_URL_PATHS: tuple[tuple[str | int, ...], ...] = (  # [11.5] first non-empty wins, per item
    ("image", "large_images", 0, "image_url"),
    ("common_attr", "cover_url"),
    ("image_url",),
    ("url",),
)
_VIDEO_URL_PATHS: tuple[tuple[str | int, ...], ...] = (  # [11.5] [14.7] first item only, any host
    ("common_attr", "transcoded_video", "origin", "video_url"),
    ("video", "transcoded_video", "origin", "video_url"),
    ("video", "play_url"),
    ("video", "download_url"),
    ("video", "url"),
)


def image_info(config: UpstreamConfig) -> dict[str, Any]:
    """The renditions asked for when polling (11.1): the 12-scene list, harmless for video records too."""
    info = config.image_info
    scenes = [
        {"scene": s.scene, "width": s.width, "height": s.height, "uniq_key": s.uniq_key, "format": info.format}
        for s in info.scenes
    ]
    return {"width": info.width, "height": info.height, "format": info.format, "image_scene_list": scenes}


def history_body(
    history_ids: Sequence[str], *, config: UpstreamConfig, submit_ids: Sequence[str] | None = None
) -> dict[str, Any]:
    """One poll for any jobs of one account (11.1), optionally also looking up submit ids (11.8).

    Every poll asks for the 12-scene ``image_info``: it is harmless for videos, so jobs of mixed kinds share
    one call, and the 9-scene variant the web app sends for multi-image and blend jobs buys nothing.
    """
    body: dict[str, Any] = {"history_ids": list(history_ids)}
    if submit_ids is not None:
        body["submit_ids"] = list(submit_ids)
    body["image_info"] = image_info(config)
    body["http_common_info"] = {"aid": config.app.aid}
    return body


def _dig(value: Any, path: Sequence[str | int]) -> Any:
    """Follow ``path`` through dicts and lists; None as soon as a step does not exist."""
    for step in path:
        if isinstance(step, int) and isinstance(value, list) and -len(value) <= step < len(value):
            value = value[step]
        elif isinstance(step, str) and isinstance(value, Mapping):
            value = value.get(step)
        else:
            return None
    return value


def _url(value: Any) -> str:
    """A usable URL string or ""; the literal ``\\u0026`` some responses carry is an escaped ``&`` (14.9)."""
    if not isinstance(value, str):
        return ""
    return value.strip().replace("\\u0026", "&")


def _first_url(item: Any, paths: Sequence[Sequence[str | int]]) -> str:
    return next((url for path in paths if (url := _url(_dig(item, path)))), "")


def as_int(value: Any) -> int:
    """An integer field that may arrive as a number or a digit string; 0 when it is neither."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return 0


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, Mapping | list) else str(value)


def status_phase(status: int) -> Phase:
    """Where a status leaves a job (11.3); an unknown status means "still working", never final."""
    return STATUS_PHASES.get(status, Phase.RUNNING)


@dataclass(frozen=True)
class RecordView:
    """The fields of one history record that the service acts on (11.2, 11.5)."""

    status: int = 0
    fail_code: str = ""
    finished: int = 0  # finished_image_count
    total: int = 0  # total_image_count
    image_urls: tuple[str, ...] = ()
    video_url: str = ""
    history_record_id: str = ""

    @property
    def phase(self) -> Phase:
        return status_phase(self.status)


def read_record(record: Any) -> RecordView:
    """Read one record; anything that is not a dict reads as an empty, still-running record."""
    if not isinstance(record, Mapping):
        return RecordView()
    items = record.get("item_list")
    items = items if isinstance(items, list) else []
    image_urls = tuple(url for item in items if (url := _first_url(item, _IMAGE_URL_PATHS)))
    return RecordView(
        status=as_int(record.get("status")),
        fail_code=_text(record.get("fail_code")),
        finished=as_int(record.get("finished_image_count")),
        total=as_int(record.get("total_image_count")),
        image_urls=image_urls,
        video_url=_first_url(items[0], _VIDEO_URL_PATHS) if items else "",
        history_record_id=_text(record.get("history_record_id")),
    )


def read_records(data: Any) -> dict[str, RecordView]:
    """Read a whole ``data`` object (keyed by history or submit id, 11.2); a non-dict gives no records."""
    if not isinstance(data, Mapping):
        return {}
    return {str(key): read_record(record) for key, record in data.items()}
