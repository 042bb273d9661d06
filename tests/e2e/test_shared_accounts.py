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
