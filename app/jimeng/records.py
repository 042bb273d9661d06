"""History records: what we ask ``get_history_by_ids`` and ``get_history_queue_info`` for, and how we read
what comes back (protocol 2026 section 5).

The web app polls by submit id, so the answer is keyed by submit id; the tasks endpoint asks by history id or
submit id. Reading is total: a record is upstream data of unknown quality, so a missing or oddly typed field
gives an empty value, never an exception; what an empty value means is decided by the poller.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from app.domain.models import Phase
from app.jimeng import lenient

INIT, PRE_CHECK_REJECT, SUBMITTED, GENERATE_FAILED = 0, 10, 20, 30
POST_CHECK_REJECT, THINKING, PARTIAL, SUCCESS, DELETED = 40, 42, 45, 50, 100
STATUS_PHASES: dict[int, Phase] = {  # [5.2] any other status (-1, 21, 60 ...) is "still working" until it stalls
    INIT: Phase.QUEUED,
    SUBMITTED: Phase.QUEUED,
    THINKING: Phase.RUNNING,
    PARTIAL: Phase.RUNNING,  # items arriving; only 50 is done (a 45 with no items was seen)
    SUCCESS: Phase.SUCCEEDED,
    PRE_CHECK_REJECT: Phase.FAILED,
    GENERATE_FAILED: Phase.FAILED,
    POST_CHECK_REJECT: Phase.FAILED,
    DELETED: Phase.FAILED,
}
KNOWN_STATUSES = frozenset(STATUS_PHASES)
_MAY_SUCCEED = frozenset({SUCCESS, PRE_CHECK_REJECT})  # statuses whose record may be a success (see ``phase``)

_IMAGE_URL_PATHS: tuple[tuple[str | int, ...], ...] = (  # [5.6] first non-empty wins, per item
    ("image", "large_images", 0, "image_url"),
    ("common_attr", "cover_url"),
    ("image_url",),
    ("url",),
)
_STANDARD_IMAGE_URL_PATHS: tuple[tuple[str | int, ...], ...] = (  # PREFER_WATERMARK_FREE=0: the web's own links
    ("common_attr", "item_urls", 0),
    *_IMAGE_URL_PATHS,
)
_VIDEO_URL_PATHS: tuple[tuple[str | int, ...], ...] = (  # [5.6] the watermarked preview; first item only
    ("video", "transcoded_video", "origin", "video_url"),
    ("common_attr", "transcoded_video", "origin", "video_url"),
    ("video", "play_url"),
    ("video", "download_url"),
    ("video", "url"),
)
_LARGE = ("image", "large_images", 0)
_ITEM_ID_PATHS: tuple[tuple[str | int, ...], ...] = (("common_attr", "id"), ("item_id",), ("id",), ("local_item_id",))


def history_body(*, submit_ids: Sequence[str] = (), history_ids: Sequence[str] = ()) -> dict[str, Any]:
    """A poll (submit ids only, as the web app sends it [5.4]) or a look-up by either kind of id."""
    body: dict[str, Any] = {}
    if submit_ids:
        body["submit_ids"] = list(dict.fromkeys(submit_ids))
    if history_ids:
        body["history_ids"] = list(dict.fromkeys(history_ids))
    return body


def queue_body(history_ids: Sequence[str]) -> dict[str, Any]:
    """``get_history_queue_info`` [5.5]: history ids as strings, duplicates removed."""
    return {"history_ids": list(dict.fromkeys(history_ids))}


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
    """A usable URL string or ""; the literal ``\\u0026`` some responses carry is an escaped ``&``."""
    if not isinstance(value, str):
        return ""
    return value.strip().replace("\\u0026", "&")


def _first(item: Any, paths: Sequence[Sequence[str | int]]) -> str:
    return next((url for path in paths if (url := _url(_dig(item, path)))), "")


def as_int(value: Any) -> int:
    """An integer field that may arrive as a number or a digit string; 0 when it is neither."""
    return lenient.number(value) or 0


def _number(value: Any) -> float | None:
    """A non-negative number (int, float or digit string), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if number >= 0 else None
    return None


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, Mapping | list) else str(value)


def _status(record: Mapping[str, Any]) -> int:
    """``task.status`` first, then the record's own [5.2]; -1 (unknown) when neither is a number."""
    for value in (_dig(record, ("task", "status")), record.get("status")):
        if (status := lenient.number(value)) is not None:
            return status
    return -1


@dataclass(frozen=True, kw_only=True)
class QueueView:
    """Where a job waits [5.1] [5.5]: 0-based position, queue length, forecast seconds."""

    position: int | None = None
    length: int | None = None
    forecast_queue: float | None = None
    forecast_generate: float | None = None


def read_queue(entry: Any) -> QueueView:
    """The queue part of a record, a submit answer or a ``get_history_queue_info`` entry."""
    if not isinstance(entry, Mapping):
        return QueueView()
    info = entry.get("queue_info")
    info = info if isinstance(info, Mapping) else {}
    costs = entry.get("forecast_cost_time")
    costs = costs if isinstance(costs, Mapping) else entry
    position, length = _number(info.get("queue_idx")), _number(info.get("queue_length"))
    return QueueView(
        position=int(position) if position is not None else None,
        length=int(length) if length is not None else None,
        forecast_queue=_number(costs.get("forecast_queue_cost")),
        forecast_generate=_number(costs.get("forecast_generate_cost")),
    )


@dataclass(frozen=True, kw_only=True)
class RecordView:
    """The fields of one history record that the service acts on [5.2]-[5.6]."""

    status: int = -1
    fail_code: str = ""
    fail_message: str = ""  # fail_starling_message, else fail_msg: Jimeng's own words for the user
    finished: int = 0  # finished_image_count
    total: int = 0  # total_image_count
    image_urls: tuple[str, ...] = ()
    video_url: str = ""
    item_id: str = ""  # the first item's id: the watermark-free video is looked up by it
    item_ids: tuple[str, ...] = ()  # every item's id (a post edit names an earlier result's image by it, 8.3)
    image_sizes: tuple[tuple[int, int], ...] = ()  # each image's large_images[0] width and height, when given
    history_record_id: str = ""
    submit_id: str = ""
    created_time: float | None = None
    executed_count: int | None = None  # ``gen_option.gen_count`` of the draft Jimeng ran; finished records only
    queue: QueueView = QueueView()

    @property
    def phase(self) -> Phase:
        """10 with usable items is a success (as older readings had it); any unknown status is still working."""
        if self.status == PRE_CHECK_REJECT and (self.image_urls or self.video_url):
            return Phase.SUCCEEDED
        return STATUS_PHASES.get(self.status, Phase.RUNNING)


def read_record(record: Any, *, watermark_free: bool = True) -> RecordView:
    """Read one record; anything that is not a dict reads as an empty, still-running record. Images come from
    their large image (watermark-free, 5.6), or with ``watermark_free`` False from the web's watermarked
    ``item_urls`` first."""
    if isinstance(record, msgspec.Raw):  # one record of ``decode_history``'s answer: valid JSON already
        record = msgspec.json.decode(record)
    if not isinstance(record, Mapping):
        return RecordView()
    status = _status(record)
    items = record.get("item_list")
    items = items if isinstance(items, list) else []
    image_paths = _IMAGE_URL_PATHS if watermark_free else _STANDARD_IMAGE_URL_PATHS
    sizes = [(as_int(_dig(item, (*_LARGE, "width"))), as_int(_dig(item, (*_LARGE, "height")))) for item in items]
    return RecordView(
        status=status,
        fail_code=_text(record.get("fail_code")),
        fail_message=_text(record.get("fail_starling_message")) or _text(record.get("fail_msg")),
        finished=as_int(record.get("finished_image_count")),
        total=as_int(record.get("total_image_count")),
        image_urls=tuple(url for item in items if (url := _first(item, image_paths))),
        video_url=_first(items[0], _VIDEO_URL_PATHS) if items else "",
        item_id=_first(items[0], _ITEM_ID_PATHS) if items else "",
        item_ids=tuple(ids) if all(ids := [_first(item, _ITEM_ID_PATHS) for item in items]) else (),
        image_sizes=tuple(sizes) if sizes and all(w > 0 and h > 0 for w, h in sizes) else (),
        history_record_id=_text(record.get("history_record_id")),
        submit_id=_text(record.get("submit_id")),
        created_time=_number(record.get("created_time")),
        executed_count=_executed_count(record.get("draft_content")) if status in _MAY_SUCCEED else None,
        queue=read_queue(record),
    )


class _HistoryAnswer(msgspec.Struct):
    ret: Any = None
    errmsg: Any = None
    data: dict[str, msgspec.Raw] | None = None


_HISTORY_ANSWER = msgspec.json.Decoder(_HistoryAnswer)


def decode_history(body: bytes) -> Any:
    """A ``get_history_by_ids`` answer, its records left as raw JSON (``msgspec.Raw``) until one is read.

    A poll of 100 generations answers 100 records of kilobytes each (items, the draft), and from one look to
    the next most of them have not changed: ``RecordMemo`` then reads none of them again. An answer of another
    shape (a refusal, ``data`` not an object) is decoded whole, as every other answer is; malformed JSON raises
    ``msgspec.DecodeError`` (a ValueError) either way.
    """
    try:
        answer = _HISTORY_ANSWER.decode(body)
    except msgspec.ValidationError:
        return msgspec.json.decode(body)
    if answer.data is None or str(answer.ret) != "0":
        return msgspec.json.decode(body)
    return {"ret": answer.ret, "errmsg": answer.errmsg, "data": answer.data}


class RecordMemo:
    """The last reading of each followed record and a fingerprint of its bytes: a record that did not change
    since the last poll is not decoded and read again (issue 17: at 1,000 in flight, reading records was the
    largest share of the worker's time).

    Keyed by the poll's key (the submit id) so each generation holds one entry; the fingerprint (length and
    64-bit hash of the whole record) is what decides, so a reading is only ever reused for the very same
    bytes. Finished records are never kept; entries of generations nobody polls any more (a client gone) go
    when the memo is full, all at once (the cost is one more reading of each).
    """

    def __init__(self, limit: int = 8192) -> None:
        self._kept: dict[str, tuple[tuple[int, int], RecordView]] = {}
        self._limit = limit

    def __len__(self) -> int:
        return len(self._kept)

    def read(self, key: str, record: Any, *, watermark_free: bool = True) -> RecordView:
        if not isinstance(record, msgspec.Raw):  # an answer decoded whole: nothing to compare cheaply
            return read_record(record, watermark_free=watermark_free)
        raw = bytes(record)
        fingerprint = (len(raw), hash(raw))
        kept = self._kept.get(key)
        if kept is not None and kept[0] == fingerprint:
            return kept[1]
        view = read_record(record, watermark_free=watermark_free)
        if view.phase.terminal:
            self._kept.pop(key, None)
            return view
        if len(self._kept) >= self._limit:
            self._kept.clear()
        self._kept[key] = (fingerprint, view)
        return view


def read_records(data: Any, *, watermark_free: bool = True) -> dict[str, RecordView]:
    """Read a whole ``data`` object (keyed by submit or history id); a non-dict gives no records."""
    if not isinstance(data, Mapping):
        return {}
    return {str(key): read_record(record, watermark_free=watermark_free) for key, record in data.items()}


def read_queues(data: Any) -> dict[str, QueueView]:
    """A ``get_history_queue_info`` answer's ``data``, keyed by history id."""
    if not isinstance(data, Mapping):
        return {}
    return {str(key): read_queue(entry) for key, entry in data.items()}


def _executed_count(draft_content: Any) -> int | None:
    """``gen_option.gen_count`` from the record's ``draft_content`` (a JSON string) [3.3], or None. Kilobytes of
    JSON, so it is parsed only for records that may be finished: only those are checked against it."""
    if not isinstance(draft_content, str) or "gen_count" not in draft_content:
        return None
    try:
        draft = json.loads(draft_content)
    except ValueError:
        return None
    count = _dig(draft, ("component_list", 0, "abilities", "gen_option", "gen_count"))
    return count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else None


def submitted_view(data: Any) -> tuple[str, QueueView]:
    """(history id, queue and forecast) of a submit answer: ``data.aigc_data``, else ``data`` itself [5.1]."""
    aigc = data.get("aigc_data") if isinstance(data, Mapping) else None
    source = aigc if isinstance(aigc, Mapping) else data if isinstance(data, Mapping) else {}
    return _text(source.get("history_record_id")), read_queue(source)


def hd_video_url(data: Any) -> str:
    """The watermark-free video URL of a ``get_local_item_list`` answer [5.6], or "".

    ``video.video_model`` is a JSON string whose ``video_list`` holds ``video_1`` ... ``video_4``; the one with
    the largest ``vheight`` wins, and its ``main_url`` is base64 of the URL.
    """
    item = next((first for key in ("item_list", "local_item_list") if (first := _dig(data, (key, 0)))), None)
    model = _dig(item, ("video", "video_model"))
    try:
        videos = _dig(json.loads(model), ("video_list",)) if isinstance(model, str) else None
    except ValueError:
        return ""
    if not isinstance(videos, Mapping):
        return ""
    candidates = [video for video in videos.values() if isinstance(video, Mapping) and video.get("main_url")]
    if not candidates:
        return ""
    best = max(candidates, key=lambda video: as_int(video.get("vheight")))
    return _decode_url(best.get("main_url"))


def _decode_url(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    try:
        url = base64.b64decode(value + "=" * (-len(value) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""
    return url if url.startswith(("https://", "http://")) else ""


def first_workspace(data: Any) -> int | None:
    """``data.workspaces[0].workspace_id`` of ``workspace/list`` (2026 9.3: the newest comes first) as a number,
    or None when the answer names none."""
    workspaces = data.get("workspaces") if isinstance(data, dict) else None
    first = workspaces[0] if isinstance(workspaces, list) and workspaces else None
    value = first.get("workspace_id") if isinstance(first, dict) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None
