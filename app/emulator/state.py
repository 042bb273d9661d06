"""The emulator's memory: accounts and credits, generations, upload tokens and ImageX uploads.

One lock guards everything; every method is short, so contention stays low even with a thousand jobs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import secrets
import threading
import uuid
from collections.abc import Callable

from app.emulator import timeline

CREDIT_KINDS = ("gift_credit", "purchase_credit", "vip_credit")


@dataclasses.dataclass
class Account:
    session_id: str
    user_id: int
    credits: dict[str, int]
    claimed_days: set[int] = dataclasses.field(default_factory=set)
    compliance_confirmed: bool = True
    settings: dict[str, object] = dataclasses.field(default_factory=dict)
    generations_per_day: dict[int, int] = dataclasses.field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.credits.values())


@dataclasses.dataclass
class Generation:
    """One submitted draft; its status is computed from ``created``, the clock and its ``plan``."""

    history_id: str
    submit_id: str
    session_id: str
    kind: str  # "image", "blend", "video" or a post-edit tool ("normal_hd", "pro_hd", "super_resolution", "painting")
    model: str
    created: float
    plan: timeline.Plan
    width: int
    height: int
    fail_code: str = ""
    invisible_polls: int = 0
    duration_ms: int = 0
    charged: int = 0
    hash_prefix_ok: bool | None = None
    image_uris: tuple[str, ...] = ()  # blend inputs and video frames, as committed through ImageX
    prompt: str = ""
    resolution: str = ""
    benefit_type: str = ""
    gen_count: object = None
    gen_count_placement: str | None = None
    draft_content: str = ""  # as returned in records, with the executed gen_count
    forecast: int = 0  # forecast_generate_cost, seconds
    full_media: bool = False  # a small post-edit result: its files have its real size, not a thumbnail's
    continued: float | None = None  # when the "continue generating" request arrived
    poll_count: int = 0
    first_terminal_answer: float | None = None

    @property
    def duration(self) -> float:
        return self.plan.duration

    @property
    def items(self) -> int:
        return self.plan.items

    @property
    def ready(self) -> float | None:
        """When the status becomes terminal; None while a continuation is awaited."""
        after = timeline.ends_after(self.plan, None if self.continued is None else self.continued - self.created)
        return None if after is None else self.created + after

    def snapshot(self, now: float) -> timeline.Snapshot:
        continued = None if self.continued is None else self.continued - self.created
        return timeline.snapshot(self.plan, now - self.created, continued)


@dataclasses.dataclass
class UploadToken:
    access_key: str
    secret_key: str
    session_token: str
    service_id: str
    expires: float


@dataclasses.dataclass
class StoreSlot:
    """A StoreUri handed out by ApplyImageUpload, with what was uploaded to it."""

    store_uri: str
    auth: str
    session_key: str
    access_key: str
    file_size: int
    uploaded: dict[str, str | int] | None = None  # format, width, height, size, md5 of the bytes
    committed: bool = False


class State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._ids = itertools.count(25_594_898_552_322 + secrets.randbelow(10**9) * 1000)  # 14 digits (5.1)
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.accounts: dict[str, Account] = {}
            self.generations: dict[str, Generation] = {}
            self.by_submit: dict[tuple[str, str], list[str]] = {}
            self.by_session: dict[str, list[str]] = {}
            self.tokens: dict[str, UploadToken] = {}
            self.slots: dict[str, StoreSlot] = {}
            self.session_keys: dict[str, str] = {}
            self.committed: set[str] = set()
            self.homes: dict[str, str] = {}  # session -> its cluster (sites.py)

    def home_cluster(self, session_id: str, cluster: str) -> str:
        """The cluster a session belongs to: the first one it called (sites.py)."""
        with self.lock:
            return self.homes.setdefault(session_id, cluster)

    def account(self, session_id: str, initial: Callable[[], dict[str, int]]) -> Account:
        """The account of a session id, created on first sight with ``initial()`` credits."""
        with self.lock:
            account = self.accounts.get(session_id)
            if account is None:
                digest = hashlib.sha256(session_id.encode()).digest()
                user_id = 10**15 + int.from_bytes(digest[:6], "big") % (9 * 10**15)
                confirmed = "nocompliance" not in session_id  # the compliance scenario (checklist 22)
                account = Account(session_id, user_id, initial(), compliance_confirmed=confirmed)
                self.accounts[session_id] = account
            return account

    def claim(self, account: Account, day: int, grant: int) -> bool:
        """Grant the daily credits once per emulator day; False if already claimed that day."""
        with self.lock:
            if day in account.claimed_days:
                return False
            account.claimed_days.add(day)
            account.credits["gift_credit"] += grant
            return True

    def charge(self, account: Account, cost: int) -> bool:
        """Debit ``cost`` (gift, then purchase, then vip); False, and nothing debited, if too poor."""
        with self.lock:
            if account.total < cost:
                return False
            remaining = cost
            for kind in CREDIT_KINDS:
                taken = min(remaining, account.credits[kind])
                account.credits[kind] -= taken
                remaining -= taken
            return True

    def add(self, build: Callable[[str], Generation]) -> Generation:
        """Store a new generation built with a fresh history id."""
        with self.lock:
            generation = build(str(next(self._ids)))
            self.generations[generation.history_id] = generation
            key = (generation.session_id, generation.submit_id)
            self.by_submit.setdefault(key, []).append(generation.history_id)
            self.by_session.setdefault(generation.session_id, []).append(generation.history_id)
            return generation

    def of_session(self, session_id: str) -> list[Generation]:
        with self.lock:
            return [self.generations[hid] for hid in self.by_session.get(session_id, ())]

    def find(self, session_id: str, history_id: str | None = None, submit_id: str | None = None) -> Generation | None:
        """A generation of this account by history id or submit id (the first one created with it)."""
        with self.lock:
            if history_id is not None:
                generation = self.generations.get(history_id)
                return generation if generation and generation.session_id == session_id else None
            ids = self.by_submit.get((session_id, submit_id or ""))
            return self.generations[ids[0]] if ids else None

    def issue_token(self, service_id: str, expires: float) -> UploadToken:
        token = UploadToken(
            access_key="AKTP" + secrets.token_hex(16).upper(),
            secret_key=secrets.token_urlsafe(30),
            session_token="STS2" + secrets.token_urlsafe(48),
            service_id=service_id,
            expires=expires,
        )
        with self.lock:
            self.tokens[token.access_key] = token
        return token

    def open_slot(self, token: UploadToken, file_size: int) -> StoreSlot:
        store_uri = f"tos-cn-i-{token.service_id}/{uuid.uuid4().hex}"
        slot = StoreSlot(
            store_uri=store_uri,
            auth=f"SpaceKey/{token.service_id}/1/:version:v2:{secrets.token_urlsafe(40)}",
            session_key=secrets.token_urlsafe(48),
            access_key=token.access_key,
            file_size=file_size,
        )
        with self.lock:
            self.slots[store_uri] = slot
            self.session_keys[slot.session_key] = store_uri
        return slot

    def slot_by_session_key(self, session_key: str) -> StoreSlot | None:
        with self.lock:
            store_uri = self.session_keys.get(session_key)
            return self.slots.get(store_uri) if store_uri else None

    def commit(self, slot: StoreSlot) -> None:
        with self.lock:
            slot.committed = True
            self.committed.add(slot.store_uri)

    def is_committed(self, uri: str) -> bool:
        with self.lock:
            return uri in self.committed
