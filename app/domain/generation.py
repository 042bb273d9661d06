"""GenerationService: plan -> load inputs -> pick a session -> upload -> submit -> follow -> result.

One flow for text-to-image, compositions, videos and chat. ``prepare`` does everything that can be refused
without spending anything (so a stream can refuse it before its first byte); ``start`` spends; ``follow`` is
the one loop that follows a generation for its consumer (a waiting request or a stream). From the moment
Jimeng accepted a draft, every error that leaves this module carries the generation's history id, so a paid
generation is never lost to the client.
"""

from __future__ import annotations

import base64
import contextvars
import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from loguru import logger

from app.domain import chat
from app.domain.backend import GenerationBackend, ImageEncoder, ImageLoader, UploadBackend
from app.domain.capacity import Capacity, Grant
from app.domain.capped import run_capped
from app.domain.catalog import Catalog, Model
from app.domain.errors import (
    ClientGoneError,
    ConcurrencyLimitError,
    DomainError,
    GenerationFailedError,
    GenerationTimeoutError,
    JimengError,
    NotFoundError,
    ServiceRestartingError,
    SessionExpiredError,
    UpstreamModelUnavailableError,
)
from app.domain.follow import CLIENT_CHECK_SECONDS, Finished, FollowEvent, Gone, Idle, PartFinished, Progress
from app.domain.jobs import Deadlines, Job, Part, Prepared
from app.domain.models import (
    DraftSpec,
    GenerationKind,
    GenerationRequest,
    GenerationResult,
    Phase,
    ResponseFormat,
    Snapshot,
    Submitted,
)
from app.domain.observe import Observer, Silent
from app.domain.planning import Plan, Planner
from app.domain.poller import Poller, PollEvent, PollOutcome, Watch
from app.domain.pool import COOLING_ERRORS, SessionPool
from app.domain.shutdown import Shutdown
from app.secrets import mask

MAX_RESULT_BYTES = 64 * 1024 * 1024  # one result file for b64_json; a 4k PNG is far below it
# Drafts of one worker process being submitted at once (see GenerationService._submit). Measured at 1,000
# requests at once on one worker (bench/load.py, bench/poller.py): 16 kept the peak RSS lowest but took 6 s
# to get the burst submitted (p95), 64 took 2 s for about 2 MiB more; 32 is between (4.6 s).
SUBMITTERS = 32


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
        shutdown: Shutdown | None = None,
        encoder: ImageEncoder | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        max_lookups: int = 10,
        capacity: Capacity | None = None,
        observer: Observer | None = None,
        submitters: int = SUBMITTERS,
    ) -> None:
        self.backend = backend
        self.planner = planner
        self.pool = pool
        self.poller = poller
        self.deadlines = deadlines
        self.uploader = uploader
        self.loader = loader
        self.encoder = encoder or _NoEncoder()
        self.shutdown = shutdown or Shutdown(grace_seconds=0.0)  # never begun unless someone says so
        self._clock = clock
        self._monotonic = monotonic
        self._max_lookups = max_lookups
        self.capacity = capacity  # per-session caps and their fair queue (None or cap 0: submit at once)
        self.observer: Observer = observer or Silent()  # metrics: generations ended, added latency
        self._submitters = ThreadPoolExecutor(max_workers=submitters, thread_name_prefix="submit")

    # -- starting ---------------------------------------------------------------------------------------

    def prepare(self, request: GenerationRequest, *, session_id: str | None = None) -> Prepared:
        """Check against every rule (the tables known for ``session_id``'s account, without asking Jimeng),
        then fetch and check every input image: bad input costs nothing and reaches no upstream."""
        catalog = self.planner.catalogs.cached(session_id)
        plan = self.planner.plan(request, catalog=catalog)
        inputs = self.loader.load(plan.sources, param=plan.sources_param) if plan.sources else ()
        return Prepared(request=request, plan=plan, inputs=inputs, catalog=catalog)

    def prepare_chat(
        self, model: str | None, messages: list[dict[str, Any]], *, session_id: str | None = None
    ) -> Prepared:
        """A chat completion's generation: the model picks images or a video, the last user message is the
        prompt, its image parts the inputs; every rule of the other endpoints applies."""
        chat_model, prompt = chat.parse_model(model), chat.parse_messages(messages)
        kind = self.planner.kind_of(chat_model.model_id, catalog=self.planner.catalogs.cached(session_id))
        return self.prepare(chat.chat_request(chat_model, prompt, kind), session_id=session_id)

    def check_chat_model(self, model: str | None, *, session_id: str | None = None) -> str:
        """A chat's model as the planner knows it (400 when unknown or retired), without planning anything:
        its public id (the default image model's for none)."""
        chat_model = chat.parse_model(model)
        catalog = self.planner.catalogs.cached(session_id)
        self.planner.kind_of(chat_model.model_id, catalog=catalog)
        return chat_model.model_id or catalog.default_image

    def check_sessions(self, sessions: list[str]) -> str:
        """A live session of the pool (SessionExpiredError when none is): the pool's cached state, at most one
        credit check per session, nothing spent."""
        return self.pool.choose(sessions, 0)

    def preflight(self, sessions: list[str], prepared: Prepared) -> str:
        """The session that would pay for ``prepared``, checked now without submitting anything: its account's
        state comes from the pool's cache (at most one credit check per session, none when cached), so an
        expired pool (SessionExpiredError) or too few credits (InsufficientCreditsError) are refused before a
        stream's first byte. Pass the answer to ``start(chosen=...)``, which then does not check it again."""
        self._refuse_if_shutting_down()
        return self.pool.choose(sessions, self.planner.cost(prepared.plan.kind) * len(prepared.plan.specs))

    def chat_model(self, name: str, catalog: Catalog) -> Model | None:
        """The model a chat ``model`` names (``jimeng-4.0``, ``jimeng-4.0:16:9``, ``dall-e-3``), or None when a
        chat request naming it would be refused for its model: the same parser and the same planner rules."""
        try:
            chat_model = chat.parse_model(name)
            model = catalog.find(chat_model.model_id or "")
            if model is not None and (chat_model.ratio or chat_model.size):
                prompt = chat.ChatPrompt("model check")
                self.planner.plan(chat.chat_request(chat_model, prompt, model.kind), catalog=catalog)
        except DomainError:
            return None
        return model

    def start(
        self,
        sessions: list[str],
        prepared: Prepared,
        *,
        client_gone: Callable[[], bool] | None = None,
        chosen: str | None = None,
        caller: str = "",
        on_wait: Callable[[int], None] | None = None,
    ) -> Job:
        """Choose a session, upload the inputs, submit every part there; failover happens only before Jimeng
        accepted the first part. A later part Jimeng refuses leaves the accepted ones running (their images
        are paid) and is reported with the result. Nothing is submitted for a client that is gone: checked
        right before each submit, it raises ClientGoneError before the first part, and ends the job at the
        parts already accepted after it. Nothing is submitted once the worker is shutting down either:
        ServiceRestartingError (no history id, nothing spent) before the first part, a refused part after it.
        ``chosen`` (from ``preflight``) is tried first. Under the per-session caps (``capacity``) the request
        first waits for a slot in the fair queue of ``caller`` (its deadline includes the wait; ``on_wait(n)``
        hears the requests ahead), and each accepted part holds a slot until it ends."""
        self._refuse_if_shutting_down()
        plan, inputs = self._checked_live(sessions[0], prepared), prepared.inputs
        gone = client_gone or (lambda: False)

        def may_submit() -> None:
            """Right before any submit (and before the uploads that lead to one): is anyone still there?"""
            _stop_if_gone(gone)
            self._refuse_if_shutting_down()

        def gone_while_queued() -> bool:
            """While the request waits for a slot: gone (True), or a worker shutting down answers it now
            (ServiceRestartingError, nothing submitted) instead of holding it past its grace window."""
            self._refuse_if_shutting_down()
            return gone()

        def submit_on(session_id: str) -> tuple[tuple[str, ...], Submitted]:
            video = plan.kind is GenerationKind.VIDEO
            may_submit()
            uris = tuple(self.uploader.upload_images(session_id, list(inputs), video=video)) if inputs else ()
            return uris, self._submit(session_id, plan.specs[0], uris, may_submit)

        cost = self.planner.cost(plan.kind) * len(plan.specs)
        grant: Grant | None = None
        if self.capacity is not None and self.capacity.enabled:
            grant, session_id, (uris, first) = run_capped(
                self.pool, self.capacity, sessions, cost, len(plan.specs), submit_on, caller=caller,
                timeout=self.deadlines.of(plan.kind), monotonic=self._monotonic, chosen=chosen, client_gone=gone_while_queued,
                on_wait=on_wait,
            )  # fmt: skip
        else:
            session_id, (uris, first) = self.pool.run(sessions, cost, submit_on, chosen=chosen)
        parts, refused = [Part.of(first, plan.specs[0].count)], list[DomainError]()
        try:
            self._submit_rest(plan, session_id, uris, parts, refused, may_submit, grant)
        finally:
            if grant is not None and self.capacity is not None:
                self.capacity.attach(grant, [part.history_id for part in parts])
                grant.submitted()
        return Job(
            parts=tuple(parts), session_id=session_id, kind=plan.kind, model=plan.model_id, prompt=plan.prompt,
            created=int(self._clock()), response_format=plan.response_format, input_images=len(inputs),
            output_format=plan.output_format, output_compression=plan.output_compression, size=plan.size,
            tier=plan.tier, refused=tuple(refused),
        )  # fmt: skip

    def _submit_rest(
        self,
        plan: Plan,
        session_id: str,
        uris: tuple[str, ...],
        parts: list[Part],
        refused: list[DomainError],
        may_submit: Callable[[], None],
        grant: Grant | None,
    ) -> None:
        """The parts after the first, on the same session, while the client is there and Jimeng accepts them
        (a part beyond the slots the caps gave this request is not submitted: Jimeng would refuse it)."""
        for spec in plan.specs[1:]:
            if grant is not None and len(parts) >= grant.held:
                left = len(plan.specs) - len(parts)
                logger.warning("{} later part(s) exceed the session's concurrency cap: not submitted", left)
                refused.append(ConcurrencyLimitError(
                    f"{left} later part(s) not submitted: one request runs at most {grant.held} parts at once "
                    "on a session (SESSION_CONCURRENCY); ask for fewer images"
                ))  # fmt: skip
                break
            try:
                parts.append(Part.of(self._submit(session_id, spec, uris, may_submit), spec.count))
            except ClientGoneError:
                logger.info("client went away: {} later part(s) not submitted", len(plan.specs) - len(parts))
                break
            except (JimengError, ServiceRestartingError) as err:
                logger.warning("part {} of a generation was refused: {}", len(parts) + 1, err.message)
                if isinstance(err, COOLING_ERRORS):
                    self.pool.rest(session_id, err)
                refused.append(err)
                break  # the account said no: the next parts would be refused alike

    def _refuse_if_shutting_down(self) -> None:
        if self.shutdown.begun:
            logger.info("the worker is shutting down: nothing is submitted")
            raise ServiceRestartingError(
                "The service is restarting; nothing was submitted (and nothing charged): send the request again",
                retry_after=1.0,
            )

    def _checked_live(self, session_id: str, prepared: Prepared) -> Plan:
        """The plan against the account's newest known tables: Jimeng may offer less than the fallback tables,
        and never offering what it does not list beats a refused submit. Tables not known yet are asked for in
        the background (the submit does not wait for them)."""
        live = self.planner.catalogs.cached(session_id, refresh=True)
        if live is prepared.catalog:
            return prepared.plan
        return self.planner.plan(prepared.request, catalog=live)

    def _submit(
        self, session_id: str, spec: DraftSpec, uris: tuple[str, ...], may_submit: Callable[[], None]
    ) -> Submitted:
        """One draft submitted on one of ``submitters`` pooled threads (greenlets under gevent), in the caller's
        context (its log fields; under Flask, its request), while the caller waits for the answer.

        Not on the request's own stack: a greenlet keeps every page of Python frames its deepest call touched
        for as long as it lives, and a submit (signing, requests, urllib3, the socket) is the deepest thing a
        request does, while the request then waits for minutes. And a burst of 1,000 requests builds the
        submits' short-lived objects ``submitters`` at a time, instead of all at once with a connection each.
        Issue 17 measured both in the peak RSS of 1,000 generations in flight on one worker. ``may_submit`` runs
        on the submitter thread right before the submit: a client that left (or a shutdown that began) while the
        draft waited for a free submitter costs nothing."""
        context = contextvars.copy_context()
        return self._submitters.submit(context.run, self._submit_here, session_id, spec, uris, may_submit).result()

    def _submit_here(
        self, session_id: str, spec: DraftSpec, uris: tuple[str, ...], may_submit: Callable[[], None]
    ) -> Submitted:
        """On a submitter thread; so is its log line: a greenlet that logs gets a thread object of its own (loguru
        names the thread), about 1 KiB that a waiting request would hold until it ends."""
        may_submit()
        try:
            submitted = self.backend.submit(session_id, replace(spec, image_uris=uris) if uris else spec)
        except UpstreamModelUnavailableError:
            self.planner.catalogs.invalidate(session_id)  # Jimeng says the model is gone: ask its tables again
            raise
        logger.info("generation {} submitted on session {} ({})", submitted.history_id, mask(session_id), spec.kind)
        return submitted

    # -- following --------------------------------------------------------------------------------------

    def follow(
        self,
        job: Job,
        *,
        request_id: str = "-",
        client_gone: Callable[[], bool] | None = None,
        idle_seconds: float | None = None,
    ) -> Generator[FollowEvent, None, None]:
        """Progress while the generation runs, ``Idle`` after ``idle_seconds`` without news, ``PartFinished`` as
        each part succeeds, then ``Finished``; ``Gone`` (and the end) once ``client_gone`` says the client hung
        up. A failure is raised with the history id; a job of several parts finishes with the parts that
        succeeded and reports the others.
        When the worker is shutting down, a part still running when ``self.shutdown`` says it is time to
        answer raises ServiceRestartingError with its history id (a result already there still wins).
        Closing the iterator stops the polling, so nobody polls for a consumer that left."""
        following = _Following(self, job, request_id, client_gone, idle_seconds)
        try:
            while True:
                event = following.advance()
                yield event
                if isinstance(event, Finished | Gone):
                    return
        finally:
            following.close()

    def detach(self, job: Job, on_end: Callable[[str], None] | None = None) -> None:
        """Nobody follows ``job`` here (an async answer): a part holding a slot of the caps, or every part when
        ``on_end`` wants to hear of its end (a webhook), is watched in the background until it ends; then its
        slot is freed and ``on_end(history_id)`` called."""
        for part in job.parts:
            held = self.capacity is not None and self.capacity.holds(part.history_id)
            if held or on_end is not None:
                name = f"slot-{part.history_id}"
                args = (job, part, on_end)
                threading.Thread(target=self._free_when_done, args=args, name=name, daemon=True).start()

    def _free_when_done(self, job: Job, part: Part, on_end: Callable[[str], None] | None = None) -> None:
        watch = self._watch(job, part, "slot")
        try:
            while (event := watch.next_event(timeout=None)) is None or not event.terminal:
                pass
            self.observer.generation_ended(model=job.model, kind=str(job.kind), outcome=str(event.outcome))
        finally:
            watch.cancel()
            if self.capacity is not None:
                self.capacity.finish(part.history_id)
            if on_end is not None:
                on_end(part.history_id)

    def _watch(self, job: Job, part: Part, request_id: str) -> Watch:
        waited = self.capacity.waited(part.history_id) if self.capacity is not None else 0.0
        return self.poller.watch(
            job.session_id, part.history_id, poll_id=part.submit_id, kind=job.kind, model=job.model,
            tier=job.tier, count=part.count, timeout=max(1.0, self.deadlines.of(job.kind) - waited),
            forecast=part.forecast_seconds,
            request_id=request_id,
            age=max(0.0, self._clock() - job.created) if job.resumed else None,
        )  # fmt: skip

    def wait(
        self, job: Job, *, request_id: str = "-", client_gone: Callable[[], bool] | None = None
    ) -> GenerationResult:
        """Block until the generation ends; raise its error (with the history id) if it did not succeed. The
        same loop as ``follow``, called directly: no generator frames on the stack of a waiting request (under
        gevent each one is C stack that the request's greenlet keeps a copy of while it waits: issue 17)."""
        following = _Following(self, job, request_id, client_gone, None)
        try:
            while True:
                event = following.advance()
                if isinstance(event, Finished):
                    return event.result
                if isinstance(event, Gone):
                    raise ClientGoneError(
                        f"client left while generation {job.history_id} ran", history_id=job.history_id
                    )
        finally:
            following.close()

    def _outcome(self, job: Job, part: Part, event: PollEvent) -> GenerationResult:
        """The result of a part's terminal poll event, or the matching error raised with its history id."""
        hid = part.history_id
        if self.capacity is not None:
            self.capacity.finish(hid)  # the part ended (or its deadline passed): its slot is free
        self.observer.generation_ended(model=job.model, kind=str(job.kind), outcome=str(event.outcome))
        if event.outcome is PollOutcome.SUCCEEDED and event.snapshot is not None:
            return self._result(job, part, event.snapshot)
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

    def _result(self, job: Job, part: Part, snapshot: Snapshot) -> GenerationResult:
        if job.kind is GenerationKind.VIDEO:
            video_url = self._video_file(job.session_id, snapshot)
            urls: tuple[str, ...] = (video_url,) if video_url else ()
        else:
            urls = snapshot.image_urls[: part.count]
            if snapshot.executed_count is not None and snapshot.executed_count != part.count:
                logger.warning(
                    "generation {}: asked for {} images, Jimeng ran {}", part.history_id, part.count,
                    snapshot.executed_count,
                )  # fmt: skip
        if not urls:
            raise GenerationFailedError(
                f"Generation {part.history_id} finished without a result URL", history_id=part.history_id
            )
        b64: tuple[str, ...] = ()
        image = job.kind is GenerationKind.IMAGE
        output_format = url_format(urls[0]) if image else None
        if job.response_format is ResponseFormat.B64_JSON:
            blobs = self._download_all(part, urls, job.session_id)
            if image and job.output_format is not None:
                blobs = self._encoded(part, blobs, job.output_format, job.output_compression)
            if image:
                output_format = job.output_format or self.encoder.format_of(blobs[0])
            b64 = tuple(base64.b64encode(blob).decode("ascii") for blob in blobs)
        return GenerationResult(
            history_id=part.history_id, kind=job.kind, model=job.model, urls=urls, created=job.created, b64=b64,
            output_format=output_format, size=(job.size or snapshot.image_size) if image else None, prompt=job.prompt,
            input_images=job.input_images,
        )  # fmt: skip

    def download_image(self, history_id: str, url: str, session_id: str | None = None) -> bytes:
        """One finished image of generation ``history_id`` (a stream sends each as it arrives), fetched the way
        ``session_id`` reaches Jimeng; a failure is raised with the history id."""
        try:
            return self.backend.download(url, MAX_RESULT_BYTES, session_id)
        except JimengError as err:
            raise err.for_generation(history_id) from err

    def _download_all(self, part: Part, urls: tuple[str, ...], session_id: str) -> list[bytes]:
        try:
            with ThreadPoolExecutor(max_workers=min(len(urls), 4)) as pool:
                return list(pool.map(lambda url: self.backend.download(url, MAX_RESULT_BYTES, session_id), urls))
        except JimengError as err:
            raise err.for_generation(part.history_id) from err

    def _encoded(self, part: Part, blobs: list[bytes], fmt: str, compression: int | None) -> list[bytes]:
        """Each downloaded image as ``fmt``; a file that cannot be read fails the part with its history id."""
        try:
            return [self.encoder.encode(blob, fmt, compression) for blob in blobs]
        except ValueError as err:
            logger.warning("generation {}: a result could not be converted to {}: {}", part.history_id, fmt, err)
            raise GenerationFailedError(
                f"Generation {part.history_id} finished, but a result could not be converted to {fmt}; "
                f"GET /v1/tasks/{part.history_id} has its URLs",
                history_id=part.history_id,
            ) from err

    # -- tasks ------------------------------------------------------------------------------------------

    def _video_file(self, session_id: str, snapshot: Snapshot) -> str | None:
        """A finished video's watermark-free file, else the record's preview URL."""
        hd = self.backend.hd_video_url(session_id, snapshot.item_id) if snapshot.item_id else None
        return hd or snapshot.video_url

    def _with_hd_video(self, session_id: str, snapshot: Snapshot) -> Snapshot:
        """A finished video's snapshot with the file a waiting request gets (an image record has no video URL)."""
        if snapshot.phase is not Phase.SUCCEEDED or not snapshot.video_url:
            return snapshot
        return replace(snapshot, video_url=self._video_file(session_id, snapshot))

    def lookup(self, sessions: list[str], task_id: str) -> Snapshot:
        """One look-up per session of the pool until one knows the id (an account sees only its own); at most
        ``max_lookups`` sessions are asked, whatever the size of the pool."""
        last_error: JimengError | None = None
        for session_id in sessions[: self._max_lookups]:
            try:
                snapshot = self.backend.lookup(session_id, task_id)
            except SessionExpiredError as err:
                last_error = err
                continue
            if snapshot is not None:
                return self._with_hd_video(session_id, snapshot)
        if last_error is not None and len(sessions) == 1:
            raise last_error
        raise NotFoundError(f"No generation {task_id!r} on this account")


def _restarting(history_id: str) -> ServiceRestartingError:
    logger.info("the worker is shutting down: generation {} is answered with its history id", history_id)
    return ServiceRestartingError(
        f"The service is restarting; generation {history_id} runs on at Jimeng: fetch it with "
        f"GET /v1/tasks/{history_id}",
        history_id=history_id,
    )


def url_format(url: str) -> str | None:
    """The format a result URL's file name says (Jimeng's ``…~tplv-<template>.webp?…``): png, jpeg, webp or gif;
    None when it says nothing known."""
    name = url.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
    _, dot, ext = name.rpartition(".")
    ext = ext.lower() if dot else ""
    ext = "jpeg" if ext == "jpg" else ext
    return ext if ext in ("png", "jpeg", "webp", "gif") else None


class _NoEncoder:
    """Without an encoder (unit tests of other things): formats are not told, conversions refused."""

    def format_of(self, data: bytes) -> str | None:
        return None

    def encode(self, data: bytes, fmt: str, compression: int | None) -> bytes:
        raise ValueError("no image encoder configured")


def _stop_if_gone(gone: Callable[[], bool]) -> None:
    if gone():
        logger.info("client went away before a submit: nothing was submitted for it")
        raise ClientGoneError("client left before its generation was submitted; nothing was submitted")


def _combined(job: Job, results: list[GenerationResult], failures: tuple[DomainError, ...]) -> GenerationResult:
    """The parts' results in submit order as one result; the failed parts are reported beside them."""
    if len(results) == 1 and not failures:
        return results[0]
    return replace(
        results[0],
        history_id=job.history_id,
        urls=tuple(url for result in results for url in result.urls),
        b64=tuple(blob for result in results for blob in result.b64),
        output_format=next((r.output_format for r in results if r.output_format), None),
        history_ids=job.history_ids,
        failures=failures,
    )


class _Following:
    """One consumer following a job, part after part: ``advance()`` blocks until the next ``FollowEvent``
    (the one loop that follows a generation, for ``follow`` and ``wait``); ``close()`` stops its polling."""

    def __init__(
        self,
        service: GenerationService,
        job: Job,
        request_id: str,
        client_gone: Callable[[], bool] | None,
        idle_seconds: float | None,
    ) -> None:
        self.service, self.job = service, job
        self.client_gone, self.idle_seconds = client_gone, idle_seconds
        self.watches = [service._watch(job, part, request_id) for part in job.parts]
        self.results: list[GenerationResult] = []
        self.failed: list[DomainError] = []  # parts Jimeng accepted, each error with its history id
        self.seen: list[float] = []  # when a poll saw each part end (the added latency runs from the last one)
        self.index = 0  # the part followed now
        self.last_news = self.last_check = service._monotonic()
        self.checks_due = False  # an event was handed out before the checks that follow it ran

    def advance(self) -> FollowEvent:
        """The next event; a failure is raised with its history id. Nothing is to be asked after Finished or
        Gone."""
        while self.index < len(self.job.parts):
            try:
                news = self._part_news()
            except DomainError as err:
                if len(self.job.parts) == 1:
                    raise
                self.failed.append(err)
                self._next_part()
                continue
            if isinstance(news, GenerationResult):
                index = self.index
                self.results.append(news)
                self._next_part()
                return PartFinished(index, news)
            return news
        if not self.results:  # every accepted part failed: the answer names them all, each may still be fetched
            ids = ", ".join(self.job.history_ids)
            raise self.failed[0].noting(f"; this request's generations: {ids} (GET /v1/tasks/{{id}} for each)")
        combined = _combined(self.job, self.results, (*self.failed, *self.job.refused))
        if self.seen:
            self.service.observer.added_latency(max(0.0, self.service._monotonic() - self.seen[-1]))
        return Finished(combined)

    def close(self) -> None:
        job, service = self.job, self.service
        for watch in self.watches:
            watch.cancel()
        for _part in job.parts[len(self.seen) :]:  # never ended here: the client left (or the worker stops)
            service.observer.generation_ended(model=job.model, kind=str(job.kind), outcome="abandoned")
        if service.capacity is not None:  # a client gone: nothing polls its parts; their slots run out
            for part in job.parts:
                service.capacity.abandon(part.history_id)

    def _next_part(self) -> None:
        self.index += 1
        self.last_news = self.last_check = self.service._monotonic()
        self.checks_due = False

    def _part_news(self) -> FollowEvent | GenerationResult:
        """What part ``index`` says next: progress, idle, the client gone, or its result (a failure raised)."""
        service, part, watch = self.service, self.job.parts[self.index], self.watches[self.index]
        while True:
            if self.checks_due:
                self.checks_due = False
                if (news := self._checks(part)) is not None:
                    return news
            due = self.last_check + CLIENT_CHECK_SECONDS
            if self.idle_seconds is not None:
                due = min(due, self.last_news + self.idle_seconds)
            shutdown_in = service.shutdown.seconds_left()
            if shutdown_in is not None:
                due = min(due, service._monotonic() + shutdown_in)
            event = watch.next_event(timeout=max(0.0, due - service._monotonic()))
            now = service._monotonic()
            if event is not None and event.outcome is PollOutcome.PROGRESS and event.snapshot is not None:
                self.last_news = now
                self.checks_due = True
                return Progress(event.snapshot, self.index)
            if event is not None and event.terminal:
                self.seen.append(now)
                return service._outcome(self.job, part, event)
            if (news := self._checks(part)) is not None:
                return news

    def _checks(self, part: Part) -> FollowEvent | None:
        """After each look: the shutdown's answer time (raised), the client gone, a quiet spell."""
        now = self.service._monotonic()
        if self.service.shutdown.due():
            raise _restarting(part.history_id)
        if now - self.last_check >= CLIENT_CHECK_SECONDS:
            self.last_check = now
            if self.client_gone is not None and self.client_gone():
                logger.info("client went away; generation {} is no longer polled", part.history_id)
                return Gone()
        if self.idle_seconds is not None and now - self.last_news >= self.idle_seconds:
            self.last_news = now
            return Idle()
        return None
