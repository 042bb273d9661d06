"""One intent, one paid generation: Idempotency-Key and SDK retries, through the Procfile's gunicorn (several
workers, and two instances sharing one Redis) and through the official Python SDK."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import openai
import pytest
import requests

from app.emulator import EmulatorServer
from tests.e2e.conftest import FAST_POLLING, Api
from tests.images import image_bytes
from tests.support import gunicorn_server


def service_env(emu: EmulatorServer, **extra: str) -> dict[str, str]:
    polling = {f"POLL_{k.removeprefix('poll_').upper()}": str(v) for k, v in FAST_POLLING.items()}
    return {"JIMENG_BASE_URL": emu.url, "JIMENG_IMAGEX_URL": emu.url, **polling, **extra}


def generations(emu: EmulatorServer) -> int:
    return len(emu.stats().get("generations", {}))


def post(url: str, token: str, body: dict[str, Any], **headers: str) -> requests.Response:
    return requests.post(
        f"{url}/v1/images/generations", json=body, headers={"Authorization": f"Bearer {token}", **headers}, timeout=60
    )


def concurrently(count: int, call: Callable[[int], requests.Response]) -> list[requests.Response]:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(call, range(count)))


@pytest.fixture
def two_workers(emu: EmulatorServer, tmp_path: Path) -> Iterator[str]:
    env = service_env(emu, WEB_CONCURRENCY="2", STATE_DB=str(tmp_path / "state.sqlite3"))
    with gunicorn_server(env) as url:
        yield url


def test_twenty_concurrent_requests_with_one_key_on_two_workers_make_one_generation(
    emu: EmulatorServer, two_workers: str
) -> None:
    token, key = f"sess-{uuid.uuid4().hex}", uuid.uuid4().hex
    body = {"prompt": "a lighthouse [gen=1s]"}
    answers = concurrently(20, lambda _: post(two_workers, token, body, **{"Idempotency-Key": key}))
    assert [a.status_code for a in answers] == [200] * 20, answers[0].text
    assert len({a.json()["history_id"] for a in answers}) == 1
    assert generations(emu) == 1
    again = post(two_workers, token, body, **{"Idempotency-Key": key})  # after the end: the same answer
    assert again.status_code == 200 and again.json()["history_id"] == answers[0].json()["history_id"]
    assert again.json()["data"] and generations(emu) == 1


def test_twenty_concurrent_requests_with_one_key_on_two_instances_sharing_redis(
    emu: EmulatorServer, redis_url: str
) -> None:
    env = service_env(emu, WEB_CONCURRENCY="1", REDIS_URL=redis_url)
    with ExitStack() as stack:
        urls = [stack.enter_context(gunicorn_server(env)) for _ in range(2)]
        token, key = f"sess-{uuid.uuid4().hex}", uuid.uuid4().hex
        body = {"prompt": "a harbour [gen=1s]"}
        answers = concurrently(20, lambda i: post(urls[i % 2], token, body, **{"Idempotency-Key": key}))
    assert [a.status_code for a in answers] == [200] * 20, answers[0].text
    assert len({a.json()["history_id"] for a in answers}) == 1
    assert generations(emu) == 1


def test_a_key_used_with_another_body_is_a_422(api: Api) -> None:
    key = uuid.uuid4().hex
    first = api.post("/v1/images/generations", {"prompt": "a cat", "async": True}, headers={"Idempotency-Key": key})
    assert first.status_code == 202
    other = api.post("/v1/images/generations", {"prompt": "a dog", "async": True}, headers={"Idempotency-Key": key})
    assert other.status_code == 422, other.text
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert other.json()["error"]["param"] == "Idempotency-Key"
    assert len(api.generations()) == 1


def test_a_key_is_scoped_to_the_callers_credentials(api: Api) -> None:
    key, body = uuid.uuid4().hex, {"prompt": "a cat", "async": True}
    mine = api.post("/v1/images/generations", body, headers={"Idempotency-Key": key})
    theirs = api.post(
        "/v1/images/generations", body, headers={"Idempotency-Key": key}, token=f"sess-{uuid.uuid4().hex}"
    )
    assert mine.json()["id"] != theirs.json()["id"]
    assert len(api.generations()) == 2


@pytest.mark.parametrize("key", ["", "a\tb", "x" * 256, "caf\u00e9"])
def test_a_malformed_key_is_a_400_before_any_upstream_call(api: Api, key: str) -> None:
    response = requests.post(
        api.url + "/v1/images/generations",
        data=b'{"prompt": "a cat"}',
        headers={"Authorization": f"Bearer {api.token}", "Idempotency-Key": key.encode("utf-8")},  # type: ignore[dict-item]
        timeout=10,
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "Idempotency-Key"
    assert api.generations() == {}


def test_a_repeat_resumes_in_its_own_mode_streams_included(api: Api) -> None:
    key = uuid.uuid4().hex
    body = {"model": "jimeng-4.5", "messages": [{"role": "user", "content": "a fox [gen=1s]"}], "stream": True}
    headers = {"Idempotency-Key": key}
    with ThreadPoolExecutor(2) as pool:
        streams = list(pool.map(lambda _: api.post("/v1/chat/completions", body, headers=headers), range(2)))
    ids = set()
    for stream in streams:
        assert stream.status_code == 200 and stream.text.rstrip().endswith("data: [DONE]")
        assert '"error"' not in stream.text
        ids |= {
            line.split('"history_id":"')[1].split('"')[0] for line in stream.text.splitlines() if "history_id" in line
        }
    assert len(ids) == 1 and len(api.generations()) == 1


def test_an_sdk_retry_without_a_key_resumes_the_original_generation(api: Api) -> None:
    body = {"prompt": "a fox [gen=1s]", "async": True}
    first = api.post("/v1/images/generations", body, headers={"X-Stainless-Retry-Count": "0"})
    retry = api.post("/v1/images/generations", body, headers={"X-Stainless-Retry-Count": "1"})
    fresh = api.post("/v1/images/generations", body, headers={"X-Stainless-Retry-Count": "0"})
    assert first.json()["id"] == retry.json()["id"] != fresh.json()["id"]
    assert len(api.generations()) == 2


def test_sdk_retry_dedup_can_be_turned_off(start_api: Callable[..., Api]) -> None:
    api = start_api(retry_dedup_seconds=0.0)
    body = {"prompt": "a fox", "async": True}
    api.post("/v1/images/generations", body, headers={"X-Stainless-Retry-Count": "0"})
    api.post("/v1/images/generations", body, headers={"X-Stainless-Retry-Count": "1"})
    assert len(api.generations()) == 2


def test_the_python_sdk_timing_out_on_a_long_generation_pays_once(api: Api) -> None:
    """timeout=2 s on a 5 s generation, default max_retries=2: each retry resumes the first generation."""
    attempts: list[str] = []
    hooks = {"request": [lambda request: attempts.append(request.headers.get("x-stainless-retry-count", "-"))]}
    with openai.DefaultHttpxClient(event_hooks=hooks) as http:
        client = openai.OpenAI(base_url=api.url + "/v1", api_key=api.token, timeout=2.0, http_client=http)
        try:
            result = client.images.generate(prompt="a slow mountain [gen=5s]", model="jimeng-4.5")
            assert result.data  # the third try arrives after the generation finished
        except openai.APITimeoutError:
            pass  # a slower machine: still one generation
    assert attempts[:2] == ["0", "1"]  # the SDK did retry, marking it
    assert len(api.generations()) == 1


def test_every_generating_endpoint_honours_a_key_in_every_mode(api: Api) -> None:
    """Images (async then waiting), multipart edits, videos and chat: each repeat resumes, nothing is paid twice."""
    cases: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("/v1/images/generations", {"json": {"prompt": "a kite [gen=300ms]", "async": True}}, {}),
        (
            "/v1/videos/generations",
            {"json": {"prompt": "waves [gen=300ms]", "model": "jimeng-video-seedance-2.0-fast"}},
            {},
        ),
        (
            "/v1/chat/completions",
            {"json": {"model": "jimeng-4.5", "messages": [{"role": "user", "content": "a kite [gen=300ms]"}]}},
            {},
        ),
        (
            "/v1/images/edits",
            {
                "data": {"prompt": "watercolour [gen=300ms]"},
                "files": {"image": ("a.png", image_bytes("PNG"), "image/png")},
            },
            {},
        ),
    ]
    for path, body, _ in cases:
        key = uuid.uuid4().hex
        before = len(api.generations())
        first = requests.post(
            api.url + path, headers={"Authorization": f"Bearer {api.token}", "Idempotency-Key": key}, timeout=30, **body
        )
        again = requests.post(
            api.url + path,
            headers={"Authorization": f"Bearer {api.token}", "Idempotency-Key": key, "Prefer": "wait"},
            timeout=30,
            **body,
        )
        assert first.status_code in (200, 202) and again.status_code in (200, 202), (path, first.text, again.text)
        ids = [r.json().get("history_id") or r.json().get("id") for r in (first, again)]
        assert ids[0] and ids[0] == ids[1], (path, ids)
        assert len(api.generations()) == before + 1, path


def test_an_async_answer_and_a_waiting_repeat_share_one_generation(api: Api) -> None:
    """Prefer: respond-async is a header, not the body: the same intent may be asked for in either mode."""
    key, body = uuid.uuid4().hex, {"prompt": "a kite [gen=500ms]"}
    accepted = api.post("/v1/images/generations", body, headers={"Idempotency-Key": key, "Prefer": "respond-async"})
    assert accepted.status_code == 202
    waited = api.post("/v1/images/generations", body, headers={"Idempotency-Key": key})
    assert waited.status_code == 200 and len(waited.json()["data"]) == 4
    assert waited.json()["history_id"] == accepted.json()["id"] and len(api.generations()) == 1
