"""GenerationService: plan -> load inputs -> pick a session -> upload -> submit -> follow -> result.

One flow for text-to-image, compositions, videos and chat. ``prepare`` does everything that can be refused
without spending anything (so a stream can refuse it before its first byte); ``start`` spends; ``follow`` is
the one loop that follows a generation for its consumer (a waiting request or a stream). From the moment
Jimeng accepted a draft, every error that leaves this module carries the generation's history id, so a paid
generation is never lost to the client.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, replace
from typing import Any

from loguru import logger

from app.domain import chat
from app.domain.backend import GenerationBackend, ImageLoader, UploadBackend
from app.domain.errors import (
    ClientGoneError,
    GenerationFailedError,
    GenerationTimeoutError,
    JimengError,
    NotFoundError,
    SessionExpiredError,
)
from app.domain.follow import CLIENT_CHECK_SECONDS, Finished, FollowEvent, Gone, Idle, Progress
from app.domain.models import (
    GenerationKind,
    GenerationRequest,
    GenerationResult,
    InputImage,
    ResponseFormat,
    Snapshot,
    Submitted,
)
from app.domain.planning import Plan, Planner
from app.domain.poller import Poller, PollEvent, PollOutcome
from app.domain.pool import SessionPool
from app.secrets import mask

MAX_RESULT_BYTES = 64 * 1024 * 1024  # one result file for b64_json; a 4k PNG is far below it


@dataclass(frozen=True, kw_only=True)
class Deadlines:
    """How long a generation of each kind is followed before the answer is a 504 (from Settings)."""

    image: float
    video: float

    def of(self, kind: GenerationKind) -> float:
        return self.video if kind is GenerationKind.VIDEO else self.image


@dataclass(frozen=True, kw_only=True)
class Prepared:
    """A request checked and with its input images in hand; nothing spent yet."""

    plan: Plan
    inputs: tuple[InputImage, ...]


@dataclass(frozen=True, kw_only=True)
class Job:
    """A generation Jimeng accepted: everything later steps need, nothing else."""

    history_id: str
    submit_id: str
    session_id: str
    kind: GenerationKind
    model: str
    prompt: str
    created: int
    n: int | None
    response_format: ResponseFormat
    input_images: int
    forecast_seconds: float | None = None  # Jimeng's forecast of its duration, from the submit answer


class GenerationService:
    def __init__(
        self,
        *,
        backend: GenerationBackend,
        planner: Planner,
        pool: SessionPool,
        poller: Poller,
        deadlines: Deadlines,
        uploader: UploadBackend,
        loader: ImageLoader,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = backend
        self.planner = planner
        self.pool = pool
        self.poller = poller
        self.deadlines = deadlines
        self.uploader = uploader
        self.loader = loader
        self._clock = clock
        self._monotonic = monotonic

    # -- starting ---------------------------------------------------------------------------------------

    def prepare(self, request: GenerationRequest) -> Prepared:
        """Check against every rule, then fetch and check every input image (bad input costs nothing)."""
        plan = self.planner.plan(request)
        inputs = self.loader.load(plan.sources, param=plan.sources_param) if plan.sources else ()
        return Prepared(plan=plan, inputs=inputs)

    def prepare_chat(self, model: str | None, messages: list[dict[str, Any]]) -> Prepared:
        """A chat completion's generation: the model picks images or a video, the last user message is the
        prompt, its image parts the inputs; every rule of the other endpoints applies."""
        chat_model, prompt = chat.parse_model(model), chat.parse_messages(messages)
        kind = self.planner.kind_of(chat_model.model_id)
        return self.prepare(chat.chat_request(chat_model, prompt, kind))

    def start(self, sessions: list[str], prepared: Prepared) -> Job:
        """Choose a session, upload the inputs, submit; failover happens only before Jimeng accepts."""
        plan, inputs = prepared.plan, prepared.inputs

        def submit_on(session_id: str) -> Submitted:
            video = plan.kind is GenerationKind.VIDEO
            uris = self.uploader.upload_images(session_id, list(inputs), video=video) if inputs else []
            spec = replace(plan.spec, image_uris=tuple(uris)) if uris else plan.spec
            return self.backend.submit(session_id, spec)

        session_id, submitted = self.pool.run(sessions, self.planner.cost(plan.kind), submit_on)
        logger.info(
            "generation {} submitted on session {} ({})", submitted.history_id, mask(session_id), plan.spec.kind
        )
        return Job(
            history_id=submitted.history_id, submit_id=submitted.submit_id, session_id=session_id, kind=plan.kind,
            model=plan.model_id, prompt=plan.prompt, created=int(self._clock()), n=plan.n,
            response_format=plan.response_format, input_images=len(inputs), forecast_seconds=submitted.forecast_seconds,
        )  # fmt: skip

    # -- following --------------------------------------------------------------------------------------

    def follow(
        self,
        job: Job,
        *,
        request_id: str = "-",
        client_gone: Callable[[], bool] | None = None,
        idle_seconds: float | None = None,
    ) -> Generator[FollowEvent, None, None]:
        """Progress while the generation runs, ``Idle`` after ``idle_seconds`` without news, then ``Finished``;
        ``Gone`` (and the end) once ``client_gone`` says the client hung up. A failure is raised with the
        history id. Closing the iterator stops the polling, so nobody polls for a consumer that left."""
        watch = self.poller.watch(
            job.session_id, job.history_id, poll_id=job.submit_id, kind=job.kind, model=job.model,
            timeout=self.deadlines.of(job.kind), forecast=job.forecast_seconds, request_id=request_id,
        )  # fmt: skip
        last_news = last_check = self._monotonic()
        try:
            while True:
                due = last_check + CLIENT_CHECK_SECONDS
                if idle_seconds is not None:
                    due = min(due, last_news + idle_seconds)
                event = watch.next_event(timeout=max(0.0, due - self._monotonic()))
                now = self._monotonic()
                if event is not None and event.outcome is PollOutcome.PROGRESS and event.snapshot is not None:
                    last_news = now
                    yield Progress(event.snapshot)
                elif event is not None and event.terminal:
                    yield Finished(self._outcome(job, event))
                    return
                if now - last_check >= CLIENT_CHECK_SECONDS:
                    last_check = now
                    if client_gone is not None and client_gone():
                        logger.info("client went away; generation {} is no longer polled", job.history_id)
                        yield Gone()
                        return
                if idle_seconds is not None and now - last_news >= idle_seconds:
                    last_news = now
                    yield Idle()
        finally:
            watch.cancel()

    def wait(
        self, job: Job, *, request_id: str = "-", client_gone: Callable[[], bool] | None = None
    ) -> GenerationResult:
        """Block until the generation ends; raise its error (with the history id) if it did not succeed."""
        with closing(self.follow(job, request_id=request_id, client_gone=client_gone)) as events:
            for event in events:
                if isinstance(event, Finished):
                    return event.result
                if isinstance(event, Gone):
                    raise ClientGoneError(
                        f"client left while generation {job.history_id} ran", history_id=job.history_id
                    )
        raise AssertionError("follow() ends with Finished or Gone")

    def _outcome(self, job: Job, event: PollEvent) -> GenerationResult:
        """The result of a terminal poll event, or the matching error raised with the history id."""
        hid = job.history_id
        if event.outcome is PollOutcome.SUCCEEDED and event.snapshot is not None:
            return self._result(job, event.snapshot)
        if event.outcome is PollOutcome.TIMEOUT:
            raise GenerationTimeoutError(
                f"Generation {hid} did not finish within {self.deadlines.of(job.kind):.0f}s; "
                f"it may still finish: GET /v1/tasks/{hid}",
                history_id=hid,
            )
        error = event.error or (event.snapshot.error if event.snapshot is not None else None)
        if error is None:
            error = GenerationFailedError(f"Jimeng failed generation {hid}", history_id=hid)
        raise error.for_generation(hid)

    def _result(self, job: Job, snapshot: Snapshot) -> GenerationResult:
        if job.kind is GenerationKind.VIDEO:
            hd = self.backend.hd_video_url(job.session_id, snapshot.item_id) if snapshot.item_id else None
            video_url = hd or snapshot.video_url
            urls: tuple[str, ...] = (video_url,) if video_url else ()
        else:
            urls = snapshot.image_urls[: job.n] if job.n else snapshot.image_urls
        if not urls:
            raise GenerationFailedError(
                f"Generation {job.history_id} finished without a result URL", history_id=job.history_id
            )
        b64 = self._download_all(job, urls) if job.response_format is ResponseFormat.B64_JSON else ()
        return GenerationResult(
            history_id=job.history_id, kind=job.kind, model=job.model, urls=urls, created=job.created, b64=b64,
            prompt=job.prompt, input_images=job.input_images,
        )  # fmt: skip

    def _download_all(self, job: Job, urls: tuple[str, ...]) -> tuple[str, ...]:
        try:
            with ThreadPoolExecutor(max_workers=min(len(urls), 4)) as pool:
                blobs = list(pool.map(lambda url: self.backend.download(url, MAX_RESULT_BYTES), urls))
        except JimengError as err:
            raise err.for_generation(job.history_id) from err
        return tuple(base64.b64encode(blob).decode("ascii") for blob in blobs)

    # -- tasks ------------------------------------------------------------------------------------------

    def lookup(self, sessions: list[str], task_id: str) -> Snapshot:
        """One look-up per session of the pool until one knows the id (an account sees only its own)."""
        last_error: JimengError | None = None
        for session_id in sessions:
            try:
                snapshot = self.backend.lookup(session_id, task_id)
            except SessionExpiredError as err:
                last_error = err
                continue
            if snapshot is not None:
                return snapshot
        if last_error is not None and len(sessions) == 1:
            raise last_error
        raise NotFoundError(f"No generation {task_id!r} on this account")
