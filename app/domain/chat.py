"""Chat completions over generations: reading messages and model suffixes, building completion shapes.

The prompt is the text of the last user message; its ``image_url`` parts become composition inputs (image
model) or first/last frames (video model). ``jimeng-4.0:16:9`` and ``jimeng-4.0:1792x1024`` pick the ratio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.domain.errors import InvalidRequestError
from app.domain.models import (
    GenerationKind,
    GenerationRequest,
    GenerationResult,
    ImageRequest,
    Phase,
    Snapshot,
    VideoRequest,
)
from app.domain.sizes import parse_size
from app.domain.sources import ImageSource, parse_image_source
from app.domain.text import shown

_RATIO = re.compile(r"[0-9]{1,2}:[0-9]{1,2}")
_SIZE = re.compile(r"[0-9]{2,5}\s*[xX×]\s*[0-9]{2,5}")
CHUNK_OBJECT = "chat.completion.chunk"


@dataclass(frozen=True)
class ChatPrompt:
    """The prompt (``param``: the message it came from) and the text of every message (``total_chars``),
    which the planner bounds as a whole."""

    text: str
    images: tuple[ImageSource, ...] = ()
    param: str = "messages"
    total_chars: int = 0


@dataclass(frozen=True)
class ChatModel:
    model_id: str | None
    ratio: str | None = None
    size: str | None = None


def parse_messages(messages: list[dict[str, Any]]) -> ChatPrompt:
    """The last user message as prompt text and image URLs; 400 when there is none or it is empty. Limits
    (the prompt's length and characters, the total of every message's text) are the planner's."""
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        raise InvalidRequestError("messages must contain a user message (the prompt)", param="messages")
    index = len(messages) - 1 - messages[::-1].index(users[-1])
    param = f"messages[{index}].content"
    texts, images = _read_content(users[-1].get("content"), param)
    text = "\n".join(t.strip() for t in texts if t.strip())
    if not text:
        raise InvalidRequestError("the last user message has no text to use as the prompt", param=param)
    return ChatPrompt(text, tuple(images), param, sum(_text_chars(m) for m in messages))


def _text_chars(message: Any) -> int:
    """Characters of a message's text: a string content, or its text parts (other shapes carry none)."""
    return len(_text_of(message))


def _read_content(content: Any, param: str) -> tuple[list[str], list[ImageSource]]:
    if isinstance(content, str):
        return [content], []
    if not isinstance(content, list):
        raise InvalidRequestError("content must be a string or a list of parts", param=param)
    texts: list[str] = []
    images: list[ImageSource] = []
    for number, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url":
            images.append(_image_url(part.get("image_url"), f"{param}[{number}]"))
        else:
            raise InvalidRequestError("each part must be {type: text} or {type: image_url}", param=f"{param}[{number}]")
    return texts, images


def _image_url(value: Any, param: str) -> ImageSource:
    url = value.get("url") if isinstance(value, dict) else value
    if not isinstance(url, str) or not url.strip():
        raise InvalidRequestError("image_url needs a url", param=param)
    return parse_image_source(url, param=f"{param}.image_url")


def parse_model(model: str | None) -> ChatModel:
    """``name[:ratio|:WxH]``; a suffix that is neither is an error, not silently dropped."""
    if not model:
        return ChatModel(None)
    name, _, suffix = model.partition(":")
    suffix = suffix.strip()
    if not suffix:
        return ChatModel(name.strip())
    if _RATIO.fullmatch(suffix):
        return ChatModel(name.strip(), ratio=suffix)
    if _SIZE.fullmatch(suffix):
        return ChatModel(name.strip(), size=re.sub(r"\s", "", suffix).lower().replace("×", "x"))
    raise InvalidRequestError(
        f"model suffix {shown(suffix)} is neither a ratio (16:9) nor a size (1792x1024)", param="model"
    )


def markdown(result: GenerationResult) -> str:
    """One ``![image_k](url)`` line per image, or a ``[video](url)`` link."""
    if result.kind is GenerationKind.VIDEO:
        return "\n".join(f"[video]({url})" for url in result.urls)
    return "\n".join(f"![image_{k}]({url})" for k, url in enumerate(result.urls, start=1))


def completion(
    text: str, *, completion_id: str, model: str, created: int, usage: dict[str, int], history_id: str | None = None
) -> dict[str, Any]:
    """A ``chat.completion`` answering ``text`` (with the history id of the generation it shows, if any)."""
    body: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
    }
    if history_id is not None:
        body["history_id"] = history_id
    body["choices"] = [
        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop", "logprobs": None}
    ]
    body["usage"] = usage
    return body


_WIDE = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def approximate_tokens(text: str) -> int:
    """Roughly what a tokenizer of a chat model would count: one token per CJK character (and full-width
    form), one per four other characters. Generations are billed in Jimeng credits, never in tokens: this
    only gives ``usage`` figures that grow with the text, for clients that show or budget them."""
    wide = len(_WIDE.findall(text))
    return wide + -(-(len(text) - wide) // 4)


def usage(messages: list[dict[str, Any]], answer: str) -> dict[str, int]:
    """``usage`` of a completion: the approximate tokens of every message's text, and of the text answered."""
    prompt = sum(approximate_tokens(_text_of(m)) for m in messages)
    completion_tokens = approximate_tokens(answer)
    return {"prompt_tokens": prompt, "completion_tokens": completion_tokens, "total_tokens": prompt + completion_tokens}


def _text_of(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


@dataclass(frozen=True)
class ChunkHeader:
    """What every chunk of one stream repeats: same id, created, model (and history id once known)."""

    completion_id: str
    created: int
    model: str

    def chunk(
        self, delta: dict[str, Any], *, finish_reason: str | None = None, history_id: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.completion_id,
            "object": CHUNK_OBJECT,
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
        }
        if history_id:
            body["history_id"] = history_id
        return body

    def usage_chunk(self, usage: dict[str, int], *, history_id: str | None = None) -> dict[str, Any]:
        """The last chunk of a stream asked for ``stream_options.include_usage``: no choices, the usage."""
        body: dict[str, Any] = {
            "id": self.completion_id,
            "object": CHUNK_OBJECT,
            "created": self.created,
            "model": self.model,
            "choices": [],
            "usage": usage,
        }
        if history_id:
            body["history_id"] = history_id
        return body


def progress_line(kind: GenerationKind, snapshot: Snapshot, now: float) -> str:
    """A short status line for a progress chunk: Jimeng's queue place and forecast when it gave them."""
    eta = snapshot.eta_seconds(now)
    if snapshot.phase is Phase.QUEUED:
        place = snapshot.queue_place
        where = f": {place} of {snapshot.queue_length}" if place is not None and snapshot.queue_length else ""
        about = f", about {round(eta)} s" if eta is not None else ""
        return f"Queued at Jimeng{where}{about}…\n"
    left = f", about {round(eta)} s left" if eta is not None else ""
    if kind is GenerationKind.VIDEO:
        return f"Generating the video{left}…\n"
    if snapshot.total and snapshot.finished:
        return f"{snapshot.finished} of {snapshot.total} images ready{left}…\n"
    return f"Generating{left}…\n"


def chat_request(chat_model: ChatModel, prompt: ChatPrompt, kind: GenerationKind) -> GenerationRequest:
    """The generation a chat asks for: images (a composition when it carries images) or a video. Errors name
    where the caller put each thing: the prompt's message, ``messages`` for the images, ``model`` for the
    ratio and size of a model suffix."""
    if kind is GenerationKind.VIDEO:
        return VideoRequest(
            prompt=prompt.text, model=chat_model.model_id, ratio=chat_model.ratio, frames=prompt.images,
            size=_video_size(chat_model.size), messages_chars=prompt.total_chars, prompt_param=prompt.param,
            frames_param="messages", ratio_param="model",
        )  # fmt: skip
    return ImageRequest(
        prompt=prompt.text, model=chat_model.model_id, ratio=chat_model.ratio, size=chat_model.size,
        images=prompt.images, messages_chars=prompt.total_chars, prompt_param=prompt.param, images_param="messages",
        ratio_param="model", size_param="model",
    )  # fmt: skip


def _video_size(size: str | None) -> tuple[int, int] | None:
    if size is None:
        return None
    try:
        return parse_size(size)
    except ValueError as err:
        raise InvalidRequestError(f"model suffix: {err}", param="model") from err
