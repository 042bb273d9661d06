"""Polls read only the records that changed: ``decode_history`` keeps each record raw, ``RecordMemo`` reuses the
last reading of the very same bytes, and ``JimengClient.histories`` reads through it (issue 17)."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from app.domain.errors import JimengError, UpstreamUnavailableError
from app.domain.models import Phase
from app.jimeng import records
from app.jimeng.client import JimengClient
from app.jimeng.records import RecordMemo, decode_history, read_record
from tests import fake_http

SESSION = "0123456789abcdef0123456789abcdef"
URL = "https://p3-dreamina-sign.byteimg.com/tos-cn-i-tb4s082cfz/{}~tplv-x.png?x-expires=1&x-signature=s"
DRAFT = '{"component_list":[{"abilities":{"gen_option":{"gen_count":4}}}]}'


def record(status: int, items: int = 0, *, history_id: str = "25594898552322") -> dict[str, Any]:
    item_list = [{"image": {"large_images": [{"image_url": URL.format(i), "width": 2048, "height": 2048}]},
                  "common_attr": {"id": f"item-{i}"}} for i in range(items)]  # fmt: skip
    return {"history_record_id": history_id, "status": status, "task": {"status": status},
            "finished_image_count": items, "total_image_count": 4, "item_list": item_list, "draft_content": DRAFT}  # fmt: skip


def answer(data: Any, ret: str = "0") -> bytes:
    return json.dumps({"ret": ret, "errmsg": "success", "data": data}).encode()


def raw_record(status: int, items: int = 0) -> msgspec.Raw:
    return decode_history(answer({"s-1": record(status, items)}))["data"]["s-1"]


class CountingReads:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = records.read_record

        def counted(value: Any, **kw: Any) -> records.RecordView:
            self.count += 1
            return original(value, **kw)

        monkeypatch.setattr(records, "read_record", counted)


# -- decoding ------------------------------------------------------------------------------------------------


def test_a_poll_answer_keeps_its_records_raw_and_they_read_as_the_decoded_ones_do() -> None:
    data = {"s-1": record(45, 2), "s-2": record(20)}
    decoded = decode_history(answer(data))
    assert decoded["ret"] == "0" and all(isinstance(value, msgspec.Raw) for value in decoded["data"].values())
    for key, value in data.items():
        assert read_record(decoded["data"][key]) == read_record(value)


@pytest.mark.parametrize(
    "body",
    [
        answer(None, ret="1000"),  # a refusal: decoded whole, for the envelope's reading
        answer([1, 2], ret="0"),  # data of another shape
        b'{"ret": "0", "errmsg": "success"}',
        b'{"ret": 0, "data": "text"}',
    ],
)
def test_any_other_answer_is_decoded_whole(body: bytes) -> None:
    assert decode_history(body) == json.loads(body)


def test_malformed_json_is_a_value_error_as_with_plain_decoding() -> None:
    with pytest.raises(ValueError):
        decode_history(b'{"ret": "0", "data": {"s-1": {')


# -- the memo ------------------------------------------------------------------------------------------------


def test_the_same_bytes_are_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    reads, memo = CountingReads(monkeypatch), RecordMemo()
    first = memo.read("s-1", raw_record(45, 2))
    again = memo.read("s-1", raw_record(45, 2))
    assert again is first and reads.count == 1 and first.finished == 2


def test_a_changed_record_is_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    reads, memo = CountingReads(monkeypatch), RecordMemo()
    memo.read("s-1", raw_record(45, 2))
    changed = memo.read("s-1", raw_record(45, 3))
    assert (changed.finished, len(changed.image_urls), reads.count) == (3, 3, 2)


def test_a_finished_record_is_read_and_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    reads, memo = CountingReads(monkeypatch), RecordMemo()
    memo.read("s-1", raw_record(45, 3))
    done = memo.read("s-1", raw_record(50, 4))
    assert (done.phase, done.executed_count, len(memo)) == (Phase.SUCCEEDED, 4, 0)
    memo.read("s-1", raw_record(50, 4))
    assert reads.count == 3


def test_a_full_memo_starts_over_rather_than_growing() -> None:
    memo = RecordMemo(limit=3)
    for key in ("a", "b", "c", "d"):
        memo.read(key, raw_record(20))
    assert len(memo) == 1


def test_the_draft_is_parsed_only_for_a_record_that_may_be_finished() -> None:
    assert read_record(record(42)).executed_count is None
    assert read_record(record(50, 4)).executed_count == 4


# -- the client ----------------------------------------------------------------------------------------------


def client(script: list[Any]) -> tuple[JimengClient, fake_http.FakeHttp]:
    return fake_http.client_on(script)


def test_polls_read_only_the_records_that_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    running = {"s-1": record(45, 1, history_id="1"), "s-2": record(42, history_id="2")}
    later = {"s-1": record(45, 2, history_id="1"), "s-2": record(42, history_id="2")}
    jimeng, _ = client([answer(running), answer(running), answer(later), answer({**later, "s-2": record(50, 4)})])
    reads = CountingReads(monkeypatch)
    first = jimeng.histories(SESSION, ["s-1", "s-2"])
    assert jimeng.histories(SESSION, ["s-1", "s-2"]) == first and reads.count == 2
    third = jimeng.histories(SESSION, ["s-1", "s-2"])
    assert (third["s-1"].finished, third["s-2"], reads.count) == (2, first["s-2"], 3)
    last = jimeng.histories(SESSION, ["s-1", "s-2"])
    assert (last["s-2"].phase, last["s-2"].image_urls[3], reads.count) == (Phase.SUCCEEDED, URL.format(3), 4)


def test_a_poll_refused_by_jimeng_raises_as_before() -> None:
    jimeng, _ = client([(200, answer(None, ret="1000"))])
    with pytest.raises(JimengError):
        jimeng.histories(SESSION, ["s-1"])


def test_a_malformed_poll_answer_is_retried_then_unavailable() -> None:
    jimeng, http = client([(200, b'{"ret": "0", "data": {')] * 4)
    with pytest.raises(UpstreamUnavailableError):
        jimeng.histories(SESSION, ["s-1"])
    assert len(http.calls) == 4
