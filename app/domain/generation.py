"""GenerationService: plan -> pick a session -> (upload) -> submit -> wait through the poller -> result.

One flow for text-to-image, compositions and videos. From the moment Jimeng accepted a draft, every error
that leaves this module carries the generation's history id, so a paid generation is never lost to the client.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from loguru import logger

from app.domain.backend import GenerationBackend, ImageLoader, UploadBackend
from app.domain.errors import (
    ClientGoneError,
    ContentFilteredError,
    DomainError,
    GenerationFailedError,
    GenerationTimeoutError,
    JimengError,
    NotFoundError,
    SessionExpiredError,
)
from app.domain.models import DraftSpec, GenerationResult, ImageRequest, InputImage, Snapshot, VideoRequest
from app.domain.planning import Planner
from app.domain.poller import Poller, PollEvent, Watch
from app.domain.pool import SessionPool
from app.domain.sources import ImageSource
from app.secrets import mask

CLIENT_CHECK_SECONDS = 1.0
MAX_RESULT_BYTES = 64 * 1024 * 1024  # one result file for b64_json; a 4k PNG is far below it


@dataclass(frozen=True)
class Limits:
    image_timeout: float = 600.0
    video_timeout: float = 1500.0


@dataclass(frozen=True)
class Job:
    """A generation Jimeng accepted: everything later steps need, nothing else."""

    history_id: str
    session_id: str
    kind: str  # "image" or "video"
    model: str
    prompt: str
    created: int
    expected: int | None = None
    n: int | None = None
    response_format: str = "url"
    input_images: int = 0


@dataclass(frozen=True)
class Prepared:
    """A request validated and with its input images in hand; nothing spent yet."""

    spec: DraftSpec
    inputs: tuple[InputImage, ...]
    kind: str
    model: str
    prompt: str
    expected: int | None
    n: int | None
    response_format: str


class GenerationService:
    def __init__(
        self,
        backend: GenerationBackend,
        planner: Planner,
        pool: SessionPool,
        poller: Poller,
        limits: Limits,
        uploader: UploadBackend | None = None,
        loader: ImageLoader | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.planner = planner
        self.pool = pool
        self.poller = poller
        self.limits = limits
        self.uploader = uploader
        self.loader = loader
        self._clock = clock

    # -- starting ---------------------------------------------------------------------------------------

    def prepare(self, request: ImageRequest | VideoRequest, *, param: str = "images") -> Prepared:
        """Validate against the tables and fetch and check every input image: all that can be refused
        without spending anything (so a stream can refuse it before its first byte)."""
        if isinstance(request, VideoRequest):
            plan = self.planner.plan_video(request)
            return Prepared(plan.spec, self._load(request.frames, param), "video", plan.model_id,
                            request.prompt, 1, None, request.response_format)  # fmt: skip
        plan = self.planner.plan_images(request)
        return Prepared(plan.spec, self._load(request.images, param), "image", plan.model_id,
                        request.prompt, plan.expected, request.n, request.response_format)  # fmt: skip

    def start(self, sessions: list[str], request: ImageRequest | VideoRequest | Prepared) -> Job:
        """Choose a session, upload the inputs, submit; failover happens only before Jimeng accepts."""
        prepared = request if isinstance(request, Prepared) else self.prepare(request)
        spec, inputs = prepared.spec, prepared.inputs

        def submit_on(session_id: str) -> str:
            uris = self._upload(session_id, inputs, video=spec.kind == "video")
            final = spec if not uris else replace(spec, image_uris=tuple(uris))
            return self.backend.submit(session_id, final).history_id

        session_id, history_id = self.pool.run(sessions, self.planner.cost(prepared.kind), submit_on)
        logger.info("generation {} submitted on session {} ({})", history_id, mask(session_id), spec.kind)
        return Job(
            history_id, session_id, prepared.kind, prepared.model, prepared.prompt, int(self._clock()),
            prepared.expected, prepared.n, prepared.response_format, len(inputs),
        )  # fmt: skip

    def _load(self, sources: tuple[ImageSource, ...], param: str) -> tuple[InputImage, ...]:
        """Fetch and check every input before any session is charged (bad input costs nothing)."""
        if not sources:
            return ()
        if self.loader is None:
            raise RuntimeError("no image loader configured")
        return self.loader.load(sources, param=param)

    def _upload(self, session_id: str, images: tuple[InputImage, ...], *, video: bool) -> list[str]:
        if not images:
            return []
        if self.uploader is None:
            raise RuntimeError("no upload backend configured")
        return self.uploader.upload_images(session_id, list(images), video=video)

    # -- waiting ----------------------------------------------------------------------------------------

    def watch(self, job: Job, request_id: str = "-") -> Watch:
        timeout = self.limits.video_timeout if job.kind == "video" else self.limits.image_timeout
        return self.poller.watch(
            job.session_id, job.history_id, kind=job.kind, model=job.model, timeout=timeout, request_id=request_id
        )

    def wait(self, job: Job, request_id: str = "-", client_gone: Callable[[], bool] | None = None) -> GenerationResult:
        """Block until the generation ends; raise its error (with the history id) if it did not succeed.

        ``client_gone`` is asked every CLIENT_CHECK_SECONDS: nobody polls for a client that hung up.
        """
        watch = self.watch(job, request_id)
        try:
            while (event := watch.next_event(timeout=CLIENT_CHECK_SECONDS)) is None or not event.terminal:
                if event is None and client_gone is not None and client_gone():
                    raise ClientGoneError(
                        f"client left while generation {job.history_id} ran", history_id=job.history_id
                    )
        finally:
            watch.cancel()
        return self.finish(job, event)

    def finish(self, job: Job, event: PollEvent) -> GenerationResult:
        """Turn a terminal poll event into a result, or raise the matching error."""
        if event.kind == "succeeded" and event.snapshot is not None:
            return self._result(job, event.snapshot)
        raise self.failure(job, event)

    def failure(self, job: Job, event: PollEvent) -> Exception:
        hid = job.history_id
        if event.kind == "timeout":
            timeout = self.limits.video_timeout if job.kind == "video" else self.limits.image_timeout
            return GenerationTimeoutError(
                f"Generation {hid} did not finish within {timeout:.0f}s; it may still finish: GET /v1/tasks/{hid}",
                history_id=hid,
            )
        if isinstance(event.error, DomainError):
            return event.error.for_generation(hid)
        if event.error is not None:
            return event.error
        return failed_generation_error(hid, event.snapshot)

    def _result(self, job: Job, snapshot: Snapshot) -> GenerationResult:
        if job.kind == "video":
            urls: tuple[str, ...] = (snapshot.video_url,) if snapshot.video_url else ()
        else:
            urls = snapshot.image_urls[: job.n] if job.n else snapshot.image_urls
        if not urls:
            raise GenerationFailedError(
                f"Generation {job.history_id} finished without a result URL", history_id=job.history_id
            )
        b64 = self._download_all(job, urls) if job.response_format == "b64_json" else ()
        return GenerationResult(
            job.history_id, job.kind, job.model, urls, job.created, b64, job.prompt, job.input_images
        )

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


def failed_generation_error(history_id: str, snapshot: Snapshot | None) -> JimengError:
    """The error of a finished-but-failed record: moderation (2038) or a generic failure with its code."""
    fail_code = snapshot.fail_code if snapshot else ""
    if snapshot is not None and str(fail_code) == "2038":
        return ContentFilteredError(
            f"Jimeng's moderation refused generation {history_id} (fail code 2038)", history_id=history_id
        )
    code_text = f" (fail code {fail_code})" if fail_code else ""
    return GenerationFailedError(
        f"Jimeng failed generation {history_id}{code_text}", fail_code=fail_code or None, history_id=history_id
    )
