"""A user's image URL to its bytes (not yet checked to be an image: ``content.checked`` does that).

A user URL is fetched by this server, so it must not become a way into our own network (SSRF): every hop
of a URL (at most 3 redirects) is resolved, each address is checked, and the connection goes to the very
address that was checked (``guard.PinnedAdapter``), with the original name kept for ``Host``, SNI and the
certificate check. The residual risks: a proxy set in the environment is not used (we connect directly);
on requests < 2.32 the pinning hook does not exist and the connection resolves the name again (a DNS
rebinding window between check and connect). Bytes are read with a size cap and a total time budget.
"""

from __future__ import annotations

import time
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from app.domain.errors import ImageTooLargeError, InvalidRequestError
from app.domain.models import InputImage
from app.inputs.guard import FetchError, PinnedAdapter, resolve

MAX_REDIRECTS = 3
TOTAL_SECONDS = 60.0  # a server that drips bytes just under the read timeout still ends here
CHUNK = 64 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)


def fetch_image_url(
    url: str,
    *,
    http: requests.Session,
    max_bytes: int,
    allow_private: bool,
    timeout: tuple[float, float],
    param: str,
) -> InputImage:
    """GET a user's http(s) URL behind the address guard, following at most 3 redirects by hand."""
    try:
        data = _fetch(url, http, max_bytes, allow_private, timeout)
    except FetchError as err:
        message = f"Could not fetch {param} ({display_url(url)}): {err}"
        raise InvalidRequestError(message, code="image_fetch_failed", param=param) from err
    except ImageTooLargeError as err:
        raise ImageTooLargeError(f"{param} ({display_url(url)}) is larger than {max_bytes} bytes", param=param) from err
    return InputImage(data, "url")


def _fetch(
    url: str, http: requests.Session, max_bytes: int, allow_private: bool, timeout: tuple[float, float]
) -> bytes:
    deadline = time.monotonic() + TOTAL_SECONDS
    for _ in range(MAX_REDIRECTS + 1):
        adapter, response = _get(url, http, allow_private, timeout)
        try:
            with response:
                location = response.headers.get("Location")
                if response.status_code in _REDIRECTS and location:
                    url = urljoin(url, location)
                    continue
                if not 200 <= response.status_code < 300:
                    raise FetchError(f"HTTP {response.status_code}")
                return _read_capped(response, max_bytes, deadline)
        finally:
            adapter.close()
    raise FetchError(f"too many redirects (more than {MAX_REDIRECTS})")


def _get(
    url: str, http: requests.Session, allow_private: bool, timeout: tuple[float, float]
) -> tuple[HTTPAdapter, requests.Response]:
    """One hop: check the URL, resolve and guard its host, send to the pinned address (streamed).

    Only the session's default headers are used: its adapters would resolve the name again, and its
    ``prepare_request`` could add ~/.netrc credentials for a host the user chose.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("only http and https URLs can be fetched")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as err:
        raise FetchError("the URL has an invalid port") from err
    address = resolve(parts.hostname, port, allow_private=allow_private)
    prepared = requests.Request("GET", url, headers={**http.headers, "Accept": "image/*"}).prepare()
    prepared.headers["Host"] = parts.netloc.rpartition("@")[2]
    adapter = PinnedAdapter(address)
    try:
        return adapter, adapter.send(prepared, stream=True, timeout=timeout, verify=True, proxies={})
    except requests.exceptions.RequestException as err:
        adapter.close()
        raise FetchError(_reason(err)) from err


def _read_capped(response: requests.Response, max_bytes: int, deadline: float) -> bytes:
    """The body, decoded, refused past ``max_bytes`` or past the deadline.

    ``read1`` returns whatever has arrived, so a server dripping one byte per read timeout still meets the
    deadline; ``iter_content`` would block until a whole chunk is in (urllib3 < 2.3 has no ``read1``).
    """
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise ImageTooLargeError(f"larger than {max_bytes} bytes")
    read1 = getattr(response.raw, "read1", None)
    pieces = iter(lambda: read1(CHUNK, decode_content=True), b"") if read1 else response.iter_content(CHUNK)
    chunks, size = [], 0
    try:
        for chunk in pieces:
            size += len(chunk)
            if size > max_bytes:
                raise ImageTooLargeError(f"larger than {max_bytes} bytes")
            if time.monotonic() > deadline:
                raise FetchError(f"timed out (more than {TOTAL_SECONDS:g}s in total)")
            chunks.append(chunk)
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as err:
        raise FetchError(_reason(err)) from err
    return b"".join(chunks)


def _reason(err: Exception) -> str:
    """A short reason without the URL (which may carry credentials) or library internals."""
    if isinstance(err, requests.exceptions.Timeout) or "timed out" in str(err).lower():
        return "timed out"
    if isinstance(err, requests.exceptions.SSLError):
        return "TLS handshake or certificate check failed"
    if isinstance(err, requests.exceptions.ConnectionError | urllib3.exceptions.ProtocolError):
        return "connection failed"
    return type(err).__name__


def display_url(url: str) -> str:
    """The URL for an error message: no user info, no query when long, at most 120 characters."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    shown = f"{parts.scheme}://{netloc}{parts.path}"
    if parts.query and len(url) <= 100 and "@" not in parts.netloc:
        shown += f"?{parts.query}"
    return shown if len(shown) <= 120 else shown[:117] + "..."
