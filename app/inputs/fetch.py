"""A user's image URL to its bytes (not yet checked to be an image: ``content.checked`` does that).

A user URL is fetched by this server, so it must not become a way into our own network (SSRF): every hop
of a URL (at most 3 redirects) is resolved, each address is checked, and the connection goes to the very
address that was checked (``guard.PinnedAdapter``), with the original name kept for ``Host``, SNI and the
certificate check. The residual risks: a proxy set in the environment is not used (we connect directly);
on requests < 2.32 the pinning hook does not exist and the connection resolves the name again (a DNS
rebinding window between check and connect). Bytes are read by ``app.http.exchange`` with a size cap and a
total time budget over all hops.
"""

from __future__ import annotations

import time
from urllib.parse import urljoin, urlsplit

import requests

from app.domain.errors import ImageTooLargeError, InvalidRequestError
from app.domain.models import InputImage
from app.http import BodyTooLargeError, DeadlinePassedError, Reply, WireError, exchange, succeeded
from app.inputs.guard import FetchError, PinnedAdapter, resolve

MAX_REDIRECTS = 3
TOTAL_SECONDS = 60.0  # a server that drips bytes just under the read timeout still ends here
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
    except BodyTooLargeError as err:
        raise ImageTooLargeError(f"{param} ({display_url(url)}) is larger than {max_bytes} bytes", param=param) from err
    return InputImage(data, "url")


def _fetch(
    url: str, http: requests.Session, max_bytes: int, allow_private: bool, timeout: tuple[float, float]
) -> bytes:
    deadline = time.monotonic() + TOTAL_SECONDS
    for _ in range(MAX_REDIRECTS + 1):
        reply = _hop(url, http, allow_private, timeout, max_bytes, deadline)
        location = reply.headers.get("Location")
        if reply.status in _REDIRECTS and location:
            try:
                url = urljoin(url, location)
            except ValueError as err:  # an unbalanced IPv6 bracket
                raise FetchError("redirected to a URL that is not valid") from err
            continue
        if not succeeded(reply.status):
            raise FetchError(f"HTTP {reply.status}")
        return reply.body
    raise FetchError(f"too many redirects (more than {MAX_REDIRECTS})")


def _hop(
    url: str, http: requests.Session, allow_private: bool, timeout: tuple[float, float], max_bytes: int, deadline: float
) -> Reply:
    """One hop: check the URL, resolve and guard its host, GET from the pinned address; only a 2xx body is read.

    Only the session's default headers are used: its adapters would resolve the name again, and its
    ``prepare_request`` could add ~/.netrc credentials for a host the user chose.
    """
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as err:  # an unbalanced IPv6 bracket
        raise FetchError("the URL is not valid") from err
    if parts.scheme not in ("http", "https") or not hostname:
        raise FetchError("only http and https URLs can be fetched")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as err:
        raise FetchError("the URL has an invalid port") from err
    address = resolve(hostname, port, allow_private=allow_private)
    try:
        prepared = requests.Request("GET", url, headers={**http.headers, "Accept": "image/*"}).prepare()
    except (requests.exceptions.RequestException, ValueError) as err:  # InvalidURL, a bad IDNA label ...
        raise FetchError("the URL is not valid") from err
    prepared.headers["Host"] = parts.netloc.rpartition("@")[2]
    adapter = PinnedAdapter(address)
    try:
        return exchange(
            adapter.send, prepared, timeout=timeout, verify=True, proxies={},
            max_bytes=max_bytes, deadline=deadline, read_when=succeeded,
        )  # fmt: skip
    except WireError as err:
        raise FetchError(err.reason) from err
    except DeadlinePassedError as err:
        raise FetchError(f"timed out (more than {TOTAL_SECONDS:g}s in total)") from err
    finally:
        adapter.close()


def display_url(url: str) -> str:
    """The URL for an error message: no user info, no query when long, at most 120 characters."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL urllib can split: its scheme only (the rest may hold user info)
        return url.partition(":")[0][:10] + "://..."
    netloc = parts.netloc.rpartition("@")[2]
    shown = f"{parts.scheme}://{netloc}{parts.path}"
    if parts.query and len(url) <= 100 and "@" not in parts.netloc:
        shown += f"?{parts.query}"
    return shown if len(shown) <= 120 else shown[:117] + "..."
