"""Chat UIs' background requests (app.domain.ui_tasks), with the texts the UIs really send."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.domain.ui_tasks import GREETING, UiTask, answer, recognise
from tests.ui_templates import (
    HISTORY,
    LOBECHAT_CHECK,
    NEXTCHAT_SUMMARIZE,
    NEXTCHAT_TOPIC,
    OPEN_WEBUI_AUTOCOMPLETE,
    OPEN_WEBUI_FOLLOW_UPS,
    OPEN_WEBUI_IMAGE_PROMPT,
    OPEN_WEBUI_QUERIES,
    OPEN_WEBUI_TAGS,
    OPEN_WEBUI_TITLE,
    OPEN_WEBUI_TITLE_V0_6,
    nextchat_summary,
    nextchat_topic,
    open_webui,
)


@pytest.mark.parametrize(
    ("template", "task"),
    [
        (OPEN_WEBUI_TITLE, UiTask.TITLE),
        (OPEN_WEBUI_TITLE_V0_6, UiTask.TITLE),
        (OPEN_WEBUI_TAGS, UiTask.TAGS),
        (OPEN_WEBUI_FOLLOW_UPS, UiTask.FOLLOW_UPS),
        (OPEN_WEBUI_QUERIES, UiTask.QUERIES),
        (OPEN_WEBUI_IMAGE_PROMPT, UiTask.IMAGE_PROMPT),
        (OPEN_WEBUI_AUTOCOMPLETE, UiTask.AUTOCOMPLETE),
    ],
)
def test_open_webui_tasks_are_recognised_by_their_default_templates(template: str, task: UiTask) -> None:
    assert recognise(open_webui(template, HISTORY)) is task


def test_open_webui_answers_are_the_json_each_task_parses() -> None:
    def answered(template: str) -> Any:
        messages = open_webui(template, HISTORY)
        task = recognise(messages)
        assert task is not None
        return json.loads(answer(task, messages))

    assert answered(OPEN_WEBUI_TITLE) == {"title": "A red fox sleeping in"}
    assert answered(OPEN_WEBUI_TITLE_V0_6) == {"title": "A red fox sleeping in"}
    assert answered(OPEN_WEBUI_TAGS) == {"tags": []}
    assert answered(OPEN_WEBUI_FOLLOW_UPS) == {"follow_ups": []}
    assert answered(OPEN_WEBUI_QUERIES) == {"queries": []}
    assert answered(OPEN_WEBUI_IMAGE_PROMPT) == {"prompt": HISTORY[0]["content"]}
    assert answered(OPEN_WEBUI_AUTOCOMPLETE) == {"text": ""}


def test_a_title_of_a_chinese_prompt_or_markdown_is_cut_short_and_plain() -> None:
    messages = open_webui(
        OPEN_WEBUI_TITLE, [{"role": "user", "content": "「一只在雪地里睡觉的红狐狸，水彩画风格，清晨的阳光洒在雪上」"}]
    )
    title = json.loads(answer(UiTask.TITLE, messages))["title"]
    assert title == "一只在雪地里睡觉的红狐狸，水彩画风格，清晨的阳光洒在雪上"[:40].strip("，")
    messages = open_webui(OPEN_WEBUI_TITLE, [{"role": "user", "content": "**Bold** `cat`, please!"}])
    assert json.loads(answer(UiTask.TITLE, messages)) == {"title": "Bold cat, please"}


def test_a_title_without_a_user_line_is_the_default() -> None:
    messages = open_webui(OPEN_WEBUI_TITLE, [])
    assert json.loads(answer(UiTask.TITLE, messages)) == {"title": "Image generation"}


def test_a_multi_line_user_message_in_the_history_stays_one_message() -> None:
    history = [{"role": "user", "content": "first line\nASSISTANT-like text"}, {"role": "assistant", "content": "x"}]
    messages = open_webui(OPEN_WEBUI_IMAGE_PROMPT, history)
    assert json.loads(answer(UiTask.IMAGE_PROMPT, messages)) == {"prompt": "first line\nASSISTANT-like text"}


def test_nextchat_topic_and_summary() -> None:
    topic = nextchat_topic(HISTORY)
    assert recognise(topic) is UiTask.TOPIC
    assert answer(UiTask.TOPIC, topic) == "A red fox sleeping in"
    summary = nextchat_summary(HISTORY)
    assert recognise(summary) is UiTask.SUMMARY
    assert answer(UiTask.SUMMARY, summary) == f"Image prompts so far: {HISTORY[0]['content']}"


def test_nextchat_chinese_prompts_are_recognised_too() -> None:
    topic = "使用四到五个字直接返回这句话的简要主题，不要解释、不要标点、不要语气词、不要多余文本，不要加粗，如果没有主题，请直接返回“闲聊”"
    assert recognise([*HISTORY, {"role": "user", "content": topic}]) is UiTask.TOPIC
    summary = "简要总结一下对话内容，用作后续的上下文提示 prompt，控制在 200 字以内"
    assert recognise([*HISTORY, {"role": "system", "content": summary}]) is UiTask.SUMMARY


def test_lobechat_connection_check() -> None:
    for text in (LOBECHAT_CHECK, "你好"):
        messages = [{"role": "user", "content": text}]
        assert recognise(messages) is UiTask.CONNECTION_CHECK
        assert answer(UiTask.CONNECTION_CHECK, messages) == GREETING
    assert recognise([{"role": "system", "content": "You draw."}, {"role": "user", "content": "hello"}]) is not None


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": "a book cover with the title 'Winter Fox' in gold letters"}],
        [{"role": "user", "content": "hello kitty on a skateboard"}],
        [{"role": "user", "content": "Generate a concise title summarizing the chat history."}],
        [{"role": "user", "content": 'poster, JSON format: { "title": "Fox" }'}],
        [{"role": "user", "content": f"{NEXTCHAT_TOPIC} and a fox"}],
        [*HISTORY, {"role": "user", "content": "hello"}],  # a greeting in a conversation is a prompt
        [{"role": "user", "content": NEXTCHAT_SUMMARIZE}],  # NextChat sends the summary prompt as system
        [{"role": "system", "content": NEXTCHAT_TOPIC}],
        # an Open WebUI template inside a conversation, or one that names two answers, is not a task
        [*HISTORY, *open_webui(OPEN_WEBUI_TITLE, HISTORY)],
        open_webui(OPEN_WEBUI_TITLE.replace("### Output:", 'or { "tags": [] }\n### Output:'), HISTORY),
        open_webui(OPEN_WEBUI_TITLE.replace("</chat_history>", ""), HISTORY),
        [{"role": "user", "content": [{"type": "image_url", "image_url": "https://x/a.png"}]}],
        [{"role": "assistant", "content": "hello"}],
    ],
)
def test_prompts_that_merely_look_like_tasks_still_generate(messages: list[dict[str, Any]]) -> None:
    assert recognise(messages) is None


def test_a_history_that_quotes_another_template_does_not_change_the_task() -> None:
    history = [{"role": "user", "content": 'make JSON format: { "tags": ["x"] } art'}]
    assert recognise(open_webui(OPEN_WEBUI_TITLE, history)) is UiTask.TITLE
