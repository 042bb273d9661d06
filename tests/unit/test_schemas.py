"""Request shapes: JSON numbers and booleans are strict (no strings, no fractions, no 1 for true); multipart
form fields, text by nature, are read from their text."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import Schema, ValidationError

from app.api.schemas import (
    ChatCompletionSchema,
    ImageCompositionFormSchema,
    ImageCompositionSchema,
    ImageGenerationSchema,
    VideoGenerationSchema,
)

IMAGES = {"images": ["https://example.com/a.png"]}


@pytest.mark.parametrize(
    ("schema", "body", "field"),
    [
        (ImageGenerationSchema(), {"n": 2.5}, "n"),
        (ImageGenerationSchema(), {"n": 2.0}, "n"),
        (ImageGenerationSchema(), {"n": "4"}, "n"),
        (ImageGenerationSchema(), {"n": True}, "n"),
        (ImageGenerationSchema(), {"n": float("inf")}, "n"),
        (ImageGenerationSchema(), {"n": float("nan")}, "n"),
        (ImageGenerationSchema(), {"seed": 1.5}, "seed"),
        (ImageGenerationSchema(), {"seed": "7"}, "seed"),
        (ImageGenerationSchema(), {"async": "yes"}, "async"),
        (ImageGenerationSchema(), {"async": "true"}, "async"),
        (ImageGenerationSchema(), {"async": 1}, "async"),
        (ImageGenerationSchema(), {"sample_strength": "0.5"}, "sample_strength"),
        (ImageGenerationSchema(), {"sample_strength": True}, "sample_strength"),
        (ImageGenerationSchema(), {"sample_strength": float("inf")}, "sample_strength"),
        (ImageGenerationSchema(), {"sample_strength": float("nan")}, "sample_strength"),
        (ImageGenerationSchema(), {"sample_strength": 10**400}, "sample_strength"),
        (ImageCompositionSchema(), {**IMAGES, "n": "2"}, "n"),
        (VideoGenerationSchema(), {"duration": 5.0}, "duration"),
        (VideoGenerationSchema(), {"duration": "5"}, "duration"),
        (VideoGenerationSchema(), {"width": "1280", "height": 720}, "width"),
        (VideoGenerationSchema(), {"async": 0}, "async"),
        (ChatCompletionSchema(), {"messages": [{"role": "user", "content": "x"}], "stream": "true"}, "stream"),
        (ImageGenerationSchema(), {"stream": "true"}, "stream"),
        (ImageCompositionSchema(), {**IMAGES, "stream": 1}, "stream"),
        (ImageGenerationSchema(), {"partial_images": "2"}, "partial_images"),
        (ImageGenerationSchema(), {"partial_images": 1.0}, "partial_images"),
        (
            ChatCompletionSchema(),
            {"messages": [{"role": "user", "content": "x"}], "stream_options": "yes"},
            "stream_options",
        ),
        (
            ChatCompletionSchema(),
            {"messages": [{"role": "user", "content": "x"}], "stream_options": {"include_usage": 1}},
            "stream_options",
        ),
    ],
)
def test_json_numbers_and_booleans_are_strict(schema: Schema, body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        schema.load({"prompt": "cat", **body})
    assert field in caught.value.normalized_messages()


def test_json_integers_floats_and_booleans_load() -> None:
    request = ImageGenerationSchema().load({"prompt": "cat", "n": 2, "seed": 0, "sample_strength": 1, "async": True})
    assert (request.n, request.seed, request.sample_strength, request.run_async) == (2, 0, 1.0, True)
    assert (request.stream, request.partial_images) == (False, None)


@pytest.mark.parametrize("schema", [ImageGenerationSchema(), ImageCompositionSchema()])
def test_image_streaming_parameters_load(schema: Schema) -> None:
    request = schema.load({"prompt": "cat", **IMAGES, "stream": True, "partial_images": 2})
    assert (request.stream, request.partial_images) == (True, 2)


@pytest.mark.parametrize(("text", "stream"), [("true", True), ("false", False), ("1", True), (" True ", True)])
def test_multipart_stream_and_partial_images_are_read_from_their_text(text: str, stream: bool) -> None:
    request = ImageCompositionFormSchema().load({"prompt": "cat", **IMAGES, "stream": text, "partial_images": "1"})
    assert (request.stream, request.partial_images) == (stream, 1)


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"n": "2", "async": "true", "seed": " 5 ", "sample_strength": ".5"}, (2, 5, 0.5, True)),
        ({"n": "1", "async": "false", "seed": "0", "sample_strength": "1"}, (1, 0, 1.0, False)),
        ({"async": "0"}, (None, None, 0.5, False)),
    ],
)
def test_multipart_fields_are_read_from_their_text(form: dict[str, str], expected: tuple[Any, ...]) -> None:
    request = ImageCompositionFormSchema().load({"prompt": "cat", **IMAGES, **form})
    assert (request.n, request.seed, request.sample_strength, request.run_async) == expected


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"n": "2.5"}, "n"),
        ({"n": "two"}, "n"),
        ({"n": "1" * 13}, "n"),
        ({"seed": "1e3"}, "seed"),
        ({"sample_strength": "nan"}, "sample_strength"),
        ({"sample_strength": "inf"}, "sample_strength"),
        ({"sample_strength": "."}, "sample_strength"),
        ({"async": "maybe"}, "async"),
        ({"stream": "sure"}, "stream"),
        ({"partial_images": "one"}, "partial_images"),
    ],
)
def test_multipart_text_that_is_no_number_or_boolean_is_refused(form: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ImageCompositionFormSchema().load({"prompt": "cat", **IMAGES, **form})
    assert field in caught.value.normalized_messages()
