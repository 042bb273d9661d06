"""LiveCatalog: per-account cache, TTL, one fetch at a time, fallback with back-off, invalidate."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest

from app.domain.catalog import Catalog, ImageModel, VideoModel
from app.domain.catalog_merge import LiveModels, new_model_id
from app.domain.errors import SessionExpiredError, UpstreamUnavailableError
from app.domain.live_catalog import LiveCatalog
from tests.catalogs import image_model, static_catalog, video_model

TTL = 3600.0


def live_images(*keys: str) -> LiveModels[ImageModel]:
    return LiveModels(models=tuple(replace(image_model(new_model_id(k), k), live=True) for k in keys))


def live_videos(*keys: str) -> LiveModels[VideoModel]:
    return LiveModels(models=tuple(replace(video_model(new_model_id(k), k), live=True) for k in keys))


Answer = LiveModels[ImageModel] | LiveModels[VideoModel] | Exception


@dataclass
class FakeBackend:
    """Answers from two scripts (the last answer repeats); records every call."""

    image_answers: list[Answer] = field(default_factory=lambda: [live_images("high_aes_general_v50")])
    video_answers: list[Answer] = field(default_factory=lambda: [live_videos("dreamina_seedance_40_pro")])
    calls: list[tuple[str, str]] = field(default_factory=list)
    gate: threading.Event | None = None  # when set, image_models waits for it (a slow upstream)

    def image_models(self, session_id: str) -> LiveModels[ImageModel]:
        self.calls.append(("image", session_id))
        if self.gate is not None:
            assert self.gate.wait(10)
        return self._next(self.image_answers)  # type: ignore[return-value]

    def video_models(self, session_id: str) -> LiveModels[VideoModel]:
        self.calls.append(("video", session_id))
        return self._next(self.video_answers)  # type: ignore[return-value]

    @staticmethod
    def _next(answers: list[Answer]) -> Answer:
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def inline(work: Callable[[], None]) -> None:
    work()


def source(backend: FakeBackend, clock: Clock, **kw: object) -> LiveCatalog:
    options: dict[str, object] = {"ttl": TTL, "retry_after": 30.0, "clock": clock, "spawn": inline, **kw}
    return LiveCatalog(backend, static_catalog(), **options)  # type: ignore[arg-type]


def image_ids(catalog: Catalog) -> list[str]:
    return [m.id for m in catalog.images]


def test_live_tables_are_fetched_once_per_account_and_kept_for_the_ttl() -> None:
    backend, clock = FakeBackend(), Clock()
    catalog = source(backend, clock)
    first = catalog.current("session-a")
    assert image_ids(first) == ["jimeng-5.0"] and first.images[0].live
    clock.now += TTL - 1
    assert catalog.current("session-a") is first
    assert backend.calls == [("image", "session-a"), ("video", "session-a")]
    catalog.current("session-b")
    assert len(backend.calls) == 4  # another account: its own tables
    clock.now += 1
    catalog.current("session-a")
    assert backend.calls[-2:] == [("image", "session-a"), ("video", "session-a")]


def test_anonymous_callers_get_a_cached_live_catalog_or_the_static_one_and_never_a_fetch() -> None:
    backend, clock = FakeBackend(), Clock()
    catalog = source(backend, clock)
    assert catalog.current() == static_catalog()
    assert catalog.current(None) is catalog.static
    assert backend.calls == []
    live = catalog.current("session-a")
    assert catalog.current() is live
    assert len(backend.calls) == 2


def test_a_failed_call_falls_back_to_the_static_catalog_and_is_retried_after_a_back_off() -> None:
    backend = FakeBackend(
        image_answers=[UpstreamUnavailableError("down"), UpstreamUnavailableError("down"), live_images("x_new")]
    )
    clock = Clock()
    catalog = source(backend, clock)
    assert catalog.current("s").images == static_catalog().images
    assert [m.id for m in catalog.current("s").videos] == ["jimeng-video-seedance-2.0"]  # the video part worked
    clock.now += 29
    catalog.current("s")
    assert len(backend.calls) == 2  # not on every request
    clock.now += 1
    assert catalog.current("s").images == static_catalog().images  # second failure: back-off doubles to 60 s
    clock.now += 59
    catalog.current("s")
    assert len(backend.calls) == 4
    clock.now += 1
    assert catalog.current("s").images == static_catalog().images  # the previous value while refreshing
    assert image_ids(catalog.current("s")) == ["jimeng-x_new"]
    clock.now += TTL - 1
    catalog.current("s")
    assert len(backend.calls) == 6  # success: trusted for the whole TTL again


def test_the_back_off_never_exceeds_the_ttl() -> None:
    backend, clock = FakeBackend(image_answers=[UpstreamUnavailableError("down")]), Clock()
    catalog = source(backend, clock, ttl=100.0, retry_after=30.0)
    for _ in range(6):
        catalog.current("s")
        clock.now += 100
    assert len(backend.calls) == 12


def test_a_refresh_that_fails_keeps_the_accounts_last_live_tables() -> None:
    backend = FakeBackend(image_answers=[live_images("high_aes_general_v50"), SessionExpiredError("expired")])
    clock = Clock()
    catalog = source(backend, clock)
    catalog.current("s")
    clock.now += TTL
    assert image_ids(catalog.current("s")) == ["jimeng-5.0"]  # stale, but what the account really has


def test_an_empty_list_counts_as_a_failed_call() -> None:
    backend, clock = FakeBackend(video_answers=[live_videos()]), Clock()
    assert source(backend, clock).current("s").videos == static_catalog().videos


def test_invalidate_forgets_one_account_or_all() -> None:
    backend, clock = FakeBackend(image_answers=[live_images("a_key"), live_images("b_key")]), Clock()
    catalog = source(backend, clock)
    catalog.current("s")
    catalog.current("t")
    catalog.invalidate("s")
    assert image_ids(catalog.current("t")) == ["jimeng-b_key"]
    assert len(backend.calls) == 4
    catalog.current("s")
    assert len(backend.calls) == 6  # asked again at once, TTL or not
    catalog.invalidate()
    assert catalog.current() is catalog.static
    catalog.current("t")
    assert len(backend.calls) == 8


def test_the_cache_key_is_a_function_so_accounts_can_share_tables() -> None:
    backend, clock = FakeBackend(), Clock()
    catalog = source(backend, clock, key=lambda session_id: "cn")
    assert catalog.current("s") is catalog.current("t")
    assert len(backend.calls) == 2


def test_the_number_of_accounts_kept_is_bounded() -> None:
    backend, clock = FakeBackend(), Clock()
    catalog = source(backend, clock, max_accounts=2)
    for session in ("a", "b", "c", "a"):
        catalog.current(session)
    assert len(backend.calls) == 8  # "a" was dropped when "c" came


def test_current_never_raises() -> None:
    class Broken:
        def __call__(self, session_id: str) -> str:
            raise RuntimeError("bug")

    catalog = source(FakeBackend(), Clock(), key=Broken())
    assert catalog.current("s") is catalog.static


def test_a_fetch_that_cannot_start_is_started_by_a_later_request() -> None:
    attempts: list[int] = []

    def refuse_once(work: Callable[[], None]) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("can't start new thread")
        work()

    backend = FakeBackend()
    catalog = source(backend, Clock(), spawn=refuse_once)
    assert catalog.current("s") is catalog.static
    assert image_ids(catalog.current("s")) == ["jimeng-5.0"]
    assert len(backend.calls) == 2


# -- concurrency: real threads ---------------------------------------------------------------------------


def run_together(count: int, target: Callable[[], Catalog]) -> list[Catalog]:
    """``target`` in ``count`` threads at once; their results."""
    results: list[Catalog] = []
    threads = [threading.Thread(target=lambda: results.append(target())) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_concurrent_first_callers_share_one_fetch() -> None:
    gate = threading.Event()
    backend = FakeBackend(gate=gate)
    catalog = LiveCatalog(backend, static_catalog(), ttl=TTL, first_wait=10)
    threading.Timer(0.2, gate.set).start()
    results = run_together(20, lambda: catalog.current("s"))
    assert len(results) == 20
    assert all(image_ids(r) == ["jimeng-5.0"] for r in results)
    assert backend.calls == [("image", "s"), ("video", "s")]


def test_while_a_refresh_runs_callers_get_the_previous_value_at_once() -> None:
    clock, backend = Clock(), FakeBackend(image_answers=[live_images("old_key"), live_images("new_key")])
    catalog = LiveCatalog(backend, static_catalog(), ttl=TTL, clock=clock)
    assert image_ids(catalog.current("s")) == ["jimeng-old_key"]
    gate = backend.gate = threading.Event()
    clock.now += TTL
    started = time.monotonic()
    results = run_together(20, lambda: catalog.current("s"))
    assert time.monotonic() - started < 2
    assert all(image_ids(r) == ["jimeng-old_key"] for r in results)
    gate.set()
    deadline = time.monotonic() + 5
    while image_ids(catalog.current("s")) != ["jimeng-new_key"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert image_ids(catalog.current("s")) == ["jimeng-new_key"]
    assert len(backend.calls) == 4


def test_a_slow_first_fetch_is_waited_for_a_bounded_time_then_the_static_catalog_answers() -> None:
    gate = threading.Event()
    backend = FakeBackend(gate=gate)
    catalog = LiveCatalog(backend, static_catalog(), ttl=TTL, first_wait=0.1)
    started = time.monotonic()
    assert catalog.current("s") is catalog.static
    assert time.monotonic() - started < 2
    gate.set()
    deadline = time.monotonic() + 5
    while catalog.current() is catalog.static and time.monotonic() < deadline:
        time.sleep(0.01)
    assert image_ids(catalog.current("s")) == ["jimeng-5.0"]
    assert len(backend.calls) == 2


@pytest.mark.parametrize("forget", ["s", None])
def test_a_fetch_that_started_before_invalidate_is_discarded(forget: str | None) -> None:
    gate = threading.Event()
    backend = FakeBackend(gate=gate, image_answers=[live_images("before_key"), live_images("after_key")])
    catalog = LiveCatalog(backend, static_catalog(), ttl=TTL, first_wait=0.5)
    assert catalog.current("s") is catalog.static  # the first fetch is still waiting at the gate
    catalog.invalidate(forget)
    gate.set()
    time.sleep(0.2)
    assert catalog.current() is catalog.static  # the early answer was not kept
    assert image_ids(catalog.current("s")) == ["jimeng-after_key"]
