"""/token/check, /token/points, /token/receive: session tools whose answers never echo a session id."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from marshmallow import Schema, fields, validate

from app.api import context
from app.api.auth import is_cookie_safe, session_pool
from app.api.body import read_json_body
from app.api.openapi import documented
from app.domain.accounts import AccountAnswer, AccountService
from app.errors import describe
from app.logging import register_secret
from app.secrets import mask

bp = Blueprint("tokens", __name__)


class TokenCheckSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=4096))


class TokenCheckResultSchema(Schema):
    live = fields.Boolean(required=True)


def accounts() -> AccountService:
    return current_app.extensions["accounts"]


@bp.post("/token/check")
@documented(
    summary="Is a Jimeng session logged in", request=TokenCheckSchema, response=TokenCheckResultSchema,
    errors=("400", "415"),
)  # fmt: skip
def check_token() -> Response:
    if context.settings().api_key_mode:  # the server's own sessions are not an oracle for strangers
        session_pool(request, context.settings())
    token = TokenCheckSchema().load(read_json_body(request))["token"].strip()
    if not is_cookie_safe(token):  # never sent anywhere; a value after ``sessionid=`` is masked by its place
        return jsonify(live=False)
    register_secret(token)  # sent to Jimeng: masked while among the registry's most recent (bounded)
    return jsonify(live=accounts().is_live(token))


@bp.post("/token/points")
@documented(summary="Credits per session (masked)", response="application/json", auth=True, errors=("401",))
def token_points() -> Response:
    return jsonify([_points(answer) for answer in accounts().points(context.sessions())])


@bp.post("/token/receive")
@documented(summary="Claim daily credits per session (masked)", response="application/json", auth=True, errors=("401",))
def receive_credits() -> Response:
    return jsonify([_claim(answer) for answer in accounts().receive(context.sessions())])


def _points(answer: AccountAnswer) -> dict[str, Any]:
    entry: dict[str, Any] = {"token": mask(answer.session_id)}
    if answer.credits is not None:
        c = answer.credits
        entry["points"] = {
            "giftCredit": c.gift,
            "purchaseCredit": c.purchase,
            "vipCredit": c.vip,
            "totalCredit": c.total,
        }
    return _with_error(entry, answer)


def _claim(answer: AccountAnswer) -> dict[str, Any]:
    entry: dict[str, Any] = {"token": mask(answer.session_id)}
    if answer.claim is not None:
        entry |= {"received": answer.claim.received, "totalCredit": answer.claim.total}
    return _with_error(entry, answer)


def _with_error(entry: dict[str, Any], answer: AccountAnswer) -> dict[str, Any]:
    if answer.error is not None:
        entry["error"] = describe(answer.error)[1]["error"]
    return entry
