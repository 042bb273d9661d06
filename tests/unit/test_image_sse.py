"""OpenAI's image streaming: the events' shapes (checked against the official SDK's own event types) and the
formatter over a scripted ``follow`` (images in order and once each, comments, errors with history ids)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from openai.types import ImageEditCompletedEvent, ImageGenCompletedEvent

from app.api.image_sse import _ImageStream, comment
from app.domain.errors import DomainError, GenerationFailedError, JimengError
from app.domain.follow import Finished, FollowEvent, Idle, PartFinished, Progress
from app.domain.jobs import Job, Part
from app.domain.models import GenerationKind, GenerationResult, Phase, ResponseFormat, Snapshot
from app.domain.openai_shapes import completed_image_event, progress_comment
from app.imaging import image_facts
from tests.images import image_bytes

JOB = Job(
    parts=(Part(history_id="h1", submit_id="s-1", count=3), Part(history_id="h2", submit_id="s-2", count=1)),
    session_id="s1", kind=GenerationKind.IMAGE, model="jimeng-4.0", prompt="a cat", created=1,
    response_format=ResponseFormat.URL, input_images=0,
)  # fmt: skip
RUNNING = Snapshot(history_id="h1", phase=Phase.RUNNING, status=45, finished=1, total=3)


def result(history_id: str, *urls: str, failures: tuple[DomainError, ...] = ()) -> GenerationResult:
    return GenerationResult(
        history_id=history_id, kind=GenerationKind.IMAGE, model="jimeng-4.0", urls=urls, created=1, failures=failures
    )


# -- shapes -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "output_format"), [("PNG", "png"), ("JPEG", "jpeg"), ("WEBP", "webp")])
@pytest.mark.parametrize(("edit", "model"), [(False, ImageGenCompletedEvent), (True, ImageEditCompletedEvent)])
def test_a_completed_event_is_valid_for_the_sdks_own_event_type(
    fmt: str, output_format: str, edit: bool, model: type[ImageGenCompletedEvent | ImageEditCompletedEvent]
) -> None:
    data = image_bytes(fmt)
    payload = completed_image_event(
        data, facts=image_facts(data), url="https://x/0.png", history_id="h1", index=2, created_at=7, edit=edit
    )
    event = model.model_validate(payload)  # strict: every required field present with its type
    assert event.type == ("image_edit.completed" if edit else "image_generation.completed")
    assert base64.b64decode(event.b64_json) == data
    assert (event.output_format, event.size, event.created_at) == (output_format, "3x2", 7)
    assert (payload["history_id"], payload["url"], payload["index"]) == ("h1", "https://x/0.png", 2)


def test_bytes_that_are_no_image_still_stream_with_neutral_facts() -> None:
    assert image_facts(b"<html>not an image</html>") == ("png", "auto")


@pytest.mark.parametrize(
    ("snapshot", "line"),
    [
        (
            Snapshot(history_id="h1", phase=Phase.QUEUED, status=0, queue_position=2, created_time=100.0,
                     forecast_seconds=30.0),
            "generation h1: queued, position 3, ~20 s",
        ),
        (Snapshot(history_id="h1", phase=Phase.QUEUED, status=0), "generation h1: queued"),
        (Snapshot(history_id="h1", phase=Phase.RUNNING, status=20), "generation h1: generating"),
        (RUNNING, "generation h1: 1 of 3 images ready"),
    ],
)  # fmt: skip
def test_progress_lines(snapshot: Snapshot, line: str) -> None:
    assert progress_comment(snapshot, now=110.0) == line


def test_a_comment_of_several_lines_stays_one_comment() -> None:
    assert comment("a\nb") == ": a\n: b\n\n"


# -- the formatter ----------------------------------------------------------------------------------------


class ScriptedService:
    """``follow`` yields a script (an exception in it is raised there); downloads are recorded."""

    def __init__(self, script: list[FollowEvent | Exception], fail_download: str = "") -> None:
        self.script, self.fail_download = script, fail_download
        self.downloads: list[tuple[str, str]] = []
        self.closed = False

    def follow(self, job: Job, **_: Any) -> Iterator[FollowEvent]:
        try:
            for item in self.script:
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            self.closed = True

    def download_image(self, history_id: str, url: str, session_id: str | None = None) -> bytes:
        self.downloads.append((history_id, url))
        if url == self.fail_download:
            raise JimengError("the file could not be read").for_generation(history_id)
        return image_bytes("PNG")


def run(script: list[FollowEvent | Exception], job: Job = JOB, **kw: Any) -> tuple[list[Any], ScriptedService]:
    """The stream's output as ("comment", text) and (event name, data) items."""
    svc = ScriptedService(script, **kw)
    stream = _ImageStream(svc, job, edit=False, keepalive=10.0, gone=lambda: False, rid="r1")  # type: ignore[arg-type]
    items: list[Any] = []
    for chunk in stream.events():
        assert chunk.endswith("\n\n")
        if chunk.startswith(":"):
            items.append(("comment", chunk[2:].strip()))
        else:
            name, data = chunk.strip().split("\n")
            items.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return items, svc


def images(items: list[Any]) -> list[tuple[str, str, int]]:
    return [(d["history_id"], d["url"], d["index"]) for name, d in items if name == "image_generation.completed"]


def test_each_image_is_sent_once_as_it_appears_and_the_parts_in_order() -> None:
    items, svc = run(
        [
            Progress(RUNNING, 0),
            Progress(replace(RUNNING, finished=2, image_urls=("a0", "a1")), 0),
            Idle(),
            PartFinished(0, result("h1", "a0", "a1", "a2")),
            Progress(replace(RUNNING, history_id="h2", finished=0, total=1), 1),
            PartFinished(1, result("h2", "b0", "b-extra")),  # more than the part asked for: not sent
            Finished(result("h1", "a0", "a1", "a2", "b0")),
        ]
    )
    assert images(items) == [("h1", "a0", 0), ("h1", "a1", 1), ("h1", "a2", 2), ("h2", "b0", 3)]
    assert svc.downloads == [("h1", "a0"), ("h1", "a1"), ("h1", "a2"), ("h2", "b0")]
    assert items[0] == ("comment", "generation h1, h2 submitted to Jimeng (4 image(s) asked for; GET /v1/tasks/h1 "
                                   "finds it later)")  # fmt: skip
    assert ("comment", "keep-alive") in items
    assert ("comment", "generation h1: 1 of 3 images ready") in items
    assert svc.closed


def test_a_failed_part_beside_others_is_an_error_event_after_their_images() -> None:
    failed = GenerationFailedError("Jimeng failed generation h1 (code 77)", history_id="h1")
    items, _ = run([PartFinished(1, result("h2", "b0")), Finished(result("h2", "b0", failures=(failed,)))])
    assert [name for name, _ in items[1:]] == ["image_generation.completed", "error"]
    error = items[-1][1]
    assert error["type"] == "error"
    assert (error["error"]["code"], error["error"]["history_id"]) == ("generation_failed", "h1")


def test_a_failure_after_images_is_one_error_event_with_the_history_id_then_the_end() -> None:
    failed = GenerationFailedError("Jimeng failed generation h1", history_id="h1")
    items, svc = run([Progress(replace(RUNNING, image_urls=("a0",)), 0), failed], job=replace(JOB, parts=JOB.parts[:1]))
    assert [name for name, _ in items if name != "comment"] == ["image_generation.completed", "error"]
    assert items[-1][1]["error"]["history_id"] == "h1"
    assert svc.closed


def test_an_image_that_cannot_be_downloaded_ends_the_stream_with_its_history_id() -> None:
    items, _ = run([PartFinished(0, result("h1", "a0", "a1"))], fail_download="a1")
    assert [name for name, _ in items if name != "comment"] == ["image_generation.completed", "error"]
    assert (items[-1][1]["error"]["code"], items[-1][1]["error"]["history_id"]) == ("upstream_error", "h1")


def test_an_unexpected_error_is_an_internal_error_event_naming_the_generation() -> None:
    items, _ = run([RuntimeError("a bug")])
    error = items[-1][1]["error"]
    assert (error["code"], error["history_id"]) == ("internal_error", "h1")
    assert "a bug" not in error["message"]
