"""GenerationService.start with fakes around it: nothing is submitted for a client that is gone."""

from __future__ import annotations

import contextvars
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from app.domain.capacity import Capacity, CapacitySettings, pool_key
from app.domain.errors import ClientGoneError, ServiceRestartingError
from app.domain.generation import GenerationService
from app.domain.jobs import Deadlines, Prepared
from app.domain.models import DraftKind, DraftSpec, GenerationKind, InputImage, Submitted
from app.domain.planning import Plan
from app.domain.shutdown import Shutdown
from app.state import SqliteStore

SPEC = DraftSpec(
    kind=DraftKind.GENERATE, model_key="high_aes_general_v40", prompt="cats", width=2048, height=2048, ratio="1:1",
    resolution="2k", count=4,
)  # fmt: skip
CATALOG: Any = object()


@dataclass
class Fakes:
    """Backend, uploader, planner and pool in one: records submits and uploads."""

    gone_after_submits: int | None = None  # the client hangs up once this many parts were submitted
    gone_after_upload: bool = False  # the client hangs up while its inputs are uploaded
    sigterm_after_submits: int | None = None  # the worker gets SIGTERM once this many parts were submitted
    sigterm_in_upload: bool = False
    shutdown: Shutdown = field(default_factory=lambda: Shutdown(30.0))
    submits: list[DraftSpec] = field(default_factory=list)
    uploads: int = 0
    catalogs: Any = None

    def __post_init__(self) -> None:
        self.catalogs = self

    def cached(self, session_id: str | None, refresh: bool = False) -> Any:
        return CATALOG

    def cost(self, kind: GenerationKind) -> int:
        return 1

    def run(self, sessions: list[str], cost: int, action: Any, *, chosen: str | None = None) -> tuple[str, Any]:
        return sessions[0], action(sessions[0])

    def budget(self) -> None:
        return None

    def ranked(self, sessions: list[str], cost: int, **_: Any) -> list[str]:
        return sessions

    def upload_images(self, session_id: str, images: list[InputImage], *, video: bool) -> list[str]:
        self.uploads += 1
        if self.sigterm_in_upload:
            self.shutdown.begin()
        return ["tos-cn-i-x/1"]

    def submit(self, session_id: str, spec: DraftSpec) -> Submitted:
        self.submits.append(spec)
        if self.sigterm_after_submits is not None and len(self.submits) >= self.sigterm_after_submits:
            self.shutdown.begin()
        return Submitted(history_id=f"h{len(self.submits)}", submit_id=f"s{len(self.submits)}")

    def gone(self) -> bool:
        if self.gone_after_upload and self.uploads:
            return True
        return self.gone_after_submits is not None and len(self.submits) >= self.gone_after_submits


def start(
    fakes: Fakes,
    parts: int,
    inputs: int = 0,
    capacity: Capacity | None = None,
    service: GenerationService | None = None,
    gone: Any = None,
) -> Any:
    svc = service or service_of(fakes, capacity)
    plan = Plan(kind=GenerationKind.IMAGE, model_id="jimeng-4.0", prompt="cats", specs=(SPEC,) * parts)
    images = tuple(InputImage(data=b"png", source="upload", mime="image/png") for _ in range(inputs))
    prepared = Prepared(request=None, plan=plan, inputs=images, catalog=CATALOG)  # type: ignore[arg-type]
    return svc.start(["session"], prepared, client_gone=gone or fakes.gone)


def service_of(fakes: Fakes, capacity: Capacity | None = None, submitters: int = 16) -> GenerationService:
    return GenerationService(
        backend=fakes, planner=fakes, pool=fakes, poller=None, deadlines=Deadlines(image=600, video=1500),  # type: ignore[arg-type]
        uploader=fakes, loader=None, shutdown=fakes.shutdown, capacity=capacity, submitters=submitters,  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_client_gone_before_the_first_submit_gets_nothing_submitted() -> None:
    fakes = Fakes(gone_after_submits=0)
    with pytest.raises(ClientGoneError) as caught:
        start(fakes, parts=3)
    assert caught.value.history_id is None
    assert fakes.submits == []


def test_a_client_gone_after_the_first_part_keeps_that_part_and_submits_no_more() -> None:
    fakes = Fakes(gone_after_submits=1)
    job = start(fakes, parts=3)
    assert job.history_ids == ("h1",)
    assert len(fakes.submits) == 1 and job.refused == ()


def test_a_client_gone_while_its_inputs_were_uploaded_gets_nothing_submitted() -> None:
    fakes = Fakes(gone_after_upload=True)
    with pytest.raises(ClientGoneError):
        start(fakes, parts=1, inputs=2)
    assert (fakes.uploads, fakes.submits) == (1, [])


def test_a_client_that_stays_gets_every_part() -> None:
    fakes = Fakes()
    assert start(fakes, parts=3).history_ids == ("h1", "h2", "h3")


REQUEST = contextvars.ContextVar("REQUEST", default="none")


@dataclass
class WatchedFakes(Fakes):
    """Where and how many submits run: their threads, the request's context they saw, the most at once."""

    threads: set[int] = field(default_factory=set)
    seen: list[str] = field(default_factory=list)
    running: int = 0
    most: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, session_id: str, spec: DraftSpec) -> Submitted:
        with self.lock:
            self.threads.add(threading.get_ident())
            self.seen.append(REQUEST.get())
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.02)  # a submit's round trip: long enough for the others to pile up beside it
        with self.lock:
            self.running -= 1
            return super().submit(session_id, spec)


def test_drafts_are_submitted_on_a_pooled_thread_in_the_callers_context() -> None:
    """A submit is the deepest call a request makes: off the request's own stack, the request keeps only the
    shallow stack it waits on (issue 17: RSS of 1,000 requests in flight)."""
    fakes = WatchedFakes()
    REQUEST.set("request-1")
    job = start(fakes, parts=2)
    assert job.history_ids == ("h1", "h2")
    assert threading.get_ident() not in fakes.threads
    assert fakes.seen == ["request-1", "request-1"]


def test_at_most_submitters_drafts_are_submitted_at_once() -> None:
    fakes = WatchedFakes()
    service = service_of(fakes, submitters=2)
    requests = [threading.Thread(target=start, args=(fakes, 1), kwargs={"service": service}) for _ in range(6)]
    for thread in requests:
        thread.start()
    for thread in requests:
        thread.join(timeout=30)
    assert len(fakes.submits) == 6
    assert fakes.most == 2


def test_a_client_that_leaves_while_its_draft_waits_for_a_free_submitter_gets_nothing_submitted() -> None:
    busy, release = threading.Event(), threading.Event()

    class Slow(Fakes):
        def submit(self, session_id: str, spec: DraftSpec) -> Submitted:
            if spec.prompt == "slow":
                busy.set()
                release.wait(10)
            return super().submit(session_id, spec)

    fakes, left = Slow(), threading.Event()
    service = service_of(fakes, submitters=1)
    plan = Plan(kind=GenerationKind.IMAGE, model_id="jimeng-4.0", prompt="slow",
                specs=(replace(SPEC, prompt="slow"),))  # fmt: skip
    slow = Prepared(request=None, plan=plan, inputs=(), catalog=CATALOG)  # type: ignore[arg-type]
    holder = threading.Thread(target=service.start, args=(["session"], slow))
    holder.start()
    assert busy.wait(10)  # the only submitter is busy
    outcome: list[BaseException] = []

    def waiting() -> None:
        try:
            start(fakes, parts=1, service=service, gone=left.is_set)
        except BaseException as err:
            outcome.append(err)

    requester = threading.Thread(target=waiting)
    requester.start()
    time.sleep(0.2)  # its draft waits for the submitter
    left.set()  # the client hangs up meanwhile
    release.set()
    holder.join(10)
    requester.join(10)
    assert len(fakes.submits) == 1 and isinstance(outcome[0], ClientGoneError)


def test_a_refused_submit_raises_in_the_request_as_before() -> None:
    class Refusing(Fakes):
        def submit(self, session_id: str, spec: DraftSpec) -> Submitted:
            raise ClientGoneError("refused on the submitter")

    with pytest.raises(ClientGoneError, match="refused on the submitter"):
        start(Refusing(), parts=1)


def test_nothing_is_submitted_once_the_worker_is_shutting_down() -> None:
    fakes = Fakes()
    fakes.shutdown.begin()
    with pytest.raises(ServiceRestartingError) as caught:
        start(fakes, parts=2, inputs=1)
    assert caught.value.history_id is None and caught.value.retry_after  # nothing spent: a retry is welcome
    assert (fakes.uploads, fakes.submits) == (0, [])


def test_a_sigterm_while_the_inputs_were_uploaded_submits_nothing() -> None:
    fakes = Fakes(sigterm_in_upload=True)
    with pytest.raises(ServiceRestartingError):
        start(fakes, parts=1, inputs=2)
    assert (fakes.uploads, fakes.submits) == (1, [])


def test_a_sigterm_after_the_first_part_keeps_it_and_reports_the_rest_as_not_submitted() -> None:
    fakes = Fakes(sigterm_after_submits=1)
    job = start(fakes, parts=3)
    assert job.history_ids == ("h1",) and len(fakes.submits) == 1
    assert [type(err) for err in job.refused] == [ServiceRestartingError]


def test_a_sigterm_while_queued_for_a_slot_answers_at_once_with_nothing_submitted(tmp_path: Path) -> None:
    """A request waiting for a free slot would otherwise wait out its deadline, past the grace window, and be
    cut off without an answer when the worker ends."""
    settings = CapacitySettings(cap=1, lease_seconds=5.0, step_seconds=0.02, backoff_seconds=30)
    capacity = Capacity(SqliteStore(str(tmp_path / "state.sqlite3")), settings)
    capacity.acquire(["session"], 1, caller="other", timeout=30).submitted()  # the one slot, taken
    fakes = Fakes()
    outcome: list[BaseException] = []

    def queued() -> None:
        try:
            start(fakes, parts=1, capacity=capacity)
        except BaseException as err:  # the test reads what ended the wait
            outcome.append(err)

    waiting = threading.Thread(target=queued)
    waiting.start()
    while not capacity._store.leases(f"queue:{pool_key(['session'])}"):
        time.sleep(0.01)
    fakes.shutdown.begin()
    waiting.join(timeout=30)
    assert not waiting.is_alive()
    assert [type(err) for err in outcome] == [ServiceRestartingError]
    assert fakes.submits == [] and fakes.uploads == 0
    assert capacity._store.leases(f"queue:{pool_key(['session'])}") == []


def test_each_part_is_logged_from_the_submitter_not_from_the_request() -> None:
    """A greenlet that logs gets a thread object of its own (about 1 KiB held while the request waits)."""
    from loguru import logger

    lines: list[tuple[int, str]] = []
    sink = logger.add(lambda message: lines.append((message.record["thread"].id, message.record["message"])))
    try:
        start(Fakes(), parts=2)
    finally:
        logger.remove(sink)
    submitted = [(thread, text) for thread, text in lines if "submitted on session" in text]
    assert [text.split()[1] for _, text in submitted] == ["h1", "h2"]
    assert threading.get_ident() not in {thread for thread, _ in submitted}
