"""Per-session caps and the fair queue (app/domain/capacity.py) over a real store (SQLite; Redis in e2e)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from app.domain.capacity import Capacity, CapacitySettings, Place, fair_order, pool_key, review, slot_key
from app.domain.errors import ClientGoneError, GenerationTimeoutError
from app.state import SqliteStore


def places(*spec: tuple[int, str]) -> list[Place]:
    return [Place(seq, caller, f"t{seq}") for seq, caller in spec]


def test_fair_order_takes_turns_between_callers_and_keeps_each_callers_order() -> None:
    waiting = places((1, "a"), (2, "a"), (3, "a"), (4, "b"), (5, "c"), (6, "b"))
    assert [(p.seq, p.caller) for p in fair_order(waiting)] == [
        (1, "a"), (4, "b"), (5, "c"), (2, "a"), (6, "b"), (3, "a"),
    ]  # fmt: skip


def test_review_lets_only_each_callers_first_try_while_slots_are_free() -> None:
    waiting = places((1, "a"), (2, "a"), (4, "b"), (5, "c"))
    verdicts = review(waiting, admitted=[], free=2)
    assert verdicts[waiting[0].member] == (0, True)  # a's first
    assert verdicts[waiting[2].member] == (1, True)  # b's first
    assert verdicts[waiting[3].member] == (2, False)  # c: no free slot left for it
    assert verdicts[waiting[1].member] == (3, False)  # a's second waits for a's first


def test_review_holds_a_callers_next_request_until_its_admitted_one_submitted() -> None:
    waiting = places((7, "a"), (8, "b"))
    verdicts = review(waiting, admitted=places((3, "a")), free=5)
    assert verdicts[waiting[0].member] == (0, False)
    assert verdicts[waiting[1].member] == (1, True)


def make(tmp_path: Path, cap: int = 1, lease: float = 5.0) -> Capacity:
    settings = CapacitySettings(cap=cap, lease_seconds=lease, step_seconds=0.02, backoff_seconds=30)
    return Capacity(SqliteStore(str(tmp_path / "state.sqlite3")), settings)


def test_a_full_session_makes_the_next_request_wait_until_a_part_ends(tmp_path: Path) -> None:
    capacity = make(tmp_path, cap=1)
    first = capacity.acquire(["s1"], 1, caller="x", timeout=30)
    capacity.attach(first, ["h1"])
    first.submitted()
    got: list[str] = []
    told: list[int] = []
    waiting = threading.Thread(
        target=lambda: got.append(capacity.acquire(["s1"], 1, caller="y", timeout=30, on_wait=told.append).session_id)
    )
    waiting.start()
    while not told:
        time.sleep(0.01)
    assert got == [] and told == [0]  # nobody ahead, but no free slot
    assert capacity.running("s1") == 1
    capacity.finish("h1")
    waiting.join(timeout=30)
    assert got == ["s1"]


def test_slots_are_spread_over_the_pool_and_never_exceed_the_cap(tmp_path: Path) -> None:
    capacity = make(tmp_path, cap=2)
    grants = [capacity.acquire(["s1", "s2"], 1, caller=f"c{i}", timeout=30) for i in range(4)]
    for grant in grants:
        grant.submitted()
    assert sorted(g.session_id for g in grants) == ["s1", "s1", "s2", "s2"]
    assert capacity.running("s1") == capacity.running("s2") == 2
    with pytest.raises(GenerationTimeoutError, match="nothing was submitted"):
        capacity.acquire(["s1", "s2"], 1, caller="late", timeout=0.2)
    grants[0].release()
    assert capacity.acquire(["s1", "s2"], 1, caller="late", timeout=30).session_id == grants[0].session_id


def test_a_request_of_several_parts_takes_a_slot_per_part_up_to_the_cap(tmp_path: Path) -> None:
    capacity = make(tmp_path, cap=2)
    grant = capacity.acquire(["s1"], 3, caller="x", timeout=30)
    assert grant.held == 2
    capacity.attach(grant, ["h1"])  # one part accepted: the other slot is released
    assert capacity.running("s1") == 1


def test_a_client_that_leaves_while_waiting_leaves_the_queue(tmp_path: Path) -> None:
    capacity = make(tmp_path, cap=1)
    capacity.acquire(["s1"], 1, caller="x", timeout=30).submitted()
    with pytest.raises(ClientGoneError):
        capacity.acquire(["s1"], 1, caller="y", timeout=30, client_gone=lambda: True)
    assert capacity._store.leases(f"queue:{pool_key(['s1'])}") == []


def test_each_callers_requests_are_admitted_in_arrival_order(tmp_path: Path) -> None:
    capacity = make(tmp_path, cap=1)
    blocker = capacity.acquire(["s1"], 1, caller="z", timeout=30)
    blocker.submitted()
    admitted: list[str] = []
    lock = threading.Lock()

    def run(caller: str, index: int) -> None:
        grant = capacity.acquire(["s1"], 1, caller=caller, timeout=60)
        with lock:
            admitted.append(f"{caller}{index}")
        grant.release()

    threads = []
    for index in range(3):
        for caller in ("a", "b"):
            thread = threading.Thread(target=run, args=(caller, index))
            thread.start()
            threads.append(thread)
            time.sleep(0.05)  # arrival order: a0 b0 a1 b1 a2 b2
    blocker.release()
    for thread in threads:
        thread.join(timeout=60)
    assert [x for x in admitted if x[0] == "a"] == ["a0", "a1", "a2"]
    assert [x for x in admitted if x[0] == "b"] == ["b0", "b1", "b2"]
    assert len(admitted) == 6


def test_a_request_queued_again_keeps_its_place_before_its_callers_later_requests(tmp_path: Path) -> None:
    capacity = make(tmp_path, cap=1)
    first = capacity.acquire(["s1"], 1, caller="a", timeout=30)
    earlier = first.arrival
    first.release()  # Jimeng said 1010: the request gives its slot back and queues again
    blocker = capacity.acquire(["s1"], 1, caller="z", timeout=30)
    blocker.submitted()
    admitted: list[str] = []

    def run(name: str, arrival: int | None) -> None:
        grant = capacity.acquire(["s1"], 1, caller="a", timeout=60, arrival=arrival)
        admitted.append(name)
        grant.release()

    later = threading.Thread(target=run, args=("later", None))
    later.start()
    time.sleep(0.1)  # the caller's next request is in line first
    again = threading.Thread(target=run, args=("again", earlier))
    again.start()
    time.sleep(0.1)
    blocker.release()
    later.join(timeout=30)
    again.join(timeout=30)
    assert admitted == ["again", "later"]  # by arrival, not by when it queued again


def test_slots_of_a_process_that_stops_renewing_free_themselves(tmp_path: Path) -> None:
    dead = make(tmp_path, cap=1, lease=0.3)
    dead.acquire(["s1"], 1, caller="x", timeout=30)
    dead._held.clear()  # as if the worker died: nothing renews its slot any more
    dead._order.clear()
    alive = make(tmp_path, cap=1, lease=5.0)
    assert alive.acquire(["s1"], 1, caller="y", timeout=30).session_id == "s1"


def test_a_1010_lowers_the_cap_for_a_while_but_keeps_one_slot(tmp_path: Path) -> None:
    capacity = make(tmp_path, cap=3)
    capacity.cool("s1")
    capacity.cool("s1")
    capacity.cool("s1")  # a third would leave no slot: not added
    members = capacity._store.leases(slot_key("s1"))
    assert len(members) == 2 and all(m.startswith("~cool") for m in members)
    assert capacity.acquire(["s1"], 1, caller="x", timeout=30).held == 1
    with pytest.raises(GenerationTimeoutError):
        capacity.acquire(["s1"], 1, caller="y", timeout=0.2)


def test_an_abandoned_part_is_not_renewed_and_frees_its_slot_within_the_lease(tmp_path: Path) -> None:
    capacity = make(tmp_path, cap=1, lease=0.3)
    grant = capacity.acquire(["s1"], 1, caller="x", timeout=30)
    capacity.attach(grant, ["h1"])
    grant.submitted()
    capacity.abandon("h1")
    assert not capacity.holds("h1")
    assert capacity.acquire(["s1"], 1, caller="y", timeout=30).session_id == "s1"  # after the lease ran out
