"""A request's images: every source form, in input order, checked before (and after) any fetch."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from app.domain.errors import ImageTooLargeError, InvalidRequestError
from app.domain.sources import DataUri, ImageUrl, Upload, parse_image_source
from app.inputs import loader
from tests.images import PNG, PNG_B64, image_bytes
from tests.local_http import answer

MAX = 10_000
TIMEOUT = (2.0, 2.0)


def _load(items: list[Any], param: str = "images") -> tuple[Any, ...]:
    """Items as a request carries them (parsed like the schemas do), then loaded."""
    sources = [
        Upload(*item) if isinstance(item, tuple) else parse_image_source(item, param=f"{param}[{index}]")
        for index, item in enumerate(items)
    ]
    with requests.Session() as http:
        return loader.load_images(sources, http=http, max_bytes=MAX, allow_private=True, timeout=TIMEOUT, param=param)


def test_every_form_of_image_loads_in_input_order(server: Any) -> None:
    base, routes, _, _ = server
    gif, jpeg = image_bytes("GIF"), image_bytes("JPEG")
    routes.update({"/a.gif": answer(200, gif), "/b.jpg": answer(200, jpeg)})
    items = [
        f"{base}/a.gif",
        f"data:image/png;base64,{PNG_B64}",
        {"url": f"{base}/b.jpg"},
        ("c.bmp", image_bytes("BMP")),
    ]
    images = _load(items)
    assert [(i.source, i.mime) for i in images] == [
        ("url", "image/gif"), ("data_uri", "image/png"), ("url", "image/jpeg"), ("upload", "image/bmp"),
    ]  # fmt: skip
    assert (images[0].data, images[2].data) == (gif, jpeg)


@pytest.mark.parametrize(
    ("item", "code"),
    [
        (42, "invalid_value"),
        (None, "invalid_value"),
        ({"url": 5}, "invalid_value"),
        ({"href": "http://x"}, "invalid_value"),
        ("", "invalid_value"),
        ("ftp://example.com/a.png", "invalid_value"),
        ("/etc/passwd", "invalid_value"),
        ("data:text/plain;base64,aGVsbG8=", "unsupported_image"),
        ("data:image/png;base64,aGVsbG8=", "unsupported_image"),
        (("notes.txt", b"hello"), "unsupported_image"),
    ],
)
def test_a_bad_item_is_refused_with_its_index_before_any_fetch(server: Any, item: Any, code: str) -> None:
    base, routes, seen, _ = server
    routes["/a.png"] = answer(200, PNG)
    with pytest.raises(InvalidRequestError) as caught:
        _load([f"{base}/a.png", f"{base}/a.png", item], param="image")
    assert (caught.value.code, caught.value.param) == (code, "image[2]")
    assert seen == []


def test_a_fetched_non_image_is_refused_by_content(server: Any) -> None:
    base, routes, _, _ = server
    routes.update({"/a.png": answer(200, PNG), "/page.png": answer(200, b"<html>not an image</html>")})
    with pytest.raises(InvalidRequestError) as caught:
        _load([f"{base}/a.png", f"{base}/page.png"])
    assert (caught.value.code, caught.value.param) == ("unsupported_image", "images[1]")


def test_an_oversized_multipart_file_is_a_413() -> None:
    with pytest.raises(ImageTooLargeError) as caught:
        _load([("big.png", PNG + b"\0" * MAX)])
    assert caught.value.param == "images[0]"


def test_the_image_fetcher_binds_the_limits_for_the_service() -> None:
    with requests.Session() as http:
        fetcher = loader.ImageFetcher(http, max_bytes=MAX, allow_private=False, timeout=TIMEOUT)
        (image,) = fetcher.load([DataUri(f"data:image/png;base64,{PNG_B64}")], param="frames")
        with pytest.raises(InvalidRequestError) as caught:
            fetcher.load([ImageUrl("http://127.0.0.1:9/a.png")], param="frames")
    assert (image.mime, caught.value.param, caught.value.code) == ("image/png", "frames[0]", "image_fetch_failed")
