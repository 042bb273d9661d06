"""POST /v1/chat/completions against the emulator: JSON and SSE, errors, the openai SDK, client disconnects.

Streams are read by a small SSE parser here (``data:`` lines, ``:`` comments) and by the official SDK.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import openai
import pytest
import requests
from openai import OpenAI

from app.domain.chat import approximate_tokens, usage
from app.emulator import EmulatorServer
from tests.e2e.conftest import Api, assert_error, data_uri, png_bytes
from tests.e2e.test_images import png_size
from tests.e2e.test_videos import is_mp4
from tests.support import gunicorn_server
from tests.ui_templates import (
    HISTORY,
    LOBECHAT_CHECK,
    OPEN_WEBUI_FOLLOW_UPS,
    OPEN_WEBUI_TAGS,
    OPEN_WEBUI_TITLE,
    nextchat_summary,
    nextchat_topic,
    open_webui,
)

CHAT = "/v1/chat/completions"
SUBMIT_PATH = "/mweb/v1/aigc_draft/generate"
IMAGE_LINE = re.compile(r"^!\[image_(\d)\]\((http://127\.0\.0\.1:\d+/media/(\d+)/(\d)\.png\?[^)]+)\)$")
VIDEO_LINE = re.compile(r"^\[video\]\((http://127\.0\.0\.1:\d+/media/(\d+)/video\.mp4\?[^)]+)\)$")
HISTORY_IN_CHUNK = re.compile(rb'"history_id":"(\d+)"')
FAST_VIDEO = {"poll_max_late_seconds_video": 0.2, "poll_max_seconds": 0.2}
# Polls at least every 0.2 s: a generation still polled after a disconnect shows up within a second.
DISCONNECT_POLLING = {"poll_max_late_seconds_image": 0.15, "poll_min_seconds": 0.05, "poll_max_seconds": 0.2}


THREE_FRAMES = [{"type": "text", "text": "x"}, *[{"type": "image_url", "image_url": "https://x/a.png"}] * 3]
# Real images: were the limit not checked before any upstream call, they would all be uploaded to ImageX.
ELEVEN_IMAGES = [{"type": "text", "text": "x"}, *[{"type": "image_url", "image_url": data_uri(png_bytes())}] * 11]


def chat(content: Any, model: str | None = "jimeng-4.0", *, stream: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": content}], "stream": stream}
    if model is not None:
        body["model"] = model
    return body


def image_lines(content: str, history_id: str) -> list[str]:
    """The URLs of the ``![image_k](url)`` lines, checked to be image k-1 of that generation, in order."""
    lines = [line for line in content.split("\n") if line.startswith("![")]
    urls = []
    for k, line in enumerate(lines, start=1):
        match = IMAGE_LINE.match(line)
        assert match, line
        assert (int(match[1]), match[3], int(match[4])) == (k, history_id, k - 1)
        urls.append(match[2])
    return urls


def image_lines_of(content: str) -> list[str]:
    return [line for line in content.split("\n") if line.startswith("![")]


@pytest.fixture
def api(start_api: Callable[..., Api]) -> Api:
    return start_api(**FAST_VIDEO)


# -- a small SSE client -----------------------------------------------------------------------------------


@dataclass
class Stream:
    """What an SSE client saw: status, headers, every non-empty line with its arrival time."""

    status: int
    headers: dict[str, str]
    first_line_seconds: float
    lines: list[tuple[float, str]] = field(default_factory=list)

    @property
    def data(self) -> list[str]:
        return [line.removeprefix("data: ") for _, line in self.lines if line.startswith("data: ")]

    @property
    def chunks(self) -> list[dict[str, Any]]:
        return [json.loads(data) for data in self.data if data != "[DONE]"]

    @property
    def comments(self) -> list[str]:
        return [line for _, line in self.lines if line.startswith(":")]

    @property
    def content(self) -> str:
        return "".join(c["choices"][0]["delta"].get("content", "") for c in self.chunks if c.get("choices"))

    @property
    def reasoning(self) -> str:
        return "".join(c["choices"][0]["delta"].get("reasoning_content", "") for c in self.chunks if c.get("choices"))


def read_stream(api: Api, body: dict[str, Any], *, token: str | None = None) -> Stream:
    """POST the chat with ``stream: true`` and read every line until the server ends the response."""
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {token or api.token}"}
    with requests.post(api.url + CHAT, json=body, headers=headers, stream=True, timeout=30) as response:
        stream = Stream(response.status_code, dict(response.headers), -1.0)
        for raw in response.iter_lines():
            line = raw.decode("utf-8")
            if not line:
                continue  # the blank line that ends an event
            if stream.first_line_seconds < 0:
                stream.first_line_seconds = time.monotonic() - started
            assert line.startswith(("data: ", ":")), line
            stream.lines.append((time.monotonic() - started, line))
    return stream


def assert_one_stream(stream: Stream, model: str) -> None:
    """Every chunk repeats id, object, created and model; a well-formed stream ends with ``[DONE]`` once."""
    assert stream.data[-1] == "[DONE]"
    assert stream.data.count("[DONE]") == 1
    chunks = [c for c in stream.chunks if "choices" in c]
    first = chunks[0]
    assert first["id"].startswith("chatcmpl-")
    assert isinstance(first["created"], int)
    for chunk in chunks:
        assert (chunk["id"], chunk["object"], chunk["created"], chunk["model"]) == (
            first["id"],
            "chat.completion.chunk",
            first["created"],
            model,
        )


# -- JSON -------------------------------------------------------------------------------------------------


def test_image_model_answers_four_image_lines_with_the_history_id(api: Api) -> None:
    response = api.post(CHAT, chat("a red fox in snow [gen=300ms]"))
    assert response.status_code == 200, response.text
    body = response.json()
    history_id = body["history_id"]
    assert (body["object"], body["model"]) == ("chat.completion", "jimeng-4.0")
    assert body["id"].startswith("chatcmpl-")
    [choice] = body["choices"]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert body["usage"] == usage(chat("a red fox in snow [gen=300ms]")["messages"], choice["message"]["content"])
    assert body["usage"]["prompt_tokens"] == 8  # 29 characters, about 4 a token
    urls = image_lines(choice["message"]["content"], history_id)
    assert len(urls) == 4
    assert api.generations()[history_id]["kind"] == "image"
    with requests.get(urls[3], timeout=5) as image:
        assert image.status_code == 200
        png_size(image.content)
    assert api.submits() == 1


def test_video_model_answers_a_link_to_the_mp4(api: Api) -> None:
    response = api.post(CHAT, chat("waves [gen=300ms]", "jimeng-video-seedance-2.0"))
    assert response.status_code == 200, response.text
    body = response.json()
    match = VIDEO_LINE.match(body["choices"][0]["message"]["content"])
    assert match, body
    assert match[2] == body["history_id"]
    assert api.generations()[body["history_id"]]["kind"] == "video"
    with requests.get(match[1], timeout=5) as video:
        assert is_mp4(video.content)


def test_image_parts_make_a_composition_of_every_input(api: Api) -> None:
    content = [
        {"type": "text", "text": "blend these [gen=300ms]"},
        {"type": "image_url", "image_url": {"url": data_uri(png_bytes())}},
        {"type": "image_url", "image_url": data_uri(png_bytes(5, 9))},
    ]
    response = api.post(CHAT, chat(content))
    assert response.status_code == 200, response.text
    generation = api.generations()[response.json()["history_id"]]
    assert generation["kind"] == "blend"
    assert len(generation["image_uris"]) == 2
    assert len(image_lines(response.json()["choices"][0]["message"]["content"], response.json()["history_id"])) == 4


def test_an_image_part_on_a_video_model_is_the_first_frame(api: Api) -> None:
    content = [{"type": "image_url", "image_url": {"url": data_uri(png_bytes())}}, {"type": "text", "text": "go"}]
    response = api.post(CHAT, chat(content, "jimeng-video-seedance-2.0"))
    assert response.status_code == 200, response.text
    generation = api.generations()[response.json()["history_id"]]
    assert (generation["kind"], len(generation["image_uris"])) == ("video", 1)


@pytest.mark.parametrize(("model", "wide"), [("jimeng-4.0:16:9", True), ("jimeng-4.0:1024x1792", False)])
def test_a_model_suffix_reaches_the_draft(api: Api, model: str, wide: bool) -> None:
    response = api.post(CHAT, chat("a skyline [gen=300ms]", model))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == model
    url = image_lines(body["choices"][0]["message"]["content"], body["history_id"])[0]
    with requests.get(url, timeout=5) as image:
        width, height = png_size(image.content)
    assert (width > height) is wide
    assert width != height


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"model": "jimeng-4.0"}, "missing_field", "messages"),
        ({"messages": []}, "invalid_value", "messages"),
        ({"messages": "a cat"}, "invalid_value", "messages"),
        ({"messages": [{"role": "system", "content": "you draw cats"}]}, "invalid_value", "messages"),
        ({"messages": [{"role": "assistant", "content": "hi"}]}, "invalid_value", "messages"),
        ({"messages": [{"content": "a cat"}]}, "missing_field", "messages[0].role"),
        (chat("   "), "invalid_value", "messages[0].content"),
        (
            chat([{"type": "image_url", "image_url": {"url": "https://x/a.png"}}]),
            "invalid_value",
            "messages[0].content",
        ),
        (chat([{"type": "text", "text": "x"}, {"type": "video_url"}]), "invalid_value", "messages[0].content[1]"),
        (chat("a cat", "jimeng-4.0:wide"), "invalid_value", "model"),
        (chat("a cat", "jimeng-4.0:5:4"), "invalid_value", "model"),
        (chat("a cat", "gpt-4o"), "model_not_found", "model"),
        (chat(THREE_FRAMES, "jimeng-video-seedance-2.0"), "too_many_images", "messages"),
        (chat(ELEVEN_IMAGES), "too_many_images", "messages"),
        (chat("x" * 2001), "invalid_value", "messages[0].content"),
    ],
)
def test_unusable_requests_are_plain_400s_and_nothing_reaches_jimeng(
    api: Api, body: dict[str, Any], code: str, param: str, stream: bool
) -> None:
    response = api.post(CHAT, {**body, "stream": stream})
    assert response.headers["Content-Type"].startswith("application/json")
    error = assert_error(response, 400, code)
    assert error["param"] == param
    assert api.stats()["requests"]["total"] == 0


def test_missing_bearer_is_401_also_for_a_stream(api: Api) -> None:
    assert_error(api.post(CHAT, chat("a cat", stream=True), token=""), 401, "missing_session")


@pytest.mark.parametrize(
    ("prompt", "status", "code"),
    [
        ("a cat [fail=77] [gen=300ms]", 502, "generation_failed"),
        ("a cat [filter] [gen=300ms]", 400, "content_filtered"),
    ],
)
def test_a_failed_chat_is_an_error_after_exactly_one_submit(api: Api, prompt: str, status: int, code: str) -> None:
    error = assert_error(api.post(CHAT, chat(prompt)), status, code)
    assert error["history_id"] in api.generations()
    time.sleep(0.3)  # nothing re-submits behind the answer either
    stats = api.stats()
    assert stats["requests"]["by_path"][SUBMIT_PATH] == 1
    assert stats["totals"]["generations_created"] == 1


# -- SSE --------------------------------------------------------------------------------------------------


def test_stream_sends_role_progress_keepalives_four_images_stop_and_done(start_api: Callable[..., Api]) -> None:
    api = start_api(sse_keepalive_seconds=0.2, poll_max_seconds=0.2)
    stream = read_stream(api, chat("a lighthouse [gen=1500ms]", stream=True))
    assert stream.status == 200
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    assert stream.headers["Cache-Control"] == "no-cache"
    assert stream.headers["X-Accel-Buffering"] == "no"
    assert stream.first_line_seconds < 0.3
    assert_one_stream(stream, "jimeng-4.0")
    chunks = stream.chunks
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert "history_id" not in chunks[0]
    history_id = chunks[1]["history_id"]
    assert history_id in api.generations()
    assert history_id in chunks[1]["choices"][0]["delta"]["reasoning_content"]  # the submitted chunk names it
    assert all(chunk["history_id"] == history_id for chunk in chunks[1:])
    # progress chunks as the state changes (reasoning, out of the chat history), with Jimeng's forecast
    assert re.search(r"^Queued at Jimeng(: \d+ of \d+)?(, about \d+ s)?…$", stream.reasoning, re.MULTILINE)
    assert re.search(r"^Generating(, about \d+ s left)?…$", stream.reasoning, re.MULTILINE)
    assert re.search(r"^[123] of 4 images ready(, about \d+ s left)?…$", stream.reasoning, re.MULTILINE)
    assert stream.comments and set(stream.comments) == {": keep-alive"}
    assert len(image_lines(stream.content, history_id)) == 4
    assert stream.content == "\n".join(image_lines_of(stream.content))  # the answer is the images, nothing else
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None] * (len(chunks) - 1) + ["stop"]
    assert chunks[-1]["choices"][0]["delta"] == {}
    assert api.submits() == 1


def test_keepalives_fill_every_silence_of_the_configured_length(start_api: Callable[..., Api]) -> None:
    api = start_api(sse_keepalive_seconds=0.2)
    # status 20 for the first 0.75 s, 42 for the next 0.75 s: silences a keep-alive must break up
    stream = read_stream(api, chat("a lighthouse [gen=2500ms]", stream=True))
    times = [at for at, _ in stream.lines]
    assert max(b - a for a, b in itertools.pairwise(times)) < 0.5
    assert len(stream.comments) >= 4
    assert stream.data[-1] == "[DONE]"


def test_the_role_chunk_goes_out_before_the_submit_and_after_at_most_the_credit_check(api: Api) -> None:
    api.emulator.configure(faults={"all": {"latency_ms": 400}})
    stream = read_stream(api, chat("a cat [gen=200ms]", stream=True))
    assert 0.4 < stream.first_line_seconds < 0.7  # the account's credits were checked before the headers
    assert stream.lines[1][0] > 0.8  # the submitted chunk waited for Jimeng
    assert stream.data[-1] == "[DONE]"
    stream = read_stream(api, chat("a dog [gen=200ms]", stream=True))
    assert stream.first_line_seconds < 0.3  # the credits are cached: no upstream call before the role chunk
    assert stream.lines[1][0] > 0.4


def test_a_video_stream_ends_with_the_mp4_link(api: Api) -> None:
    stream = read_stream(api, chat("waves [gen=300ms]", "jimeng-video-seedance-2.0", stream=True))
    assert_one_stream(stream, "jimeng-video-seedance-2.0")
    history_id = stream.chunks[-1]["history_id"]
    links = [line for line in stream.content.split("\n") if VIDEO_LINE.match(line)]
    assert len(links) == 1
    assert f"/media/{history_id}/video.mp4" in links[0]


def test_a_filtered_stream_ends_with_an_error_event_with_the_history_id_then_done(api: Api) -> None:
    stream = read_stream(api, chat("bad [filter] [gen=300ms]", stream=True))
    assert stream.status == 200
    assert_one_stream(stream, "jimeng-4.0")
    last = json.loads(stream.data[-2])
    assert set(last) == {"error"}
    assert set(last["error"]) == {"message", "type", "param", "code", "history_id"}
    assert last["error"]["code"] == "content_filtered"
    assert stream.content == f"Error: {last['error']['message']}"  # for clients that drop error events
    assert last["error"]["history_id"] == stream.chunks[1]["history_id"]
    assert last["error"]["history_id"] in api.generations()
    assert not [c for c in stream.chunks if "choices" in c and c["choices"][0]["finish_reason"] == "stop"]
    assert api.submits() == 1


def test_a_deadline_in_a_stream_is_a_timeout_event_with_the_history_id(start_api: Callable[..., Api]) -> None:
    api = start_api(image_timeout_seconds=1)
    stream = read_stream(api, chat("slow [gen=3s]", stream=True))
    assert stream.data[-1] == "[DONE]"
    error = json.loads(stream.data[-2])["error"]
    assert error["code"] == "generation_timeout"
    assert error["history_id"] == stream.chunks[1]["history_id"]
    assert f"/v1/tasks/{error['history_id']}" in error["message"]


@pytest.mark.parametrize(
    ("token", "status", "code"),
    [("user-expired-000000001", 401, "session_expired"), ("user-nocredit-00000001", 402, "insufficient_credits")],
)
def test_a_refused_session_is_a_plain_error_before_the_stream_starts(
    api: Api, token: str, status: int, code: str
) -> None:
    response = api.post(CHAT, chat("a cat", stream=True), token=token)
    assert response.headers["Content-Type"].startswith("application/json")
    error = assert_error(response, status, code)
    assert error["history_id"] is None
    assert api.submits() == 0
    # the claim was released: the same request on a good session generates
    stream = read_stream(api, chat("a cat [gen=200ms]", stream=True))
    assert stream.data[-1] == "[DONE]" and api.submits() == 1


def test_a_streamed_chat_checks_each_session_once_and_submits_on_the_one_it_chose(
    start_api: Callable[..., Api],
) -> None:
    api = start_api(credit_cache_seconds=0)  # nothing cached: a second choice would check again
    stream = read_stream(api, chat("a cat [gen=200ms]", stream=True), token=f"{api.token}-a,{api.token}-b")
    assert stream.data[-1] == "[DONE]"
    assert api.stats()["requests"]["by_path"]["/commerce/v1/benefits/user_credit"] == 2
    assert api.submits() == 1


@pytest.mark.parametrize("mode", ["content", "off"])
def test_chat_progress_setting_puts_progress_in_the_content_or_nowhere(
    start_api: Callable[..., Api], mode: str
) -> None:
    api = start_api(chat_progress=mode, poll_max_seconds=0.2)
    stream = read_stream(api, chat("a lighthouse [gen=1000ms]", stream=True))
    history_id = stream.chunks[-1]["history_id"]
    assert stream.reasoning == ""
    assert len(image_lines(stream.content, history_id)) == 4
    progress = [line for line in stream.content.split("\n") if line and not line.startswith("![")]
    if mode == "content":
        assert progress[0] == f"Submitted to Jimeng (history id {history_id})."
        assert any(line.startswith("Generating") or "images ready" in line for line in progress)
    else:
        assert progress == []


# -- the official openai SDK ------------------------------------------------------------------------------


def sdk(api: Api, token: str | None = None) -> OpenAI:
    return OpenAI(base_url=api.url + "/v1", api_key=token or api.token, max_retries=0, timeout=30)


def test_openai_sdk_streams_the_four_image_lines(api: Api) -> None:
    messages = [{"role": "system", "content": "You draw."}, {"role": "user", "content": "a cat [gen=500ms]"}]
    with sdk(api).chat.completions.create(model="jimeng-4.0", messages=messages, stream=True) as stream:  # type: ignore[arg-type]
        chunks = list(stream)
    assert len({chunk.id for chunk in chunks}) == 1
    content = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    history_id = json.loads(chunks[-1].model_dump_json())["history_id"]
    assert len(image_lines(content, history_id)) == 4
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_openai_sdk_non_streaming_chat(api: Api) -> None:
    completion = sdk(api).chat.completions.create(
        model="jimeng-4.0:16:9", messages=[{"role": "user", "content": "a cat [gen=300ms]"}]
    )
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.content is not None
    assert completion.choices[0].message.content.count("![image_") == 4


def test_openai_sdk_stream_with_include_usage_ends_with_a_usage_chunk(api: Api) -> None:
    messages: Any = [{"role": "user", "content": "a cat [gen=300ms]"}]
    with sdk(api).chat.completions.create(
        model="jimeng-4.0", messages=messages, stream=True, stream_options={"include_usage": True}
    ) as stream:
        chunks = list(stream)
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert chunks[-2].choices[0].finish_reason == "stop"
    reasoning = "".join(getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks[:-1])
    content = "".join(c.choices[0].delta.content or "" for c in chunks[:-1])
    assert "Submitted to Jimeng" in reasoning  # progress arrives as reasoning_content
    assert content.count("![image_") == 4
    assert last.usage.prompt_tokens == approximate_tokens("a cat [gen=300ms]")
    assert last.usage.completion_tokens == approximate_tokens(reasoning + content)  # every text streamed
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens


def test_a_stream_without_include_usage_has_no_usage_chunk(api: Api) -> None:
    stream = read_stream(api, chat("a cat [gen=200ms]", stream=True))
    assert all(chunk.get("choices") for chunk in stream.chunks)


@pytest.mark.parametrize(
    ("token", "error_class", "status"),
    [
        ("user-expired-000000001", openai.AuthenticationError, 401),
        ("user-nocredit-00000001", openai.APIStatusError, 402),
    ],
)
def test_openai_sdk_stream_on_a_refused_session_raises_the_status_error(
    api: Api, token: str, error_class: type[openai.APIStatusError], status: int
) -> None:
    messages: Any = [{"role": "user", "content": "a cat"}]
    with pytest.raises(error_class) as caught:
        sdk(api, token).chat.completions.create(model="jimeng-4.0", messages=messages, stream=True)
    assert caught.value.status_code == status
    assert api.submits() == 0


def test_openai_sdk_raises_on_an_error_event_in_a_stream(api: Api) -> None:
    stream = sdk(api).chat.completions.create(
        model="jimeng-4.0", messages=[{"role": "user", "content": "bad [filter] [gen=300ms]"}], stream=True
    )
    with pytest.raises(openai.APIError) as caught, stream:
        list(stream)
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "content_filtered"
    assert caught.value.body["history_id"] in api.generations()


def test_openai_sdk_images_generate(api: Api) -> None:
    result = sdk(api).images.generate(model="jimeng-4.0", prompt="a kitten [gen=300ms]", size="1792x1024")
    assert result.data is not None and len(result.data) == 4
    assert all(item.url and urlsplit(item.url).path.endswith(".png") for item in result.data)


@pytest.mark.parametrize(
    ("token", "model", "error_class", "status"),
    [
        ("user-expired-000000001", "jimeng-4.0", openai.AuthenticationError, 401),
        ("bad,,token with space", "jimeng-4.0", openai.AuthenticationError, 401),
        (None, "dall-e-9", openai.BadRequestError, 400),
        ("user-nocredit-00000001", "jimeng-4.0", openai.APIStatusError, 402),
    ],
)
def test_openai_sdk_error_classes_follow_the_status(
    api: Api, token: str | None, model: str, error_class: type[openai.APIStatusError], status: int
) -> None:
    client = sdk(api, token)
    calls: list[Callable[[], object]] = [
        lambda: client.images.generate(model=model, prompt="a kitten"),
        lambda: client.chat.completions.create(model=model, messages=[{"role": "user", "content": "a kitten"}]),
    ]
    for call in calls:
        with pytest.raises(error_class) as caught:
            call()
        assert caught.value.status_code == status
        if status == 402:
            assert type(caught.value) is openai.APIStatusError
            assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "insufficient_credits"
    assert api.submits() == 0


# -- chat UIs' own background requests ---------------------------------------------------------------------


def test_open_webui_title_tags_and_follow_ups_make_no_generation(api: Api) -> None:
    client = sdk(api)
    answers = {}
    for name, template in (
        ("title", OPEN_WEBUI_TITLE),
        ("tags", OPEN_WEBUI_TAGS),
        ("follow_ups", OPEN_WEBUI_FOLLOW_UPS),
    ):
        completion = client.chat.completions.create(model="jimeng-4.0", messages=open_webui(template, HISTORY))  # type: ignore[arg-type]
        assert completion.choices[0].finish_reason == "stop"
        assert completion.usage is not None and completion.usage.prompt_tokens > 100
        answers[name] = json.loads(completion.choices[0].message.content or "")
    assert answers == {
        "title": {"title": "A red fox sleeping in"},
        "tags": {"tags": []},
        "follow_ups": {"follow_ups": []},
    }
    assert api.generations() == {}
    assert api.stats()["requests"]["total"] == 0  # not even a credit check


def test_nextchat_topic_and_streamed_summary_make_no_generation(api: Api) -> None:
    response = api.post(CHAT, {"model": "jimeng-4.0", "messages": nextchat_topic(HISTORY), "stream": False})
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "A red fox sleeping in"
    assert "history_id" not in response.json()
    stream = read_stream(api, {"model": "jimeng-4.0", "messages": nextchat_summary(HISTORY), "stream": True})
    assert_one_stream(stream, "jimeng-4.0")
    assert stream.content == f"Image prompts so far: {HISTORY[0]['content']}"
    assert stream.chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert api.generations() == {}


def test_lobechat_connection_check_answers_hello_and_checks_the_session(api: Api) -> None:
    body = {"model": "jimeng-4.0", "messages": [{"role": "user", "content": LOBECHAT_CHECK}], "stream": True}
    stream = read_stream(api, body)
    assert stream.content.startswith("Hello!")
    assert api.generations() == {}
    assert_error(api.post(CHAT, body, token="user-expired-000000001"), 401, "session_expired")
    assert_error(api.post(CHAT, {**body, "model": "dall-e-9"}), 400, "model_not_found")
    assert api.submits() == 0


def test_a_prompt_that_mentions_a_title_still_generates(api: Api) -> None:
    prompt = "a book cover with the title 'Winter Fox' in gold letters [gen=200ms]"
    response = api.post(CHAT, chat(prompt))
    assert response.status_code == 200, response.text
    assert response.json()["history_id"] in api.generations()
    assert api.submits() == 1


def test_chat_ui_tasks_generate_sends_them_to_jimeng(start_api: Callable[..., Api]) -> None:
    api = start_api(chat_ui_tasks="generate")
    response = api.post(CHAT, chat(LOBECHAT_CHECK))
    assert response.status_code == 200, response.text
    assert response.json()["history_id"] in api.generations()


# -- client disconnects -----------------------------------------------------------------------------------


def hang_up_after_submit(service_url: str, token: str, emu: EmulatorServer, prompt: str) -> str:
    """Open a stream on a raw socket, wait for the submitted chunk and two polls of it, then close it."""
    address = urlsplit(service_url)
    body = json.dumps(chat(prompt, stream=True)).encode()
    head = (
        f"POST {CHAT} HTTP/1.1\r\nHost: {address.netloc}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        received = b""
        while (match := HISTORY_IN_CHUNK.search(received)) is None:
            data = sock.recv(65536)
            assert data, received
            received += data
        history_id = match[1].decode()
        deadline = time.monotonic() + 5
        while poll_count(emu, history_id) < 2:  # the stream's generation is being polled ...
            assert time.monotonic() < deadline
            time.sleep(0.05)
    return history_id  # ... until here: the socket is closed


def poll_count(emu: EmulatorServer, history_id: str) -> int:
    return int(emu.stats()["generations"][history_id]["poll_count"])


def assert_polling_stopped(emu: EmulatorServer, history_id: str) -> None:
    time.sleep(1.0)  # the disconnect check (0.5 s) plus one poll interval (0.2 s), with room
    settled = poll_count(emu, history_id)
    time.sleep(2.0)
    assert poll_count(emu, history_id) == settled
    assert emu.stats()["generations"][history_id]["status"] < 50  # still running upstream: only we stopped


def test_disconnect_stops_polling_under_the_development_server(
    start_api: Callable[..., Api], log_lines: list[str]
) -> None:
    api = start_api(**DISCONNECT_POLLING)  # default keep-alive (10 s): only the socket check can notice
    history_id = hang_up_after_submit(api.url, api.token, api.emulator, "a long one [gen=20s]")
    assert_polling_stopped(api.emulator, history_id)
    assert any(history_id in line and "no longer polled" in line for line in log_lines)


@contextmanager
def procfile_service(emulator: EmulatorServer, log_dir: Path, **env: str) -> Iterator[str]:
    """The Procfile command (gevent workers), one worker, fast polling, against the emulator."""
    polling = {key.upper(): str(value) for key, value in DISCONNECT_POLLING.items()}
    full_env = {"JIMENG_BASE_URL": emulator.url, "JIMENG_IMAGEX_URL": emulator.url, "WEB_CONCURRENCY": "1"}
    full_env.update(polling, **env)
    with ExitStack() as stack:
        for attempt in range(3):
            try:
                url = stack.enter_context(gunicorn_server(full_env, log_path=log_dir / f"gunicorn-{attempt}.log"))
                break
            except requests.Timeout:
                # the worker boots after the master listens: on a busy machine the first /ping can outlast the
                # 1 s read timeout of wait_until_up, which only retries refused connections (the process is gone)
                if attempt == 2:
                    raise
        yield url


@pytest.fixture(scope="module")
def gunicorn_url(emulator_session: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Default keep-alive (10 s): within a test nothing is written after the submit but the socket check."""
    with procfile_service(emulator_session, tmp_path_factory.mktemp("gunicorn")) as url:
        yield url


@pytest.fixture(scope="module")
def gunicorn_keepalive_url(emulator_session: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """0.2 s keep-alives: a gone client is also noticed by a failing write."""
    log_dir = tmp_path_factory.mktemp("gunicorn-keepalive")
    with procfile_service(emulator_session, log_dir, SSE_KEEPALIVE_SECONDS="0.2") as url:
        yield url


@pytest.mark.parametrize("server", ["gunicorn_url", "gunicorn_keepalive_url"])
def test_disconnect_stops_polling_under_gunicorn_gevent_workers(
    server: str, emu: EmulatorServer, request: pytest.FixtureRequest
) -> None:
    url: str = request.getfixturevalue(server)
    history_id = hang_up_after_submit(url, f"sess-hangup-{server}", emu, "a long one [gen=20s]")
    assert_polling_stopped(emu, history_id)


def test_full_stream_with_keepalives_under_gunicorn_gevent_workers(
    gunicorn_keepalive_url: str, emu: EmulatorServer
) -> None:
    api = Api(gunicorn_keepalive_url, emu)
    stream = read_stream(api, chat("a lighthouse [gen=1500ms]", stream=True))
    assert stream.status == 200
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    assert stream.headers["X-Accel-Buffering"] == "no"
    assert stream.first_line_seconds < 0.3
    assert_one_stream(stream, "jimeng-4.0")
    assert stream.comments
    history_id = stream.chunks[-1]["history_id"]
    assert len(image_lines(stream.content, history_id)) == 4
    assert stream.chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert api.submits() == 1
