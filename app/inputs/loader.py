"""A request's image sources (URLs, data URIs, uploads) to checked ``InputImage`` bytes, in input order.

This is the domain's ``ImageLoader``: sources in hand are checked before any URL is fetched, so a bad data URI
costs no network call; URLs are then fetched concurrently, a few at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from app.domain.errors import ImageTooLargeError
from app.domain.models import InputImage
from app.domain.sources import DataUri, ImageSource, ImageUrl, Upload
from app.inputs.content import checked, decode_data_uri
from app.inputs.fetch import fetch_image_url

FETCH_WORKERS = 5


@dataclass(frozen=True)
class ImageFetcher:
    """``app.domain.backend.ImageLoader`` with the service's limits bound once (from Settings)."""

    http: requests.Session
    max_bytes: int
    allow_private: bool
    timeout: tuple[float, float]

    def load(self, sources: Sequence[ImageSource], *, param: str) -> tuple[InputImage, ...]:
        return load_images(
            sources, http=self.http, max_bytes=self.max_bytes, allow_private=self.allow_private,
            timeout=self.timeout, param=param,
        )  # fmt: skip


def load_images(
    sources: Sequence[ImageSource],
    *,
    http: requests.Session,
    max_bytes: int,
    allow_private: bool,
    timeout: tuple[float, float],
    param: str = "images",
) -> tuple[InputImage, ...]:
    """Every source (URL, data URI or upload) as a checked image, named ``param[i]`` in errors.

    Sources in hand are checked first, so a bad one is refused before any URL is fetched; then the URLs are
    fetched concurrently, and the first failing one in input order decides the error.
    """
    names = [f"{param}[{index}]" for index in range(len(sources))]
    in_hand = {name: _in_hand(source, name, max_bytes) for source, name in zip(sources, names, strict=True)}
    urls = [(source.url, name) for source, name in zip(sources, names, strict=True) if isinstance(source, ImageUrl)]

    def fetch(url: str, name: str) -> InputImage:
        image = fetch_image_url(
            url, http=http, max_bytes=max_bytes, allow_private=allow_private, timeout=timeout, param=name
        )
        return checked(image, name)

    with ThreadPoolExecutor(max_workers=min(FETCH_WORKERS, len(urls)) or 1, thread_name_prefix="fetch") as pool:
        futures = {name: pool.submit(fetch, url, name) for url, name in urls}
        return tuple(in_hand[name] or futures[name].result() for name in names)


def _in_hand(source: ImageSource, name: str, max_bytes: int) -> InputImage | None:
    """A source whose bytes are here (data URI, upload) as a checked image; None for a URL to fetch."""
    if isinstance(source, Upload):
        if len(source.data) > max_bytes:
            raise ImageTooLargeError(f"{name} is larger than {max_bytes} bytes", param=name)
        return checked(InputImage(source.data, "upload"), name)
    if isinstance(source, DataUri):
        return checked(decode_data_uri(source.uri, max_bytes=max_bytes, param=name), name)
    return None
