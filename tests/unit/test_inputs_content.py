"""Input image content: data URIs decoded, formats judged by what the bytes are."""

from __future__ import annotations

import base64

import pytest

from app.domain.errors import ImageTooLargeError, InvalidRequestError
from app.errors import describe_exception
from app.inputs import content
from tests.images import PNG, PNG_B64, image_bytes

MAX = 10_000


# -- data URIs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        f"data:image/png;base64,{PNG_B64}",
        f"DATA:IMAGE/PNG;BASE64,{PNG_B64}",
        f"  data:image/png;base64,{PNG_B64[:20]}\n{PNG_B64[20:40]} \r\n\t{PNG_B64[40:]}  ",
        f"data:image/png;base64,{PNG_B64.rstrip('=')}",
        f"data:image/jpeg;name=x.png;base64,{PNG_B64}",
    ],
)
def test_a_base64_image_data_uri_decodes_to_its_bytes(uri: str) -> None:
    image = content.decode_data_uri(uri, max_bytes=MAX, param="images[0]")
    assert (image.data, image.source) == (PNG, "data_uri")


@pytest.mark.parametrize(
    "uri",
    [
        "data:image/png,rawbytes",
        f"data:text/plain;base64,{PNG_B64}",
        f"data:;base64,{PNG_B64}",
        "data:image/png;base64,@@@not*base64@@@",
        "data:image/png;base64",
        "image/png;base64,AAAA",
    ],
)
def test_a_malformed_data_uri_is_an_unsupported_image(uri: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        content.decode_data_uri(uri, max_bytes=MAX, param="images[2]")
    assert (caught.value.code, caught.value.param) == ("unsupported_image", "images[2]")


def test_an_oversized_data_uri_is_a_413_naming_the_image() -> None:
    uri = "data:image/png;base64," + base64.b64encode(b"\0" * (MAX + 1)).decode()
    with pytest.raises(ImageTooLargeError) as caught:
        content.decode_data_uri(uri, max_bytes=MAX, param="images[1]")
    status, body = describe_exception(caught.value)
    assert status == 413
    assert (body["error"]["code"], body["error"]["param"]) == ("request_too_large", "images[1]")


# -- sniffing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (image_bytes("PNG"), "image/png"),
        (image_bytes("JPEG"), "image/jpeg"),
        (image_bytes("GIF"), "image/gif"),
        (image_bytes("BMP"), "image/bmp"),
        (image_bytes("WEBP"), "image/webp"),
        (image_bytes("TIFF"), None),
        (image_bytes("PNG")[:40], None),
        (b"hello, I am text", None),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", None),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', None),
        (b"", None),
    ],
)
def test_sniffing_judges_the_format_by_content(data: bytes, mime: str | None) -> None:
    assert content.sniff_image(data) == mime
