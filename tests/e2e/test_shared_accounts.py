"""Account state shared by the workers through the store: N gunicorn workers make one credit call per account
per cache period (emulator stats)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from app.emulator import EmulatorServer
from tests.e2e.test_idempotency import service_env
from tests.support import gunicorn_server

SESSIONS = ("shared-account-one", "shared-account-two")
CREDIT_PATH = "/commerce/v1/benefits/user_credit"


def test_four_workers_make_one_credit_call_per_account_per_period(emu: EmulatorServer, tmp_path: Path) -> None:
    env = service_env(
        emu, WEB_CONCURRENCY="4", STATE_DB=str(tmp_path / "state.sqlite3"), JIMENG_SESSION_IDS=",".join(SESSIONS),
        API_KEYS="shared-key", CREDIT_CACHE_SECONDS="600", SESSION_CONCURRENCY="0",
    )  # fmt: skip

    def one(index: int) -> int:
        answer = requests.post(
            f"{url}/v1/images/generations", json={"prompt": f"shared {index}"},
            headers={"Authorization": "Bearer shared-key"}, timeout=60,
        )  # fmt: skip
        return answer.status_code

    with gunicorn_server(env) as url, ThreadPoolExecutor(24) as pool:
        statuses = list(pool.map(one, range(24)))
    assert statuses == [200] * 24
    calls = emu.stats()["requests"]["by_path"].get(CREDIT_PATH, 0)
    assert calls == len(SESSIONS), calls


def test_a_session_refused_by_risk_control_rests_in_every_worker(emu: EmulatorServer, tmp_path: Path) -> None:
    """The emulator refuses every submit of a session named "shark" (1019): across two workers it is tried
    once, the requests fail over to the good session, and a request with it alone is answered without Jimeng."""
    pool = "risk-shark-session,risk-good-session"
    env = service_env(
        emu, WEB_CONCURRENCY="2", STATE_DB=str(tmp_path / "state.sqlite3"), SESSION_CONCURRENCY="0",
    )  # fmt: skip

    def one(index: int, token: str = pool) -> requests.Response:
        return requests.post(
            f"{url}/v1/images/generations", json={"prompt": f"resting {index} [gen=0.5s]"},
            headers={"Authorization": f"Bearer {token}"}, timeout=60,
        )  # fmt: skip

    with gunicorn_server(env) as url:
        refused = one(0, "risk-shark-session")  # Jimeng refuses it once: answered in Jimeng's words
        with ThreadPoolExecutor(6) as workers:
            pooled = list(workers.map(one, range(1, 9)))  # both workers: none submits on the resting session
        alone = one(99, "risk-shark-session")
    assert refused.status_code == 403 and "Retry-After" not in refused.headers, refused.headers
    assert [r.status_code for r in pooled] == [200] * 8
    assert emu.stats()["refusals"].get("risk_shark") == 1, emu.stats()["refusals"]
    assert alone.status_code == 403 and alone.json()["error"]["code"] == "risk_control", alone.text
    assert int(alone.headers["Retry-After"]) > 1700
