"""/v1/tasks/<id>: one upstream look-up of any earlier generation of the caller's account (stateless), or a task
of the service's own (an async request that waited for a slot: ``task_<hex>``, from the shared store)."""

from __future__ import annotations

import re
import time

from flask import Blueprint, Response, jsonify

from app.api import context
from app.api.openapi import documented
from app.api.schemas import TaskSchema
from app.domain.errors import NotFoundError
from app.domain.models import Phase
from app.domain.openai_shapes import task_object
from app.errors import describe

bp = Blueprint("tasks", __name__)
TASK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")  # history ids are digits; submit ids UUIDs; task_<hex>


@bp.get("/v1/tasks/<task_id>")
@documented(
    summary="State and result of a generation", response=TaskSchema, auth=True, errors=("401", "404", "429", "502")
)
def retrieve_task(task_id: str) -> Response:
    if not TASK_ID.match(task_id):
        raise NotFoundError(f"No generation {task_id!r}: task ids are Jimeng history ids")
    view = context.tasks().view(context.sessions(), task_id, scope=context.caller())
    snapshot = view.snapshot
    if snapshot.phase is Phase.FAILED and isinstance(snapshot.error, NotFoundError):
        raise snapshot.error  # deleted from the account: gone, like an unknown id
    error = describe(snapshot.error)[1]["error"] if snapshot.error is not None else None
    return jsonify(task_object(view, error, now=time.time()))
