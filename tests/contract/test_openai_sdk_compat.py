"""What the official openai SDK sends by default works: ``size="auto"``, OpenAI's model names, ``base_url``
without ``/v1``, ``models.retrieve`` of a chat model id, ``output_format``; ``mask`` is refused before any
upstream call; a 429's ``Retry-After`` reaches the SDK."""

from __future__ import annotations

import base64
import io

import openai
import pytest
from openai import OpenAI
from PIL import Image

from tests.e2e.conftest import Api
from tests.images import PNG, PNG_B64


def sdk(api: Api, *, base: str = "/v1") -> OpenAI:
    return OpenAI(base_url=f"{api.url}{base}", api_key=api.token, max_retries=0, timeout=30)


def decoded(b64: str | None) -> Image.Image:
    assert b64 is not None
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def test_size_auto_is_the_models_default_size(api: Api) -> None:
    result = sdk(api).images.generate(model="jimeng-5.0", prompt="a cat", size="auto", n=1, response_format="b64_json")
    assert result.data is not None and len(result.data) == 1
    width, height = decoded(result.data[0].b64_json).size
    assert width == height  # the default ratio, 1:1 (the emulator's files are small)
    history_id = (result.model_extra or {})["history_id"]
    assert api.generations()[history_id]["resolution"] == "2k"  # the model's default tier


def test_openai_image_model_names_are_aliases_of_the_default_image_model(api: Api) -> None:
    client = sdk(api)
    for name in ("dall-e-3", "dall-e-2", "gpt-image-1"):
        result = client.images.generate(model=name, prompt="a cat", n=1)
        assert result.data is not None and result.data[0].url
        assert api.generations()[(result.model_extra or {})["history_id"]]["model"] == "high_aes_general_v50"
    assert client.models.retrieve("dall-e-3").id == "dall-e-3"


def test_models_retrieve_accepts_every_id_the_api_accepts(api: Api) -> None:
    client = sdk(api)
    for asked, root in (("jimeng-4.0:16:9", "jimeng-4.0"), ("jimeng-4.0:1024x1024", "jimeng-4.0"),
                        ("jimeng-5.0-lite", "jimeng-5.0"), ("gpt-image-1", "jimeng-5.0")):  # fmt: skip
        model = client.models.retrieve(asked)
        assert (model.id, (model.model_extra or {})["root"]) == (asked, root)
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("jimeng-4.0:7:3")


@pytest.mark.parametrize("base", ["", "/", "/v1/"])
def test_a_base_url_without_v1_or_with_a_trailing_slash_works(api: Api, base: str) -> None:
    client = sdk(api, base=base)
    assert "jimeng-5.0" in [model.id for model in client.models.list()]
    assert client.models.retrieve("jimeng-4.0").id == "jimeng-4.0"
    image = client.images.generate(model="jimeng-4.0", prompt="a cat", n=1)
    assert image.data is not None and image.data[0].url
    chat = client.chat.completions.create(model="jimeng-4.0", messages=[{"role": "user", "content": "a cat"}])
    assert "![image_1](" in (chat.choices[0].message.content or "")


def test_a_mask_is_refused_before_any_upstream_call(api: Api) -> None:
    client = sdk(api)
    png, uri = PNG, f"data:image/png;base64,{PNG_B64}"
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(model="jimeng-4.0", image=("a.png", png), mask=("m.png", png), prompt="a hat")
    body = caught.value.body
    assert isinstance(body, dict) and (body["code"], body["param"]) == ("unsupported_parameter", "mask")
    as_json = api.post("/v1/images/edits", {"prompt": "a hat", "images": [uri], "mask": uri})
    assert (as_json.status_code, as_json.json()["error"]["param"]) == (400, "mask")
    called = api.stats().get("requests", {}).get("by_path", {})
    assert not [path for path in called if "upload" in path.lower() or "generate" in path]  # nothing sent


def test_output_format_re_encodes_b64_json_images_and_the_answer_tells_format_and_size(api: Api) -> None:
    client = sdk(api)
    jpeg = client.images.generate(
        model="jimeng-5.0", prompt="a cat", n=2, response_format="b64_json", output_format="jpeg",
        output_compression=70,
    )  # fmt: skip
    assert jpeg.data is not None and len(jpeg.data) == 2
    assert all(decoded(item.b64_json).format == "JPEG" for item in jpeg.data)
    assert (jpeg.output_format, jpeg.size, jpeg.background) == ("jpeg", "2048x2048", "opaque")
    webp = client.images.edit(
        model="jimeng-4.0", image=("a.png", PNG), prompt="a hat", n=1, response_format="b64_json",
        output_format="webp", size="1792x1024",
    )  # fmt: skip
    assert webp.data is not None and decoded(webp.data[0].b64_json).format == "WEBP"
    assert (webp.output_format, webp.size) == ("webp", "2560x1440")
    as_made = client.images.generate(model="jimeng-4.0", prompt="a cat", n=1, response_format="b64_json")
    assert as_made.data is not None and decoded(as_made.data[0].b64_json).format == "PNG"
    assert as_made.output_format == "png"  # the downloaded file's own format
    linked = client.images.generate(model="jimeng-4.0", prompt="a cat", n=1, output_format="jpeg")
    assert linked.output_format == "png"  # a URL's file is Jimeng's: its real format is told, not converted
    with pytest.raises(openai.BadRequestError):
        client.images.generate(prompt="a cat", response_format="b64_json", output_format="gif")  # type: ignore[arg-type]


def test_a_429_reaches_the_sdk_as_rate_limit_error_with_retry_after(api: Api) -> None:
    api.emulator.configure(faults={"generate": {"http_429": 1.0}})
    with pytest.raises(openai.RateLimitError) as caught:
        sdk(api).images.generate(model="dall-e-3", prompt="a cat")
    headers = caught.value.response.headers
    assert int(headers["retry-after"]) >= 1
    assert headers.get("x-should-retry") != "false"  # nothing was submitted: retrying later is safe
