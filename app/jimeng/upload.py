"""Input images to ImageX URIs (protocol 9): upload token -> ApplyImageUpload -> binary upload -> Commit.

Every step is safe to repeat, so all of them are retried like reads: Apply only reserves a StoreUri, a
second POST of the same bytes to the same StoreUri replaces them, and a second Commit of the same
SessionKey commits the same file. When ImageX refuses the temporary credentials themselves (expired,
unknown, bad signature), the image is redone once with a fresh token. Nothing here submits a draft.

Messages never carry the AK/SK/ST, the upload ``Auth``, the SessionKey or the session id.
"""

from __future__ import annotations

import json
import random
import string
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from loguru import logger

from app.domain.errors import UpstreamUnavailableError
from app.domain.models import InputImage
from app.domain.tokens import Region
from app.http import Reply, succeeded
from app.jimeng.client import JimengClient, Site
from app.jimeng.sigv4 import amz_date_now, crc32_hex, imagex_headers
from app.jimeng.transport import TransientError, call, with_retries
from app.secrets import mask

T = TypeVar("T")
MAX_WORKERS = 4  # images of one request uploaded at once; under gevent these threads are greenlets
NONCE_ALPHABET = string.digits + string.ascii_lowercase
# ImageX error codes that mean "these temporary credentials are not (or no longer) good": a fresh token may
# fix them, so the image is redone once. Codes containing "Expired" count too. Timestamp and parameter errors
# do not: a new token cannot fix a skewed clock or a bad request.
RENEW_CODES = frozenset((
    "ExpiredToken", "TokenExpired", "InvalidToken", "InvalidSecurityToken", "InvalidAccessKey",
    "InvalidAccessKeyId", "InvalidCredential", "InvalidAuthorization", "SignatureDoesNotMatch",
))  # fmt: skip


@dataclass(frozen=True)
class _Token:
    access_key: str
    secret_key: str
    session_token: str
    service_id: str

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.access_key, self.secret_key, self.session_token)


@dataclass(frozen=True)
class _Address:
    store_uri: str
    auth: str
    host: str
    session_key: str


class _CredentialsRefusedError(Exception):
    """ImageX refused the token itself; ``code`` is the ImageX error code (never a secret)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class ImageUploader:
    """``UploadBackend`` on top of a ``JimengClient``: its token call, pooled session, URLs and timeouts."""

    def __init__(
        self,
        client: JimengClient,
        *,
        workers: int = MAX_WORKERS,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.workers = max(1, workers)
        self._now = now
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._imagex = client.upstream.imagex

    def upload_images(self, session_id: str, images: list[InputImage], *, video: bool) -> list[str]:
        """The ImageX URIs of ``images`` in input order; raises if any image fails."""
        if len(images) <= 1:
            return [self.upload_image(session_id, image, video=video) for image in images]
        with ThreadPoolExecutor(max_workers=min(self.workers, len(images)), thread_name_prefix="upload") as pool:
            futures = [pool.submit(self.upload_image, session_id, image, video=video) for image in images]
            wait(futures, return_when=FIRST_EXCEPTION)
            _raise_first_failure(futures)
            return [future.result() for future in futures]

    def upload_image(self, session_id: str, image: InputImage, *, video: bool) -> str:
        """One image, redone once with a fresh upload token if ImageX refuses the first one. The session's site
        picks the ImageX host, signing region, default space and Origin (2026 9.1, 9.3); its proxy carries
        every step."""
        site = self.client.site(session_id)
        referer = self._imagex.referer_video if video else self._imagex.referer_image
        if site.region is not Region.CN:
            referer = site.constants.web_origin + urlsplit(referer).path
        try:
            uri = self._attempt(session_id, image, referer, site)
        except _CredentialsRefusedError as err:
            logger.info("ImageX refused the upload token of session {} ({}): renewing it", mask(session_id), err.code)
            try:
                uri = self._attempt(session_id, image, referer, site)
            except _CredentialsRefusedError as again:
                raise UpstreamUnavailableError(f"ImageX refused a fresh upload token too ({again.code})") from again
        logger.debug("uploaded a {} input image of {} bytes as {}", image.source, len(image.data), uri)
        return uri

    # -- the four steps ---------------------------------------------------------------------------------

    def _attempt(self, session_id: str, image: InputImage, referer: str, site: Site) -> str:
        token = self._token(session_id, site)
        address = self._retry(lambda: self._apply(token, len(image.data), referer, site))
        self._retry(lambda: self._put(address, image.data, referer, site))
        return self._retry(lambda: self._commit(token, address, referer, site))

    def _token(self, session_id: str, site: Site) -> _Token:
        data = self.client.upload_token(session_id)
        ak, sk, st = (data.get(name) for name in ("access_key_id", "secret_access_key", "session_token"))
        if not (isinstance(ak, str) and isinstance(sk, str) and isinstance(st, str) and ak and sk and st):
            raise UpstreamUnavailableError(
                "Jimeng's upload token lacks access_key_id, secret_access_key or session_token"
            )
        if site.region is Region.CN:
            service_id = data.get("service_id") or self._imagex.default_service_id
        else:  # abroad the space is get_upload_token's space_name (2026 9.3; baseline 14.3)
            service_id = data.get("space_name") or data.get("service_id") or site.constants.imagex_service_id
        return _Token(ak, sk, st, service_id=str(service_id))

    def _apply(self, token: _Token, size: int, referer: str, site: Site) -> _Address:
        nonce = "".join(self._rng.choice(NONCE_ALPHABET) for _ in range(10))
        query = [*self._action("ApplyImageUpload", token), ("FileSize", str(size)), ("s", nonce)]
        if site.region is not Region.CN:
            query.append(("device_platform", "web"))
        result = self._imagex_call("GET", query, b"", token, referer, site)
        upload = result.get("UploadAddress")
        upload = upload if isinstance(upload, dict) else {}
        store = _first(upload.get("StoreInfos"))
        address = _Address(
            store_uri=str(store.get("StoreUri") or ""),
            auth=str(store.get("Auth") or ""),
            host=str(_first_str(upload.get("UploadHosts"))),
            session_key=str(upload.get("SessionKey") or ""),
        )
        if not all((address.store_uri, address.auth, address.session_key)) or not _plain_host(address.host):
            raise UpstreamUnavailableError(
                "ImageX ApplyImageUpload answer lacks StoreUri, Auth, UploadHosts or SessionKey"
            )
        return address

    def _put(self, address: _Address, data: bytes, referer: str, site: Site) -> None:
        headers = {
            "Accept": "*/*",
            "Accept-Language": "zh-CN,zh;q=0.9",
            "Authorization": address.auth,
            "Connection": "keep-alive",
            "Content-CRC32": crc32_hex(data),
            "Content-Disposition": 'attachment; filename="undefined"',
            "Content-Type": "application/octet-stream",
            **self._browser_headers(referer, site, title_case=True),
            "X-Storage-U": self._imagex.storage_user,
        }
        scheme = urlsplit(site.hosts.imagex_url).scheme or "https"
        url = f"{scheme}://{address.host}/upload/v1/{address.store_uri}"
        via = site.transport()
        reply = call(
            self.client.http, "POST", url, data=data, headers=headers, timeout=self.client.config.timeout,
            allow_redirects=False, **{**via, "prefix": "ImageX upload: " + str(via.get("prefix", ""))},
        )  # fmt: skip
        payload = _json_or_none(reply.body)
        code = payload.get("code") if isinstance(payload, dict) else None
        if reply.status in (401, 403):
            raise _CredentialsRefusedError(f"upload HTTP {reply.status}")
        if not succeeded(reply.status) or code not in (None, 2000):
            detail = f"HTTP {reply.status}" + (f", code {code}" if code is not None else "")
            raise UpstreamUnavailableError(f"ImageX upload host refused the image ({detail})")

    def _commit(self, token: _Token, address: _Address, referer: str, site: Site) -> str:
        body = json.dumps({"SessionKey": address.session_key, "SuccessActionStatus": "200"}, separators=(",", ":"))
        action = self._action("CommitImageUpload", token)
        result = self._imagex_call("POST", action, body.encode(), token, referer, site)
        results = _first(result.get("Results"))
        if results.get("UriStatus") != 2000:
            raise UpstreamUnavailableError(f"ImageX CommitImageUpload answered UriStatus {results.get('UriStatus')!r}")
        uri = _first(result.get("PluginResult")).get("ImageUri") or results.get("Uri")
        if not isinstance(uri, str) or not uri:
            raise UpstreamUnavailableError("ImageX CommitImageUpload answer has no image URI")
        return uri

    # -- plumbing ---------------------------------------------------------------------------------------

    def _action(self, action: str, token: _Token) -> list[tuple[str, str]]:
        return [("Action", action), ("Version", self._imagex.version), ("ServiceId", token.service_id)]

    def _imagex_call(
        self, method: str, query: list[tuple[str, str]], body: bytes, token: _Token, referer: str, site: Site
    ) -> dict[str, Any]:
        """One signed OpenAPI call -> its ``Result``; a fresh ``x-amz-date`` for every call and retry. The
        credential scope's region is the site's (cn-north-1, us-east-1, ap-southeast-1)."""
        region = self._imagex.region if site.region is Region.CN else site.constants.imagex_region
        signed = imagex_headers(
            method, query, body, access_key=token.access_key, secret_key=token.secret_key,
            session_token=token.session_token, amz_date=amz_date_now(self._now()),
            region=region, service=self._imagex.service,
        )  # fmt: skip
        headers = {
            "accept": "*/*", "accept-language": "zh-CN,zh;q=0.9", **self._browser_headers(referer, site), **signed,
        }  # fmt: skip
        if body:
            headers["content-type"] = "application/json"
        action = query[0][1]
        via = site.transport()
        reply = call(
            self.client.http, method, site.hosts.imagex_url.rstrip("/") + "/", params=query, data=body or None,
            headers=headers, timeout=self.client.config.timeout, allow_redirects=False,
            **{**via, "prefix": f"ImageX {action}: " + str(via.get("prefix", ""))},
        )  # fmt: skip
        return _imagex_result(action, reply, secrets=token.secrets)

    def _browser_headers(self, referer: str, site: Site, *, title_case: bool = False) -> dict[str, str]:
        headers = {
            "origin": site.constants.web_origin,
            "referer": referer,
            "sec-fetch-dest": "empty",
            "sec-fetch-mode": "cors",
            "sec-fetch-site": "cross-site",
            "user-agent": self._imagex.user_agent,
        }
        if title_case:
            return {"-".join(part.capitalize() for part in name.split("-")): value for name, value in headers.items()}
        client_hints = {"sec-ch-ua": self._imagex.sec_ch_ua, "sec-ch-ua-mobile": "?0"}
        return {**headers, **client_hints, "sec-ch-ua-platform": '"Windows"'}

    def _retry(self, step: Callable[[], T]) -> T:
        return with_retries(step, sleep=self._sleep, rng=self._rng)


def _imagex_result(action: str, reply: Reply, *, secrets: tuple[str, ...]) -> dict[str, Any]:
    """``Result`` of an ImageX OpenAPI answer, or the matching error."""
    payload = _json_or_none(reply.body)
    if not isinstance(payload, dict):
        raise TransientError(f"ImageX {action}: malformed JSON (HTTP {reply.status}, {len(reply.body)} bytes)")
    metadata = payload.get("ResponseMetadata")
    error = metadata.get("Error") if isinstance(metadata, dict) else None
    if error is not None:
        error = error if isinstance(error, dict) else {}
        code = _scrub(str(error.get("Code") or "unknown"), secrets)
        if code in RENEW_CODES or "expired" in code.lower():
            raise _CredentialsRefusedError(code)
        message = _scrub(str(error.get("Message") or ""), secrets)
        raise UpstreamUnavailableError(f"ImageX {action} refused: {code} ({message})")
    if not succeeded(reply.status):
        raise UpstreamUnavailableError(f"ImageX {action} answered HTTP {reply.status}")
    result = payload.get("Result")
    if not isinstance(result, dict):
        raise UpstreamUnavailableError(f"ImageX {action} answer has no Result")
    return result


def _raise_first_failure(futures: list[Future[str]]) -> None:
    """Cancel what has not started and re-raise the failure of the earliest failed image."""
    for future in futures:
        future.cancel()
    for future in futures:
        if future.done() and not future.cancelled() and (err := future.exception()) is not None:
            raise err


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    """An ImageX message may echo a canonical request: mask any credential in it, and keep it short."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text if len(text) <= 200 else text[:197] + "..."


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None


def _first(value: Any) -> dict[str, Any]:
    item = value[0] if isinstance(value, list) and value else None
    return item if isinstance(item, dict) else {}


def _first_str(value: Any) -> str:
    item = value[0] if isinstance(value, list) and value else None
    return item if isinstance(item, str) else ""


def _plain_host(host: str) -> bool:
    """A bare ``host[:port]``: the upload URL is built from it, so no path, userinfo or whitespace."""
    return bool(host) and not any(char in host for char in "/@?#\\ \t\r\n")
