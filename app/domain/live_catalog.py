"""``LiveCatalog``: each account's live model tables, cached, with ``config/upstream.yml`` as the fallback.

Jimeng's lists differ by account (VIP benefits) and region, so every account key has its own entry, trusted
for the TTL (2026 protocol notes, §7.3 step 1). At most one fetch per key runs at a time, in the background:
a caller with an older value gets it at once, a caller without one waits a bounded time and then gets the
static catalog. So a slow or failing upstream never holds a request (``/v1/models`` or a generation) for
long, and many requests never turn into many fetches. A failed fetch falls back (to the account's last live
tables, else the static catalog) and is tried again after a back-off that doubles up to the TTL, not on
every request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Protocol

from loguru import logger

from app.domain.catalog import Catalog, ImageModel, VideoModel
from app.domain.catalog_merge import LiveModels, M, merge_catalog
from app.domain.tokens import region_of
from app.secrets import mask

RETRY_AFTER_SECONDS = 30.0  # first back-off after a failed fetch; doubles per failure, up to the TTL
FIRST_WAIT_SECONDS = 5.0  # how long a caller without any value for its account waits for the first fetch
MAX_ACCOUNTS = 1024  # entries kept; the least recently refreshed go first (Bearer lists are unbounded)


class ModelTableBackend(Protocol):
    """The upstream's two model lists (``get_common_config``) of one account; may raise anything."""

    def image_models(self, session_id: str) -> LiveModels[ImageModel]: ...

    def video_models(self, session_id: str) -> LiveModels[VideoModel]: ...


def by_account(session_id: str) -> Hashable:
    """The cache key of a session: the account itself."""
    return session_id


def by_region(session_id: str) -> Hashable:
    """The cache key of a session: its region (``us-``, ``sg-`` ... tokens; CN without a prefix): every account
    of a site shares the site's tables, fetched with whichever of its sessions asks first."""
    return region_of(session_id)


def no_label(session_id: str) -> str:
    return ""


def region_label(session_id: str) -> str:
    """How messages name a session's site: ``CN``, ``US`` ..."""
    return region_of(session_id).label


def in_thread(work: Callable[[], None]) -> None:
    """Run a fetch in the background (a greenlet once gevent patched ``threading``)."""
    threading.Thread(target=work, name="model-tables", daemon=True).start()


@dataclass(frozen=True, kw_only=True)
class _Entry:
    catalog: Catalog
    images: LiveModels[ImageModel] | None  # None: no live list (failed, and none before)
    videos: LiveModels[VideoModel] | None
    expires_at: float
    failures: int  # consecutive fetches of which a part failed

    @property
    def live(self) -> bool:
        return self.images is not None or self.videos is not None


class _Flight:
    """One running fetch; waiters block on ``done``."""

    def __init__(self) -> None:
        self.done = threading.Event()


class LiveCatalog:
    """A ``CatalogSource``: ``current(session)`` is that account's merged catalog; it never raises."""

    def __init__(
        self,
        backend: ModelTableBackend,
        static: Catalog,
        *,
        ttl: float,
        retry_after: float = RETRY_AFTER_SECONDS,
        first_wait: float = FIRST_WAIT_SECONDS,
        key: Callable[[str], Hashable] = by_account,
        label: Callable[[str], str] = no_label,
        clock: Callable[[], float] = time.monotonic,
        spawn: Callable[[Callable[[], None]], None] = in_thread,
        max_accounts: int = MAX_ACCOUNTS,
    ) -> None:
        self._backend = backend
        self._static = static
        self._ttl = ttl
        self._retry_after = min(retry_after, ttl)
        self._first_wait = first_wait
        self._key = key
        self._label = label
        self._clock = clock
        self._spawn = spawn
        self._max_accounts = max_accounts
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._flights: dict[Hashable, _Flight] = {}
        self._latest: Hashable | None = None  # the last key that got live tables: what anonymous callers see
        self._guard = threading.Lock()

    @property
    def static(self) -> Catalog:
        return self._static

    def current(self, session_id: str | None = None) -> Catalog:
        """This account's catalog (None: the one cached for any account, never a fetch); never raises."""
        try:
            return self._any() if session_id is None else self._for(session_id)
        except Exception:  # a bug here must not take every request down: the static tables still work
            logger.exception("live model tables failed; answering with the static catalog")
            return self._static

    def cached(self, session_id: str | None = None, *, refresh: bool = False) -> Catalog:
        """This account's tables as known now (stale ones too), else any account's, else the static ones; never
        waits and never raises. ``refresh`` starts a background fetch when they are missing or stale."""
        if session_id is None:
            return self.current(None)
        key = self._key(session_id)
        with self._guard:
            entry = self._entries.get(key)
        if refresh and (entry is None or self._clock() >= entry.expires_at):
            try:
                self._start_fetch(key, session_id)
            except Exception:
                logger.exception("live model tables: could not start a fetch")
        return entry.catalog if entry is not None else self.current(None)

    def invalidate(self, session_id: str | None = None) -> None:
        """Forget an account's tables (all with None); a fetch under way is discarded when it ends."""
        with self._guard:
            if session_id is None:
                self._entries.clear()
                self._flights.clear()
                self._latest = None
                return
            key = self._key(session_id)
            self._entries.pop(key, None)
            self._flights.pop(key, None)
            if self._latest == key:
                self._latest = next((k for k in reversed(self._entries) if self._entries[k].live), None)

    # -- reading ----------------------------------------------------------------------------------------

    def _any(self) -> Catalog:
        with self._guard:
            entry = self._entries.get(self._latest) if self._latest is not None else None
        return entry.catalog if entry is not None else self._static

    def _for(self, session_id: str) -> Catalog:
        key = self._key(session_id)
        with self._guard:
            entry = self._entries.get(key)
            if entry is not None and self._clock() < entry.expires_at:
                return entry.catalog
        flight = self._start_fetch(key, session_id)
        if entry is not None:
            return entry.catalog  # the previous value while the fetch runs
        flight.done.wait(self._first_wait)
        with self._guard:
            entry = self._entries.get(key)
        return entry.catalog if entry is not None else self._static

    # -- fetching ---------------------------------------------------------------------------------------

    def _start_fetch(self, key: Hashable, session_id: str) -> _Flight:
        """The fetch under way for this account, started now if none is (one at a time per account)."""
        with self._guard:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if leader:
            try:
                self._spawn(lambda: self._fetch(key, session_id, flight))
            except Exception:
                with self._guard:  # no fetch runs: let a later request start one
                    if self._flights.get(key) is flight:
                        del self._flights[key]
                raise
        return flight

    def _fetch(self, key: Hashable, session_id: str, flight: _Flight) -> None:
        try:
            images = self._ask("image", self._backend.image_models, session_id)
            videos = self._ask("video", self._backend.video_models, session_id)
            with self._guard:
                if self._flights.get(key) is not flight:
                    return  # invalidated meanwhile: these tables may predate what made us forget them
                self._store(key, self._entry(images, videos, self._entries.get(key), self._label(session_id)))
        except Exception:
            logger.exception("model tables of account {}: fetch failed", mask(session_id))
            with self._guard:
                if self._flights.get(key) is flight:
                    self._store(key, self._entry(None, None, self._entries.get(key), self._label(session_id)))
        finally:
            with self._guard:
                if self._flights.get(key) is flight:
                    del self._flights[key]
            flight.done.set()

    def _ask(self, kind: str, read: Callable[[str], LiveModels[M]], session_id: str) -> LiveModels[M] | None:
        """One list, or None when it failed or listed nothing usable (then the fallback serves)."""
        try:
            answer = read(session_id)
        except Exception as err:
            logger.warning(
                "{} model table of account {} unavailable, using the fallback: {}", kind, mask(session_id), err
            )
            return None
        if not answer.models:
            logger.warning(
                "{} model table of account {} lists no usable model; using the fallback", kind, mask(session_id)
            )
            return None
        return answer

    def _entry(
        self,
        images: LiveModels[ImageModel] | None,
        videos: LiveModels[VideoModel] | None,
        previous: _Entry | None,
        label: str = "",
    ) -> _Entry:
        """Fresh lists where the fetch gave them, else the previous live ones, else none (static). Live tables
        carry the site's ``label`` (messages name it); the static fallback is no site's."""
        failed = images is None or videos is None
        if previous is not None:
            images = previous.images if images is None else images
            videos = previous.videos if videos is None else videos
        failures = ((previous.failures if previous is not None else 0) + 1) if failed else 0
        lifetime = min(self._retry_after * 2 ** (failures - 1), self._ttl) if failed else self._ttl
        catalog = merge_catalog(self._static, images=images, videos=videos)
        if images is not None or videos is not None:
            catalog = replace(catalog, region=label)
        return _Entry(
            catalog=catalog,
            images=images,
            videos=videos,
            expires_at=self._clock() + lifetime,
            failures=failures,
        )

    def _store(self, key: Hashable, entry: _Entry) -> None:
        """Under the guard: keep the entry, drop the least recently refreshed beyond the bound."""
        self._entries[key] = entry
        self._entries.move_to_end(key)
        if entry.live:
            self._latest = key
        while len(self._entries) > self._max_accounts:
            oldest, _ = self._entries.popitem(last=False)
            if oldest == self._latest:
                self._latest = None
