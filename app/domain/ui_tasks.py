"""Chat UIs' own background requests, recognised by their templates and answered without a generation.

Chat UIs send requests of their own to the model the user picked: Open WebUI asks for a title, tags and
follow-up questions after each answer (and for search queries, an image prompt or an autocompletion when those
features are on), NextChat for a topic and a summary of the history, LobeChat's "check" button sends "hello".
Sent to an image model, each would become a paid generation of the template's text. They are recognised here by
the texts those projects send by default, and answered with a short text in the format each UI parses:

- Open WebUI (``backend/open_webui/config.py``, ``DEFAULT_*_GENERATION_PROMPT_TEMPLATE``): one user message that
  starts with ``### Task:`` and holds ``<chat_history>…</chat_history>``; its template part (before the history)
  names exactly one JSON key of the answer (``{ "title": … }``, ``"tags"``, ``"follow_ups"``, ``"queries"``,
  ``"prompt"``, ``"text"``). Answers are that JSON object: the title from the first words of the first user
  line of the history, empty lists, an empty completion, the last user line as the image prompt. A template
  an admin replaced is not recognised.
- NextChat (``app/locales/*.ts``, ``Store.Prompt.Topic`` and ``Store.Prompt.Summarize``): the topic request ends
  with a user message that is exactly the locale's Topic text, the summary request with a system message that
  is exactly its Summarize text. Answers: the first words of the first user message; the user prompts so far.
- LobeChat's connection check (``settings/provider/features/ProviderConfig/Checker.tsx``): a single user message
  ``hello`` (older versions: ``你好``). Answer: a greeting.

Recognition is conservative: whole template texts and structures, never a word. A prompt that mentions a
title, tags or "hello" among other words is a prompt like any other.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any


class UiTask(StrEnum):
    TITLE = "title"  # Open WebUI
    TAGS = "tags"  # Open WebUI
    FOLLOW_UPS = "follow_ups"  # Open WebUI
    QUERIES = "queries"  # Open WebUI: web search and retrieval queries
    IMAGE_PROMPT = "image_prompt"  # Open WebUI: the prompt of its own image generation
    AUTOCOMPLETE = "autocomplete"  # Open WebUI
    TOPIC = "topic"  # NextChat
    SUMMARY = "summary"  # NextChat
    CONNECTION_CHECK = "connection_check"  # LobeChat


# The JSON key each Open WebUI template asks for, in its template part (before the chat history).
_OPEN_WEBUI_KEYS = {
    "title": UiTask.TITLE,
    "tags": UiTask.TAGS,
    "follow_ups": UiTask.FOLLOW_UPS,
    "queries": UiTask.QUERIES,
    "prompt": UiTask.IMAGE_PROMPT,
    "text": UiTask.AUTOCOMPLETE,
}
_JSON_KEY = re.compile(r'\{\s*"(' + "|".join(_OPEN_WEBUI_KEYS) + r')"\s*:')
_HISTORY = re.compile(r"<chat_history>\n?(.*?)\n?</chat_history>", re.DOTALL)
_HISTORY_LINE = re.compile(r"^(USER|ASSISTANT|SYSTEM):\s?", re.MULTILINE)

# NextChat's Store.Prompt.Topic of each locale (app/locales/*.ts; locales without one use English).
NEXTCHAT_TOPICS = frozenset(
    {
        "Please generate a four to five word title summarizing our conversation without any lead-in, punctuation, "
        "quotation marks, periods, symbols, bold text, or additional text. Remove enclosing quotation marks.",
        "使用四到五个字直接返回这句话的简要主题，不要解释、不要标点、不要语气词、不要多余文本，不要加粗，"
        "如果没有主题，请直接返回“闲聊”",
        "Use the language used by the user (e.g. en for english conversation, zh-hant for chinese conversation, "
        "etc.) to generate a title (at most 6 words) summarizing our conversation without any lead-in, quotation "
        "marks, preamble like 'Title:', direct text copies, single-word replies, quotation marks, translations, or "
        "brackets. Remove enclosing quotation marks. The title should make third-party grasp the essence of the "
        "conversation in first sight.",
        "この文の簡潔なテーマを四から五文字で返してください。説明、句読点、感嘆詞、余計なテキストは不要です。"
        "太字も不要です。テーマがない場合は「雑談」と返してください",
        "네 글자에서 다섯 글자로 이 문장의 간략한 주제를 반환하세요. 설명이나 문장 부호, 어미, 불필요한 텍스트, "
        "굵은 글씨는 필요 없습니다. 주제가 없다면 '잡담'이라고만 반환하세요.",
        "Geben Sie ein kurzes Thema in vier bis fünf Wörtern zurück, ohne Erklärungen, ohne Satzzeichen, ohne "
        "Füllwörter, ohne zusätzliche Texte und ohne Fettdruck. Wenn kein Thema vorhanden ist, geben Sie bitte "
        "„Allgemeines Gespräch“ zurück.",
        "Utilisez quatre à cinq mots pour retourner le sujet succinct de cette phrase, sans explication, sans "
        "ponctuation, sans interjections, sans texte superflu, sans gras. Si aucun sujet, retournez simplement "
        "« discussion informelle »",
        "Devuelve un tema breve de esta frase en cuatro a cinco palabras, sin explicación, sin puntuación, sin "
        "muletillas, sin texto adicional, sin negritas. Si no hay tema, devuelve 'charlas casuales'",
        "Укажите краткую тему этого сообщения в четырех-пяти словах, без объяснений, знаков препинания, "
        "междометий, лишнего текста или выделения. Если темы нет, просто напишите 'Болтовня'",
        "Por favor, gere um título de quatro a cinco palavras resumindo nossa conversa sem qualquer introdução, "
        "pontuação, aspas, períodos, símbolos ou texto adicional. Remova as aspas que o envolvem.",
    }
)

# NextChat's Store.Prompt.Summarize of the same locales.
NEXTCHAT_SUMMARIES = frozenset(
    {
        "Summarize the discussion briefly in 200 words or less to use as a prompt for future context.",
        "简要总结一下对话内容，用作后续的上下文提示 prompt，控制在 200 字以内",
        "Use the language used by the user (e.g. en-us for english conversation, zh-hant for chinese conversation, "
        "etc.) to summarise the conversation in at most 200 words. The summary will be used as prompt for you to "
        "continue the conversation in the future.",
        "対話の内容を簡潔に要約し、後続のコンテキストプロンプトとして使用します。200文字以内に抑えてください",
        "대화 내용을 간략히 요약하여 후속 컨텍스트 프롬프트로 사용하세요. 200자 이내로 작성하세요.",
        "Fassen Sie den Gesprächsinhalt zusammen, um als Kontextaufforderung für den nächsten Schritt zu dienen, "
        "halten Sie es unter 200 Zeichen",
        "Faites un résumé succinct de la discussion, à utiliser comme prompt de contexte ultérieur, en moins de "
        "200 mots",
        "Resume brevemente el contenido de la conversación para usar como un prompt de contexto, manteniéndolo "
        "dentro de 200 palabras",
        "Кратко подведите итоги содержимого беседы для использования в качестве последующего контекстного запроса, "
        "не более 200 слов",
        "Resuma a discussão brevemente em 200 palavras ou menos para usar como um prompt para o contexto futuro.",
    }
)

# LobeChat's connection check (older versions sent 你好).
CONNECTION_CHECKS = frozenset({"hello", "你好"})

GREETING = "Hello! This is jimeng-api: send a prompt to generate images, or pick a video model for a video."
DEFAULT_TITLE = "Image generation"
TITLE_WORDS = 5
TITLE_CHARS = 40
SUMMARY_CHARS = 1000


def recognise(messages: list[dict[str, Any]]) -> UiTask | None:
    """The chat UI task these messages are, or None for anything else (a prompt to generate)."""
    if not messages or not all(isinstance(m, dict) for m in messages):
        return None
    last = messages[-1]
    text = _text(last)
    if text is None:
        return None
    if last.get("role") == "system":
        return UiTask.SUMMARY if text.strip() in NEXTCHAT_SUMMARIES else None
    if last.get("role") != "user":
        return None
    if text.strip() in NEXTCHAT_TOPICS:
        return UiTask.TOPIC
    if [m for m in messages if m.get("role") != "system"] != [last]:
        return None  # Open WebUI's tasks and LobeChat's check are one user message
    if text.strip() in CONNECTION_CHECKS:
        return UiTask.CONNECTION_CHECK
    return _open_webui_task(text)


def _open_webui_task(text: str) -> UiTask | None:
    if not text.lstrip().startswith("### Task:"):
        return None
    template, marker, _ = text.partition("<chat_history>")
    if not marker or "</chat_history>" not in text:
        return None
    keys = set(_JSON_KEY.findall(template))
    if len(keys) != 1:
        return None
    return _OPEN_WEBUI_KEYS[keys.pop()]


def answer(task: UiTask, messages: list[dict[str, Any]]) -> str:
    """The text a UI expects for ``task`` (as its own templates ask for it), made from the messages only."""
    if task is UiTask.CONNECTION_CHECK:
        return GREETING
    if task is UiTask.TOPIC:
        return _title(_user_texts(messages[:-1])) or DEFAULT_TITLE
    if task is UiTask.SUMMARY:
        prompts = "; ".join(t.strip() for t in _user_texts(messages[:-1]) if t.strip())
        return f"Image prompts so far: {prompts[:SUMMARY_CHARS]}" if prompts else "No image prompts yet."
    history = _history_lines(_text(messages[-1]) or "")
    users = [line for role, line in history if role == "USER"]
    if task is UiTask.TITLE:
        return _json({"title": _title(users) or DEFAULT_TITLE})
    if task is UiTask.IMAGE_PROMPT:
        return _json({"prompt": users[-1] if users else ""})
    if task is UiTask.AUTOCOMPLETE:
        return _json({"text": ""})
    return _json({task.value: []})  # tags, follow_ups, queries: none


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False)


def _text(message: dict[str, Any]) -> str | None:
    """A message's text: a string content, or its text parts joined; None for other shapes."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return "\n".join(parts) if parts else None
    return None


def _user_texts(messages: list[dict[str, Any]]) -> list[str]:
    return [t for m in messages if m.get("role") == "user" and (t := _text(m))]


def _history_lines(text: str) -> list[tuple[str, str]]:
    """Open WebUI's ``ROLE: content`` lines of the chat history (a message may span several lines)."""
    match = _HISTORY.search(text)
    if match is None:
        return []
    history = match[1]
    starts = list(_HISTORY_LINE.finditer(history))
    lines = []
    for k, start in enumerate(starts):
        end = starts[k + 1].start() if k + 1 < len(starts) else len(history)
        lines.append((start[1], history[start.end() : end].strip()))
    return lines


def _title(texts: list[str]) -> str:
    """The first words of the first text: at most TITLE_WORDS words and TITLE_CHARS characters, without
    markdown, quotes or trailing punctuation."""
    for text in texts:
        words = re.sub(r"[\"'\[\]()<>“”‘’「」]", " ", re.sub(r"[`*_#]", "", text)).split()
        title = " ".join(words[:TITLE_WORDS])[:TITLE_CHARS].strip(" .,;:!?。，；：！？")
        if title:
            return title
    return ""
