"""What the official openai SDK sends by default works: ``size="auto"``, OpenAI's model names, ``base_url``
without ``/v1``, ``models.retrieve`` of a chat model id, ``output_format``; ``mask`` is refused before any
upstream call; a 429's ``Retry-After`` reaches the SDK."""

from __future__ import annotations

import base64
import io

from openai import OpenAI
from PIL import Image

from tests.e2e.conftest import Api


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
