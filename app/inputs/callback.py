"""Calling a user's ``callback_url`` (webhooks): the same address guard as input image URLs, and the POST
goes to exactly the address that was checked (``guard.PinnedAdapter``: no DNS rebinding between the check and
the call). Redirects are not followed: a delivery answered 3xx failed and is tried again later."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from app.inputs.guard import FetchError, PinnedAdapter, resolve


class GuardedCallbacks:
    """``CallbackSender`` of ``app/domain/webhooks.py``."""

    def __init__(self, *, allow_private: bool, timeout: float) -> None:
        self._allow_private = allow_private
        self._timeout = timeout

    def _address(self, url: str) -> tuple[str, str]:
        """(checked address, Host header) of ``url``; ValueError with the reason when it may not be called."""
        try:
            parts = urlsplit(url)
            hostname = parts.hostname
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as err:
            raise ValueError("the URL is not valid") from err
        if parts.scheme not in ("http", "https") or not hostname:
            raise ValueError("only http and https URLs can be called")
        if parts.username is not None or parts.password is not None:
            raise ValueError("the URL may not carry credentials")
        try:
            return resolve(hostname, port, allow_private=self._allow_private), parts.netloc
        except FetchError as err:
            raise ValueError(str(err)) from None

    def check(self, url: str) -> None:
        self._address(url)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        address, host = self._address(url)
        try:
            prepared = requests.Request("POST", url, data=body, headers=headers).prepare()
        except (requests.exceptions.RequestException, ValueError) as err:
            raise ValueError("the URL is not valid") from err
        prepared.headers["Host"] = host
        adapter = PinnedAdapter(address)
        try:
            response = adapter.send(prepared, timeout=self._timeout, verify=True, proxies={})
            status = int(response.status_code)
            response.close()
            return status
        except requests.exceptions.RequestException as err:
            raise OSError(type(err).__name__) from None
        finally:
            adapter.close()
