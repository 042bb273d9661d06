"""ImageX (section 9): ApplyImageUpload and CommitImageUpload behind SigV4, and the upload host.

Refusals use the ImageX OpenAPI shape ``{"ResponseMetadata": {..., "Error": {"Code", "Message"}}}`` with
a 4xx status; the upload host answers ``{"code": <non-2000>, "message": ...}`` with a 4xx status.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import secrets
import zlib
from typing import Any

from werkzeug.wrappers import Response

from app.emulator import media, sites, verify
from app.emulator.context import Ctx, json_response
from app.emulator.state import StoreSlot, UploadToken

VERSION = "2018-08-01"
MAX_FILE_SIZE = 50 * 1024 * 1024


class ImagexError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _metadata(ctx: Ctx, action: str) -> dict[str, Any]:
    stamp = datetime.datetime.fromtimestamp(ctx.now, datetime.UTC).strftime("%Y%m%d%H%M%S")
    return {"RequestId": stamp + secrets.token_hex(9), "Action": action, "Version": VERSION,
            "Service": verify.SERVICE, "Region": verify.REGION}  # fmt: skip


def _parse_amz_date(value: str) -> float | None:
    try:
        parsed = datetime.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    except ValueError:
        return None
    return parsed.timestamp()


def _check_header(ctx: Ctx, body: bytes) -> tuple[verify.Authorization, UploadToken]:
    header = ctx.request.headers.get("Authorization", "")
    if not header:
        raise ImagexError(401, "MissingAuthenticationToken", "the Authorization header is missing")
    auth = verify.parse_authorization(header)
    if auth is None:
        raise ImagexError(401, "InvalidAuthorization", "malformed AWS4-HMAC-SHA256 Authorization header")
    region = sites.CLUSTERS[ctx.cluster].imagex_region  # cn-north-1; us-east-1, ap-southeast-1 abroad (9.1)
    if (auth.region, auth.service) != (region, verify.SERVICE):
        raise ImagexError(401, "InvalidAuthorization", f"credential scope must be {region}/imagex")
    expected = verify.POST_SIGNED_HEADERS if ctx.request.method == "POST" and body else verify.GET_SIGNED_HEADERS
    if auth.signed_headers != expected:
        raise ImagexError(401, "InvalidAuthorization", f"SignedHeaders must be {expected}")
    token = ctx.state.tokens.get(auth.access_key)
    if token is None:
        raise ImagexError(401, "InvalidAccessKey", "the access key was not issued by get_upload_token")
    if ctx.now > token.expires:
        raise ImagexError(401, "TokenExpired", "the temporary credentials have expired")
    if ctx.request.headers.get("x-amz-security-token", "") != token.session_token:
        raise ImagexError(401, "InvalidSecurityToken", "x-amz-security-token is not the issued session token")
    return auth, token


def authenticate(ctx: Ctx, body: bytes) -> UploadToken:
    """Verify SigV4 exactly per 9.6 with the credentials get_upload_token issued."""
    auth, token = _check_header(ctx, body)
    headers = {name.lower(): value for name, value in ctx.request.headers.items()}
    amz_date = headers.get("x-amz-date", "")
    stamp = _parse_amz_date(amz_date)
    if stamp is None or amz_date[:8] != auth.date:
        raise ImagexError(401, "InvalidAuthorization", "x-amz-date missing, malformed or not the scope date")
    if abs(stamp - ctx.now) > ctx.config.amz_date_window:
        raise ImagexError(401, "InvalidTimestamp", f"x-amz-date is {stamp - ctx.now:+.0f}s from server time")
    payload_hash = hashlib.sha256(body).hexdigest()
    if body and headers.get("x-amz-content-sha256") != payload_hash:
        raise ImagexError(400, "XAmzContentSHA256Mismatch", "x-amz-content-sha256 does not match the body")
    query = ctx.request.environ.get("QUERY_STRING", "")
    creq = verify.canonical_request(ctx.request.method, "/", query, headers, auth.signed_headers, payload_hash)
    expected = verify.signature(token.secret_key, amz_date, creq, auth.region)
    if not verify.signatures_equal(expected, auth.signature):
        raise ImagexError(403, "SignatureDoesNotMatch", "the request signature we calculated does not match")
    return token


def _apply(ctx: Ctx, token: UploadToken) -> dict[str, Any]:
    size = ctx.request.args.get("FileSize", "")
    if not size.isdigit() or not 0 < int(size) <= MAX_FILE_SIZE:
        raise ImagexError(400, "InvalidParameter", f"FileSize must be 1..{MAX_FILE_SIZE}, got {size!r}")
    slot = ctx.state.open_slot(token, int(size))
    address = {"StoreInfos": [{"StoreUri": slot.store_uri, "Auth": slot.auth}],
               "UploadHosts": [ctx.request.host], "SessionKey": slot.session_key}  # fmt: skip
    return {"UploadAddress": address}


def _commit(ctx: Ctx, token: UploadToken, body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("SessionKey"), str):
        raise ImagexError(400, "InvalidParameter", "body must be a JSON object with a SessionKey string")
    if payload.get("SuccessActionStatus", "200") != "200":
        raise ImagexError(400, "InvalidParameter", 'SuccessActionStatus must be the string "200"')
    slot = ctx.state.slot_by_session_key(payload["SessionKey"])
    if slot is None or slot.access_key != token.access_key:
        raise ImagexError(400, "InvalidSessionKey", "unknown SessionKey for these credentials")
    if slot.uploaded is None:
        raise ImagexError(400, "FileNotUploaded", "nothing was uploaded to this StoreUri")
    ctx.state.commit(slot)
    ctx.stats.total("uploads_committed")
    return _commit_result(slot)


def _commit_result(slot: StoreSlot) -> dict[str, Any]:
    info = slot.uploaded or {}
    plugin = {"FileName": slot.store_uri.rsplit("/", 1)[-1], "SourceUri": slot.store_uri,
              "ImageUri": slot.store_uri, "ImageWidth": info["width"], "ImageHeight": info["height"],
              "ImageMd5": info["md5"], "ImageFormat": info["format"], "ImageSize": info["size"]}  # fmt: skip
    return {"Results": [{"Uri": slot.store_uri, "UriStatus": 2000}], "PluginResult": [plugin]}


def handle(ctx: Ctx) -> Response:
    """``/?Action=ApplyImageUpload`` (GET) and ``/?Action=CommitImageUpload`` (POST)."""
    action = ctx.request.args.get("Action", "")
    body = ctx.request.get_data()
    try:
        method = {"ApplyImageUpload": "GET", "CommitImageUpload": "POST"}.get(action)
        if method is None or ctx.request.args.get("Version") != VERSION:
            raise ImagexError(404, "InvalidActionOrVersion", f"unknown Action {action!r} / Version")
        if ctx.request.method != method:
            raise ImagexError(405, "InvalidHttpMethod", f"{action} expects {method}")
        token = authenticate(ctx, body)
        if ctx.request.args.get("ServiceId") != token.service_id:
            raise ImagexError(400, "InvalidParameter", "ServiceId is not the service of these credentials")
        result = _apply(ctx, token) if action == "ApplyImageUpload" else _commit(ctx, token, body)
    except ImagexError as err:
        ctx.refuse(f"imagex_{err.code}", err.message)
        metadata = {**_metadata(ctx, action), "Error": {"Code": err.code, "Message": err.message}}
        return json_response({"ResponseMetadata": metadata}, err.status)
    return json_response({"ResponseMetadata": _metadata(ctx, action), "Result": result})


def _upload_error(ctx: Ctx, status: int, code: int, message: str, reason: str) -> Response:
    ctx.refuse(f"upload_{reason}", message)
    return json_response({"code": code, "apiversion": "v1", "message": message, "data": {}}, status)


def upload(ctx: Ctx) -> Response:
    """``POST /upload/v1/<StoreUri>``: Auth bound to the StoreUri, CRC32 and length of the body."""
    if ctx.request.method != "POST":
        return _upload_error(ctx, 405, 4005, "upload expects POST", "method")
    slot = ctx.state.slots.get(ctx.request.path.removeprefix("/upload/v1/"))
    if slot is None:
        return _upload_error(ctx, 404, 4004, "unknown StoreUri", "store_uri")
    if ctx.request.headers.get("Authorization", "") != slot.auth:
        return _upload_error(ctx, 401, 4001, "Authorization is not the Auth issued for this StoreUri", "auth")
    body = ctx.request.get_data()
    crc = f"{zlib.crc32(body):08x}"
    if ctx.request.headers.get("Content-CRC32", "") != crc:
        return _upload_error(ctx, 400, 4003, f"Content-CRC32 mismatch (body has {crc})", "crc32")
    if len(body) != slot.file_size:
        message = f"body is {len(body)} bytes, FileSize applied for was {slot.file_size}"
        return _upload_error(ctx, 400, 4002, message, "size")
    fmt, width, height = media.sniff_image(body)
    slot.uploaded = {"format": fmt, "width": width, "height": height, "size": len(body),
                     "md5": hashlib.md5(body).hexdigest()}  # fmt: skip
    return json_response({"code": 2000, "apiversion": "v1", "message": "Success", "data": {"crc32": crc}})
