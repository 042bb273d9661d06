"""Preparing a post edit (upscale, outpaint): the one step the other generations do not have.

Every rule is the planner's (``Planner.plan`` -> ``post_edit_rules``), checked first, before anything is
fetched or asked. Then the input becomes something Jimeng can take:

- a URL, data URI or file is fetched and checked by the image loader (its size read from its header) and
  uploaded to ImageX by ``GenerationService.start`` as any input image;
- an earlier result, ``{"history_id", "index"}``, is looked up with ``get_history_by_ids`` (free: it spends
  nothing, as the tasks endpoint's look-up) on each session of the pool until one knows it. Unknown on every
  session, not finished, failed, a video, or an index past its images: a 400 before any paid call. The draft
  then names the result's item and record (no re-upload), and is submitted on the session that owns it.

An outpaint's padding for a target ratio is computed from the source's size once it is known, and the request
is planned again with it, so the plan re-checked before the submit is the same.
"""

from __future__ import annotations

from dataclasses import replace

from app.domain.errors import InvalidRequestError, JimengError, SessionExpiredError
from app.domain.generation import GenerationService
from app.domain.jobs import Prepared
from app.domain.models import InputImage, Phase, PostEditRequest, PostEditTool
from app.domain.post_edit_rules import tool_of
from app.domain.sources import ResultRef


class PostEdits:
    def __init__(self, service: GenerationService, *, max_lookups: int = 10) -> None:
        self.service = service
        self.max_lookups = max_lookups  # sessions asked for an earlier result, whatever the size of the pool

    def prepare(self, request: PostEditRequest, sessions: list[str]) -> tuple[Prepared, list[str]]:
        """The request checked, its input in hand, and the sessions it may be submitted on (the owner of an
        earlier result only). Nothing is spent."""
        planner = self.service.planner
        catalog = planner.catalogs.cached(sessions[0])
        plan = planner.plan(request, catalog=catalog)  # every rule first: a bad request asks nothing
        usable: list[str] = sessions
        inputs: tuple[InputImage, ...] = ()
        if isinstance(request.image, ResultRef):
            session_id, ref = self._resolve(sessions, request.image, request.image_param)
            size = (ref.width, ref.height) if ref.width and ref.height else None
            request, usable = replace(request, image=ref, source_size=size), [session_id]
            catalog = planner.catalogs.cached(session_id)
        else:
            inputs = self.service.loader.load(plan.sources, param=plan.sources_param)
            first = inputs[0]
            size = (first.width, first.height) if first.width and first.height else None
            request = replace(request, source_size=size)
        if tool_of(request) is PostEditTool.PAINTING and request.source_size is None and request.padding is None:
            raise InvalidRequestError(
                f"the size of {request.image_param} is not known, so no padding for ratio {request.ratio} can be "
                "computed: send padding instead",
                param="ratio",
            )
        plan = planner.plan(request, catalog=catalog)
        return Prepared(request=request, plan=plan, inputs=inputs, catalog=catalog), usable

    def _resolve(self, sessions: list[str], ref: ResultRef, param: str) -> tuple[str, ResultRef]:
        """The session whose account has generation ``ref.history_id``, and ``ref`` with its item's id and size."""
        expired: JimengError | None = None
        for session_id in sessions[: self.max_lookups]:
            try:
                snapshot = self.service.backend.lookup(session_id, ref.history_id)
            except SessionExpiredError as err:
                expired = err
                continue
            if snapshot is None:
                continue
            where = f"{param}.history_id"
            if snapshot.phase is not Phase.SUCCEEDED:
                state = "failed" if snapshot.phase is Phase.FAILED else "has not finished yet"
                raise InvalidRequestError(f"{where}: generation {ref.history_id} {state}", param=where)
            if snapshot.video_url or not snapshot.item_ids:
                raise InvalidRequestError(f"{where}: generation {ref.history_id} has no images to edit", param=where)
            count = len(snapshot.item_ids)
            if ref.index >= count:
                raise InvalidRequestError(
                    f"{param}.index: generation {ref.history_id} has {count} image(s) (index 0 to {count - 1}); "
                    f"got {ref.index}",
                    param=f"{param}.index",
                )
            sizes = snapshot.image_sizes
            width, height = sizes[ref.index] if ref.index < len(sizes) else (0, 0)
            return session_id, replace(ref, item_id=snapshot.item_ids[ref.index], width=width, height=height)
        if expired is not None and len(sessions) == 1:
            raise expired
        raise InvalidRequestError(
            f"{param}.history_id: no generation {ref.history_id} on this account", param=f"{param}.history_id"
        )
