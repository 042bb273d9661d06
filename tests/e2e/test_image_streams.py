"""OpenAI's image streaming (``stream: true`` on the image endpoints) against the emulator: the official SDK's
events, images sent one by one as Jimeng finishes them, split jobs in order, errors before and after the
first byte."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import openai
import pytest
import requests
from openai import OpenAI

from tests.e2e.conftest import Api, assert_error, data_uri, png_bytes

GENERATIONS = "/v1/images/generations"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Polls at most 0.2 s apart, so an image that arrives is seen (and sent) long before the next one arrives.
STREAM_POLLING = {"poll_max_late_seconds_image": 0.15, "poll_min_seconds": 0.05, "poll_max_seconds": 0.2}


@pytest.fixture
def api(start_api: Callable[..., Api]) -> Api:
    return start_api(**STREAM_POLLING)


def sdk(api: Api, token: str | None = None) -> OpenAI:
    return OpenAI(base_url=api.url + "/v1", api_key=token or api.token, max_retries=0, timeout=30)


@dataclass
class Sse:
    """What an SSE client saw: status, headers, events (name, data, arrival) and comments."""

    status: int
    headers: dict[str, str]
    events: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)

    def named(self, name: str) -> list[dict[str, Any]]:
        return [data for event, data, _ in self.events if event == name]


def read_sse(
    api: Api, path: str, body: dict[str, Any], *, on_event: Callable[[str, dict[str, Any]], None] | None = None
) -> Sse:
    """POST ``body`` and read the stream until the server ends it (``on_event`` runs as each event arrives)."""
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {api.token}"}
    with requests.post(api.url + path, json=body, headers=headers, stream=True, timeout=30) as response:
        sse = Sse(response.status_code, dict(response.headers))
        name, data = "message", ""
        for raw in response.iter_lines():
            line = raw.decode("utf-8")
            sse.raw.append(line)
            if line.startswith(":"):
                sse.comments.append(line[1:].strip())
            elif line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data += line.removeprefix("data: ")
            elif not line and data:
                payload = json.loads(data)
                sse.events.append((name, payload, time.monotonic() - started))
                if on_event is not None:
                    on_event(name, payload)
                name, data = "message", ""
            else:
                assert not line, line
    return sse


def decoded(b64: str | None) -> bytes:
    assert b64 is not None
    blob = base64.b64decode(b64, validate=True)
    assert blob.startswith(PNG_MAGIC) or blob.startswith(b"\xff\xd8\xff"), blob[:8]
    return blob


# -- the official SDK -------------------------------------------------------------------------------------


def test_sdk_generate_stream_yields_one_completed_event_per_image_in_order(api: Api) -> None:
    stream = sdk(api).images.generate(model="jimeng-4.0", prompt="a kitten [n=2] [gen=2s]", stream=True)
    with stream:
        events = list(stream)
    assert [event.type for event in events] == ["image_generation.completed"] * 2
    history_id = events[0].history_id  # type: ignore[union-attr]
    assert history_id in api.generations()
    for k, event in enumerate(events):
        assert isinstance(event, openai.types.ImageGenCompletedEvent)
        decoded(event.b64_json)
        extra = json.loads(event.model_dump_json())
        assert (extra["history_id"], extra["index"]) == (history_id, k)
        assert extra["url"].split("?")[0].endswith(f"/media/{history_id}/{k}.png")
        assert event.output_format == "png" and event.size == "64x64"  # the emulator's thumbnails
        assert event.usage.total_tokens == 0
    assert api.submits() == 1


def test_sdk_edit_stream_yields_image_edit_events(api: Api) -> None:
    stream = sdk(api).images.edit(
        image=("cat.png", png_bytes(), "image/png"), prompt="make it blue [n=2] [gen=1s]", model="jimeng-4.0",
        stream=True, partial_images=2,
    )  # fmt: skip
    with stream:
        events = list(stream)
    assert [event.type for event in events] == ["image_edit.completed"] * 2  # no previews: Jimeng makes none
    assert all(isinstance(event, openai.types.ImageEditCompletedEvent) for event in events)
    for event in events:
        decoded(event.b64_json)


def test_sdk_raises_the_failure_after_the_submit_with_its_history_id(api: Api) -> None:
    stream = sdk(api).images.generate(model="jimeng-4.0", prompt="a kitten [fail=77] [gen=1s]", stream=True)
    with pytest.raises(openai.APIError) as caught, stream:
        list(stream)
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "generation_failed"
    assert caught.value.body["history_id"] in api.generations()
    assert "77" in caught.value.message


def test_sdk_gets_a_plain_authentication_error_before_any_stream(api: Api) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        sdk(api, "user-expired-000000001").images.generate(model="jimeng-4.0", prompt="a kitten", stream=True)
    assert caught.value.status_code == 401
    assert api.submits() == 0


def test_sdk_gets_402_before_any_stream_when_no_session_can_pay(api: Api) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        sdk(api, "user-nocredit-00000001").images.generate(model="jimeng-4.0", prompt="a kitten", stream=True)
    assert caught.value.status_code == 402
    assert api.submits() == 0


# -- the stream on the wire -------------------------------------------------------------------------------


def test_the_first_image_goes_out_before_the_last_one_is_ready(api: Api) -> None:
    """Jimeng finishes images one by one (the emulator: item k of n at 0.6·T + 0.4·T·k/n): each is sent when
    a poll shows it, not when the whole generation ended."""
    made_when_sent: list[int] = []

    def look(name: str, data: dict[str, Any]) -> None:
        if name == "image_generation.completed":
            made_when_sent.append(api.generations()[data["history_id"]]["images_made"])

    sse = read_sse(
        api, GENERATIONS, {"model": "jimeng-4.0", "prompt": "a fox [n=3] [gen=6s]", "stream": True}, on_event=look
    )
    assert sse.status == 200
    assert sse.headers["Content-Type"].startswith("text/event-stream")
    images = sse.named("image_generation.completed")
    assert [image["index"] for image in images] == [0, 1, 2]
    assert made_when_sent[0] < 3, made_when_sent  # the last image did not exist yet when the first was sent
    assert images[-1]["created_at"] - images[0]["created_at"] >= 1


def test_the_stream_names_the_generation_at_once_and_reports_progress_in_comments(api: Api) -> None:
    sse = read_sse(
        api, GENERATIONS, {"model": "jimeng-4.0", "prompt": "a fox [n=2] [gen=2s] [qpos=3] [queue=1s]", "stream": True}
    )
    history_id = sse.named("image_generation.completed")[0]["history_id"]
    assert sse.raw[0].startswith(f": generation {history_id} submitted to Jimeng")
    assert any(comment.startswith(f"generation {history_id}: queued, position") for comment in sse.comments)
    assert {name for name, _, _ in sse.events} == {"image_generation.completed"}  # progress is never an event
    assert "data: [DONE]" not in sse.raw


def test_quiet_time_sends_keepalive_comments(start_api: Callable[..., Api]) -> None:
    api = start_api(**STREAM_POLLING, sse_keepalive_seconds=0.3)
    sse = read_sse(api, GENERATIONS, {"model": "jimeng-4.0", "prompt": "a fox [n=1] [gen=2s]", "stream": True})
    assert "keep-alive" in sse.comments
    assert len(sse.named("image_generation.completed")) == 1


def test_a_split_job_streams_every_part_in_order(api: Api) -> None:
    sse = read_sse(api, GENERATIONS, {"model": "jimeng-4.0", "prompt": "a fox [gen=1s]", "n": 6, "stream": True})
    images = sse.named("image_generation.completed")
    assert [image["index"] for image in images] == list(range(6))
    first, second = images[0]["history_id"], images[4]["history_id"]
    assert first != second
    assert [image["history_id"] for image in images] == [first] * 4 + [second] * 2
    assert [image["url"].split("?")[0].rsplit("/", 1)[1] for image in images] == [
        f"{k}.png" for k in (0, 1, 2, 3, 0, 1)
    ]


def test_a_failure_is_one_error_event_with_the_history_id_then_the_end(api: Api) -> None:
    sse = read_sse(api, GENERATIONS, {"model": "jimeng-4.0", "prompt": "a fox [fail=77] [gen=1s]", "stream": True})
    assert sse.status == 200
    assert [name for name, _, _ in sse.events] == ["error"]
    error = sse.named("error")[0]
    assert error["type"] == "error"
    assert error["error"]["code"] == "generation_failed"
    assert error["error"]["history_id"] in api.generations()


def test_a_composition_streams_image_edit_events(api: Api) -> None:
    body = {"prompt": "mix [n=1] [gen=500ms]", "images": [data_uri(png_bytes())], "stream": True}
    sse = read_sse(api, "/v1/images/compositions", body)
    assert [name for name, _, _ in sse.events] == ["image_edit.completed"]
    assert sse.events[0][1]["type"] == "image_edit.completed"


def test_multipart_stream_arrives_as_text(api: Api) -> None:
    response = requests.post(
        f"{api.url}/v1/images/edits",
        data={"prompt": "mix [n=1] [gen=500ms]", "stream": "true", "model": "jimeng-4.0"},
        files=[("image", ("a.png", png_bytes(), "image/png"))],
        headers={"Authorization": f"Bearer {api.token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert "event: image_edit.completed" in response.text


# -- refused before the first byte ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"async": True}, "stream"),
        ({"partial_images": 4}, "partial_images"),
        ({"partial_images": -1}, "partial_images"),
        ({"stream": "true"}, "stream"),  # JSON booleans are strict
    ],
)
def test_parameters_that_cannot_stream_are_a_plain_400_before_any_submit(
    api: Api, extra: dict[str, Any], param: str
) -> None:
    body = {"model": "jimeng-4.0", "prompt": "a fox", "stream": True, **extra}
    error = assert_error(api.post(GENERATIONS, body), 400, "invalid_value")
    assert error["param"] == param
    assert api.submits() == 0


def test_bad_input_of_a_stream_is_a_plain_400(api: Api) -> None:
    assert_error(
        api.post(GENERATIONS, {"model": "dall-e-9", "prompt": "a fox", "stream": True}), 400, "model_not_found"
    )
    assert api.submits() == 0


def test_a_repeat_with_the_same_idempotency_key_streams_the_same_images_without_paying_again(api: Api) -> None:
    body = {"model": "jimeng-4.0", "prompt": "a fox [n=2] [gen=500ms]", "stream": True}
    headers = {"Authorization": f"Bearer {api.token}", "Idempotency-Key": "cover-1"}
    texts = [requests.post(api.url + GENERATIONS, json=body, headers=headers, timeout=30).text for _ in range(2)]
    urls = [[json.loads(line[6:])["url"] for line in text.splitlines() if line.startswith("data: ")] for text in texts]
    assert len(urls[0]) == 2 and [url.split("?")[0] for url in urls[1]] == [url.split("?")[0] for url in urls[0]]
    assert api.submits() == 1
