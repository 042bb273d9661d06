"""Result images re-encoded as asked (app/imaging.py) and formats read from result URLs."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.domain.generation import url_format
from app.imaging import ImageEncodeError, PillowEncoder, format_of


def image(fmt: str, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (40, 30), (200, 30, 90, 128)[: len(mode)]).save(buffer, fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("source", ["PNG", "JPEG", "WEBP"])
@pytest.mark.parametrize("target", ["png", "jpeg", "webp"])
def test_every_format_converts_to_every_other(source: str, target: str) -> None:
    out = PillowEncoder().encode(image(source), target, None)
    assert format_of(out) == target
    assert Image.open(io.BytesIO(out)).size == (40, 30)


def test_the_same_format_without_compression_is_returned_unchanged() -> None:
    png = image("PNG")
    assert PillowEncoder().encode(png, "png", None) is png
    assert PillowEncoder().encode(png, "png", 50) is png  # png is lossless: compression does not apply


def test_compression_sets_jpeg_quality() -> None:
    jpeg = image("JPEG")
    assert len(PillowEncoder().encode(jpeg, "jpeg", 5)) < len(PillowEncoder().encode(jpeg, "jpeg", 100))


def test_transparency_is_flattened_for_jpeg() -> None:
    out = PillowEncoder().encode(image("PNG", "RGBA"), "jpeg", None)
    assert Image.open(io.BytesIO(out)).mode == "RGB"


def test_bytes_that_are_no_image_raise_the_encoders_error() -> None:
    with pytest.raises(ImageEncodeError):
        PillowEncoder().encode(b"<html>not an image</html>", "jpeg", None)
    assert issubclass(ImageEncodeError, ValueError)  # what the domain catches


@pytest.mark.parametrize(
    ("url", "fmt"),
    [
        (
            "https://p3-dreamina-sign.byteimg.com/tos-cn-i-x/abc~tplv-tb4s082cfz-aigc_resize:0:0.webp?x-expires=1",
            "webp",
        ),
        ("https://host/a/b.JPG", "jpeg"),
        ("https://host/a/b.jpeg#frag", "jpeg"),
        ("http://127.0.0.1:5000/media/123/1.png", "png"),
        ("https://host/a/b", None),
        ("https://host/a.b/c?x=1.png", None),
        ("https://host/video.mp4", None),
    ],
)
def test_a_result_urls_format_is_its_file_names_extension(url: str, fmt: str | None) -> None:
    assert url_format(url) == fmt
