"""Chat completions as pure functions (app.domain.chat): messages, model suffixes, Markdown, chunk builders."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from app.domain.chat import (
    ChatModel,
    ChatPrompt,
    ChunkHeader,
    approximate_tokens,
    chat_request,
    completion,
    markdown,
    parse_messages,
    parse_model,
    usage,
)
from app.domain.errors import InvalidRequestError
from app.domain.models import GenerationKind, GenerationResult, ImageRequest, VideoRequest
from app.domain.sources import DataUri, ImageUrl

IMAGE_URLS = tuple(f"https://cdn.example/h/{k}.png?x-expires=1&x-signature=ab" for k in range(4))
VIDEO_URL = "http://127.0.0.1:9/media/42/video.mp4?x-expires=1&x-signature=cd"


def image_result(urls: tuple[str, ...] = IMAGE_URLS) -> GenerationResult:
    return GenerationResult(
        history_id="4721606420748", kind=GenerationKind.IMAGE, model="jimeng-4.0", urls=urls, created=1759132800
    )


def video_result() -> GenerationResult:
    return GenerationResult(
        history_id="4721606420749",
        kind=GenerationKind.VIDEO,
        model="jimeng-video-3.0",
        urls=(VIDEO_URL,),
        created=1759132800,
    )


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


# -- messages ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([user("a cat")], ChatPrompt("a cat")),
        ([user("  a cat on a mat \n")], ChatPrompt("a cat on a mat")),
        ([user([{"type": "text", "text": "a cat"}])], ChatPrompt("a cat")),
        (
            [user([{"type": "text", "text": "blend"}, {"type": "image_url", "image_url": {"url": "https://x/a.png"}}])],
            ChatPrompt("blend", (ImageUrl("https://x/a.png"),)),
        ),
        (
            [user([{"type": "image_url", "image_url": "https://x/a.png"}, {"type": "text", "text": "mix"}])],
            ChatPrompt("mix", (ImageUrl("https://x/a.png"),)),
        ),
        (
            [
                user(
                    [
                        {"type": "text", "text": "first line"},
                        {"type": "image_url", "image_url": {"url": " data:image/png;base64,AAAA "}},
                        {"type": "text", "text": "  "},
                        {"type": "text", "text": "second line"},
                        {"type": "image_url", "image_url": {"url": "https://x/b.png"}},
                    ]
                )
            ],
            ChatPrompt("first line\nsecond line", (DataUri("data:image/png;base64,AAAA"), ImageUrl("https://x/b.png"))),
        ),
        ([user("old prompt"), {"role": "assistant", "content": "done"}, user("new prompt")], ChatPrompt("new prompt")),
        (
            [{"role": "system", "content": "be nice"}, user("a dog"), {"role": "assistant", "content": "ok"}],
            ChatPrompt("a dog"),
        ),
        ([user("bad"), user("good"), {"role": "assistant", "content": "![image_1](x)"}], ChatPrompt("good")),
    ],
)
def test_the_prompt_is_the_last_user_message(messages: list[dict[str, Any]], expected: ChatPrompt) -> None:
    prompt = parse_messages(messages)
    assert (prompt.text, prompt.images) == (expected.text, expected.images)


def test_the_prompt_names_its_message_and_every_message_text_is_counted() -> None:
    messages = [
        {"role": "system", "content": "be nice"},
        user("old"),
        {"role": "assistant", "content": [{"type": "text", "text": "done"}, {"type": "refusal", "refusal": "x"}]},
        user([{"type": "text", "text": " a cat "}, {"type": "image_url", "image_url": {"url": "https://x/a.png"}}]),
        {"role": "tool", "content": {"not": "text"}},
    ]
    prompt = parse_messages(messages)
    assert (prompt.text, prompt.param, prompt.total_chars) == ("a cat", "messages[3].content", 7 + 3 + 4 + 7)


@pytest.mark.parametrize(
    ("messages", "param"),
    [
        ([], "messages"),
        ([{"role": "system", "content": "you draw"}], "messages"),
        ([{"role": "assistant", "content": "hello"}], "messages"),
        (["a bare string"], "messages"),
        ([user("")], "messages[0].content"),
        ([user("   \n\t")], "messages[0].content"),
        ([user([])], "messages[0].content"),
        ([user([{"type": "image_url", "image_url": {"url": "https://x/a.png"}}])], "messages[0].content"),
        ([user("a cat"), user([{"type": "text", "text": " "}])], "messages[1].content"),
        ([user(None)], "messages[0].content"),
        ([user(42)], "messages[0].content"),
        ([user({"type": "text", "text": "x"})], "messages[0].content"),
        (
            [{"role": "system", "content": "s"}, {"role": "assistant", "content": "a"}, user([{"type": "audio"}])],
            "messages[2].content[0]",
        ),
        (
            [
                {"role": "system", "content": "s"},
                {"role": "assistant", "content": "a"},
                user([{"type": "text", "text": "x"}, {"type": "input_audio", "input_audio": {}}]),
            ],
            "messages[2].content[1]",
        ),
        ([user([{"type": "text", "text": 5}])], "messages[0].content[0]"),
        ([user(["plain string part"])], "messages[0].content[0]"),
        ([user([{"type": "text", "text": "x"}, {"type": "image_url"}])], "messages[0].content[1]"),
        (
            [user([{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {"url": " "}}])],
            "messages[0].content[1]",
        ),
        ([user([{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {}}])], "messages[0].content[1]"),
    ],
)
def test_unusable_messages_are_400_naming_the_field(messages: list[Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_messages(messages)
    assert caught.value.param == param
    assert caught.value.code == "invalid_value"


# -- model suffixes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (None, ChatModel(None)),
        ("", ChatModel(None)),
        ("jimeng-4.0", ChatModel("jimeng-4.0")),
        ("jimeng-4.0:", ChatModel("jimeng-4.0")),
        ("jimeng-4.0:16:9", ChatModel("jimeng-4.0", ratio="16:9")),
        ("jimeng-3.1:21:9", ChatModel("jimeng-3.1", ratio="21:9")),
        ("jimeng-4.0:1792x1024", ChatModel("jimeng-4.0", size="1792x1024")),
        ("jimeng-4.0:1024X1792", ChatModel("jimeng-4.0", size="1024x1792")),
        ("jimeng-4.0: 1024 x 1024", ChatModel("jimeng-4.0", size="1024x1024")),
        ("jimeng-video-3.0:9:16", ChatModel("jimeng-video-3.0", ratio="9:16")),
        ("jimeng-video-3.0-pro:1280x720", ChatModel("jimeng-video-3.0-pro", size="1280x720")),
    ],
)
def test_a_model_suffix_picks_the_ratio_or_size(model: str | None, expected: ChatModel) -> None:
    assert parse_model(model) == expected


@pytest.mark.parametrize(
    "model", ["jimeng-4.0:wide", "jimeng-4.0:16-9", "jimeng-4.0:16:9:1", "jimeng-4.0:1792", "jimeng-4.0:hd:16:9"]
)
def test_a_suffix_that_is_neither_ratio_nor_size_is_400_on_model(model: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_model(model)
    assert caught.value.param == "model"


# -- Markdown and the completion ------------------------------------------------------------------------


def test_markdown_has_one_image_line_per_image_in_order() -> None:
    lines = markdown(image_result()).split("\n")
    assert lines == [f"![image_{k + 1}]({url})" for k, url in enumerate(IMAGE_URLS)]


def test_markdown_of_a_video_is_one_link() -> None:
    assert markdown(video_result()) == f"[video]({VIDEO_URL})"


def test_completion_is_an_openai_chat_completion_with_the_history_id() -> None:
    text = markdown(image_result())
    tokens = {"prompt_tokens": 3, "completion_tokens": 90, "total_tokens": 93}
    body = completion(
        text, completion_id="chatcmpl-abc", model="jimeng-4.0:16:9", created=1759132801, usage=tokens,
        history_id="4721606420748",
    )  # fmt: skip
    assert body == {
        "id": "chatcmpl-abc",
        "object": "chat.completion",
        "created": 1759132801,
        "model": "jimeng-4.0:16:9",
        "history_id": "4721606420748",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": tokens,
    }


def test_a_completion_without_a_generation_has_no_history_id() -> None:
    body = completion("Hello!", completion_id="c", model="jimeng-4.0", created=1, usage=usage([], "Hello!"))
    assert "history_id" not in body
    assert body["choices"][0]["message"]["content"] == "Hello!"


@pytest.mark.parametrize(
    ("text", "tokens"),
    [("", 0), ("a cat", 2), ("a red fox in snow", 5), ("一只猫", 3), ("一只 cat", 2 + 1), ("ｆｏｘ", 3)],
)
def test_approximate_tokens_count_cjk_characters_one_each_and_other_text_by_four(text: str, tokens: int) -> None:
    assert approximate_tokens(text) == tokens


def test_usage_counts_every_message_and_the_answer() -> None:
    messages = [
        {"role": "system", "content": "You draw."},  # 3
        {"role": "user", "content": [{"type": "text", "text": "a cat"}, {"type": "image_url", "image_url": "x"}]},
        {"role": "user", "content": "一只猫"},  # 3
    ]
    assert usage(messages, "![image_1](https://x/1.png)") == {
        "prompt_tokens": 3 + 2 + 3,
        "completion_tokens": 7,
        "total_tokens": 15,
    }


def test_the_usage_chunk_has_no_choices() -> None:
    chunk = ChunkHeader("chatcmpl-1", 5, "jimeng-4.0").usage_chunk({"prompt_tokens": 1}, history_id="9")
    assert chunk == {
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 5, "model": "jimeng-4.0", "choices": [],
        "usage": {"prompt_tokens": 1}, "history_id": "9",
    }  # fmt: skip


# -- chunks -----------------------------------------------------------------------------------------------


def test_every_chunk_repeats_id_created_and_model() -> None:
    header = ChunkHeader("chatcmpl-1", 1759132800, "jimeng-4.0")
    chunks = [
        header.chunk({"role": "assistant", "content": ""}),
        header.chunk({"content": "Generating…\n"}, history_id="123"),
        header.chunk({}, finish_reason="stop", history_id="123"),
    ]
    for chunk in chunks:
        assert (chunk["id"], chunk["object"], chunk["created"], chunk["model"]) == (
            "chatcmpl-1",
            "chat.completion.chunk",
            1759132800,
            "jimeng-4.0",
        )
        assert len(chunk["choices"]) == 1
        assert chunk["choices"][0]["index"] == 0
    assert [c["choices"][0]["delta"] for c in chunks] == [
        {"role": "assistant", "content": ""},
        {"content": "Generating…\n"},
        {},
    ]
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, None, "stop"]


def test_a_chunk_carries_the_history_id_only_once_it_is_known() -> None:
    header = ChunkHeader("chatcmpl-1", 1, "jimeng-4.0")
    assert "history_id" not in header.chunk({"role": "assistant", "content": ""})
    assert "history_id" not in header.chunk({"content": "x"}, history_id=None)
    assert header.chunk({"content": "x"}, history_id="4721606420748")["history_id"] == "4721606420748"


# -- the generation a chat asks for ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chat_model", "prompt", "expected"),
    [
        (ChatModel(None), ChatPrompt("a cat"), ImageRequest(prompt="a cat")),
        (
            ChatModel("jimeng-4.0", ratio="16:9"),
            ChatPrompt("a cat"),
            ImageRequest(prompt="a cat", model="jimeng-4.0", ratio="16:9"),
        ),
        (
            ChatModel("jimeng-4.0", size="1792x1024"),
            ChatPrompt("a cat"),
            ImageRequest(prompt="a cat", model="jimeng-4.0", size="1792x1024"),
        ),
        (
            ChatModel("jimeng-3.1"),
            ChatPrompt("blend", (ImageUrl("https://x/a.png"), ImageUrl("https://x/b.png"))),
            ImageRequest(
                prompt="blend", model="jimeng-3.1", images=(ImageUrl("https://x/a.png"), ImageUrl("https://x/b.png"))
            ),
        ),
    ],
)
def test_an_image_model_asks_for_images_or_a_composition(
    chat_model: ChatModel, prompt: ChatPrompt, expected: ImageRequest
) -> None:
    assert chat_request(chat_model, prompt, GenerationKind.IMAGE) == replace(
        expected, prompt_param="messages", images_param="messages", ratio_param="model", size_param="model"
    )


@pytest.mark.parametrize(
    ("chat_model", "prompt", "expected"),
    [
        (
            ChatModel("jimeng-video-3.0"),
            ChatPrompt("a wave"),
            VideoRequest(prompt="a wave", model="jimeng-video-3.0"),
        ),
        (
            ChatModel("jimeng-video-3.0", ratio="9:16"),
            ChatPrompt("a wave", (ImageUrl("https://x/first.png"),)),
            VideoRequest(
                prompt="a wave", model="jimeng-video-3.0", ratio="9:16", frames=(ImageUrl("https://x/first.png"),)
            ),
        ),
        (
            ChatModel("jimeng-video-3.0-pro", size="1080x1920"),
            ChatPrompt("a wave", (ImageUrl("https://x/first.png"), ImageUrl("https://x/last.png"))),
            VideoRequest(
                prompt="a wave",
                model="jimeng-video-3.0-pro",
                frames=(ImageUrl("https://x/first.png"), ImageUrl("https://x/last.png")),
                size=(1080, 1920),
            ),
        ),
    ],
)
def test_a_video_model_asks_for_a_video_with_frames(
    chat_model: ChatModel, prompt: ChatPrompt, expected: VideoRequest
) -> None:
    assert chat_request(chat_model, prompt, GenerationKind.VIDEO) == replace(
        expected, prompt_param="messages", frames_param="messages", ratio_param="model"
    )


@pytest.mark.parametrize("url", ["http://[", "https://[::1/a.png"])
def test_an_image_url_that_cannot_be_split_is_refused_naming_its_part(url: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_messages([user([{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {"url": url}}])])
    assert caught.value.param == "messages[0].content[1].image_url"
