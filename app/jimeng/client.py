"""JimengClient: one method per upstream call, blocking, on a pooled requests session.

Reads (credits, polls, look-ups) are retried on transient failures. A submit never is: the client mints the
``submit_id`` first, and when a submit's answer is lost it asks ``get_history_by_ids`` by that submit id and
continues with the generation it finds; it submits again only when the look-up shows none exists. One job,
at most one paid generation.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from loguru import logger

from app.domain.errors import JimengError, SubmitOutcomeUnknownError, UpstreamUnavailableError
from app.domain.models import Claim, Credits, DraftKind, DraftSpec, Snapshot, Submitted
from app.http import BodyTooLargeError, succeeded
from app.jimeng import drafts, records, signing, video_drafts
from app.jimeng.errors import error_from_envelope
from app.jimeng.ids import new_seed, new_uuid
from app.jimeng.transport import Backoff, TransientError, call, call_json, new_http_session, with_retries
from app.secrets import mask
from config.upstream import CallConfig, UpstreamConfig

SUBMIT_ATTEMPTS = 5  # each retry follows a look-up by submit id that found no generation: never paid twice
LOOKUP_ATTEMPTS = 6


@dataclass(frozen=True)
class ClientConfig:
    """Where and how long to call; no defaults here, because Settings owns them (UPSTREAM_*_TIMEOUT)."""

    base_url: str
    imagex_url: str
    connect_timeout: float
    read_timeout: float

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


class JimengClient:
    def __init__(
        self,
        upstream: UpstreamConfig,
        config: ClientConfig,
        http: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.upstream = upstream
        self.config = config
        self.http = http or new_http_session()
        self._clock = clock
        self._sleep = sleep
        self._rng = random.Random()
        self.calls = upstream.calls

    # -- accounts ---------------------------------------------------------------------------------------

    def account_live(self, session_id: str) -> bool:
        """Passport check (6.1): live when the account has a truthy user_id; a refusal is simply not live."""
        payload = self._read_raw(self.calls.account_info, session_id, None)
        if not isinstance(payload, dict) or str(payload.get("ret", "0")) != "0":
            return False
        data = payload.get("data")
        user_id = (data.get("user_id") if isinstance(data, dict) else None) or payload.get("user_id")
        return bool(user_id)

    def credits(self, session_id: str) -> Credits:
        data = self._read(self.calls.user_credit, session_id, {})
        credit = data.get("credit") if isinstance(data, dict) else None
        if not isinstance(credit, dict):
            raise UpstreamUnavailableError("Jimeng's credit answer has no credit object")
        return Credits(
            records.as_int(credit.get("gift_credit")),
            records.as_int(credit.get("purchase_credit")),
            records.as_int(credit.get("vip_credit")),
        )

    def receive_credits(self, session_id: str) -> Claim:
        body = {"time_zone": "Asia/Shanghai"}
        data = self._read(self.calls.credit_receive, session_id, body)
        data = data if isinstance(data, dict) else {}
        return Claim(records.as_int(data.get("receive_quota")), records.as_int(data.get("cur_total_credits")))

    def upload_token(self, session_id: str) -> dict[str, Any]:
        data = self._read(self.calls.upload_token, session_id, {"scene": self.upstream.imagex.upload_scene})
        return data if isinstance(data, dict) else {}

    # -- generations ------------------------------------------------------------------------------------

    def submit(self, session_id: str, spec: DraftSpec) -> Submitted:
        """Submit one draft; recover a lost answer by looking the submit id up instead of paying twice.

        A video draft refused for its ``benefit_type`` (2026 4.2: ret 5001 or 1000) is sent once more, with a new
        submit id, under the model's captured alternative name: a refused submit created nothing, so this cannot
        pay twice. Any other refusal, and a second one, is the caller's error.
        """
        try:
            return self._submit(session_id, spec, None)
        except JimengError as err:
            if not self._retries_benefit(spec, err):
                raise
            logger.warning(
                "submit refused with ret {} for benefit {}; once more with {}",
                err.ret, spec.benefit_type, spec.benefit_fallback,
            )  # fmt: skip
            return self._submit(session_id, spec, spec.benefit_fallback)

    def _retries_benefit(self, spec: DraftSpec, err: JimengError) -> bool:
        retry_rets = self.upstream.video.benefit_retry_rets
        return spec.kind is DraftKind.VIDEO and bool(spec.benefit_fallback) and err.ret in retry_rets

    def _submit(self, session_id: str, spec: DraftSpec, benefit_type: str | None) -> Submitted:
        """One submit under a fresh submit id, recovered by look-up when its answer is lost."""
        submit_id = new_uuid()
        body = self._draft_body(spec, submit_id, benefit_type)
        call = self.calls.video_generate if spec.kind is DraftKind.VIDEO else self.calls.image_generate
        for attempt in range(SUBMIT_ATTEMPTS):
            try:
                data = self._envelope(self._request(call, session_id, body))
                history_id = _history_id(data)
                if history_id:
                    return Submitted(history_id, submit_id)
                raise TransientError("accepted draft without a history_record_id")
            except TransientError as err:
                logger.warning("submit {} lost its answer: {}", submit_id, err.reason)
                if err.maybe_processed and (found := self.find_by_submit_id(session_id, submit_id)):
                    logger.info("submit {} did reach Jimeng: continuing with generation {}", submit_id, found)
                    return Submitted(found, submit_id)
                if attempt == SUBMIT_ATTEMPTS - 1:
                    raise err.final() from err
                self._sleep(Backoff().delay(attempt, err.status, self._rng))
        raise AssertionError("unreachable")

    def find_by_submit_id(self, session_id: str, submit_id: str) -> str | None:
        """The history id of the generation created with ``submit_id`` (11.8), or None if there is none."""
        body = records.history_body([], config=self.upstream, submit_ids=[submit_id])
        try:
            data = with_retries(
                lambda: self._envelope(self._request(self.calls.history, session_id, body)),
                attempts=LOOKUP_ATTEMPTS,
                sleep=self._sleep,
            )
        except UpstreamUnavailableError as err:
            raise SubmitOutcomeUnknownError(
                f"Jimeng did not answer whether submit {submit_id} created a generation: {err}"
            ) from err
        record = data.get(submit_id) if isinstance(data, dict) else None
        if record is None:
            return None
        return records.read_record(record).history_record_id or None

    def histories(self, session_id: str, history_ids: list[str]) -> dict[str, Snapshot]:
        """One poll for many generations of one account; ids Jimeng does not show are absent."""
        body = records.history_body(history_ids, config=self.upstream)
        data = self._read(self.calls.history, session_id, body)
        views = records.read_records(data)
        return {hid: _snapshot(hid, views[hid]) for hid in history_ids if hid in views}

    def lookup(self, session_id: str, task_id: str) -> Snapshot | None:
        """A generation by history id or submit id (tasks endpoint), or None when the account has none."""
        body = records.history_body([task_id], config=self.upstream, submit_ids=[task_id])
        views = records.read_records(self._read(self.calls.history, session_id, body))
        view = views.get(task_id)
        if view is None:
            return None
        return _snapshot(view.history_record_id or task_id, view)

    def download(self, url: str, max_bytes: int) -> bytes:
        """A result file (not a user URL: no address guard), read with a size cap; lost answers retried."""

        def fetch() -> bytes:
            try:
                reply = call(
                    self.http, "GET", url, timeout=self.config.timeout, max_bytes=max_bytes, read_when=succeeded
                )
            except BodyTooLargeError as err:
                raise UpstreamUnavailableError(f"result file is larger than {max_bytes} bytes") from err
            if not succeeded(reply.status):
                raise UpstreamUnavailableError(f"result download failed with HTTP {reply.status}")
            return reply.body

        return with_retries(fetch, sleep=self._sleep)

    # -- plumbing ---------------------------------------------------------------------------------------

    def _draft_body(self, spec: DraftSpec, submit_id: str, benefit_type: str | None = None) -> dict[str, Any]:
        now_ms = int(self._clock() * 1000)
        seed = spec.seed if spec.seed is not None else new_seed()
        if spec.kind is DraftKind.VIDEO:
            return video_drafts.video_body(
                self.upstream, spec, submit_id=submit_id, seed=seed, now_ms=now_ms, benefit_type=benefit_type
            )
        if spec.kind is DraftKind.BLEND:
            return drafts.blend_body(self.upstream, spec, submit_id=submit_id, now_ms=now_ms)
        return drafts.generate_body(self.upstream, spec, submit_id=submit_id, seed=seed, now_ms=now_ms)

    def _read(self, call: CallConfig, session_id: str, body: Any) -> Any:
        return with_retries(lambda: self._envelope(self._request(call, session_id, body)), sleep=self._sleep)

    def _read_raw(self, call: CallConfig, session_id: str, body: Any) -> Any:
        return with_retries(lambda: self._request(call, session_id, body), sleep=self._sleep)

    def _request(self, call: CallConfig, session_id: str, body: Any) -> Any:
        """One signed POST of ``call`` as the account of ``session_id``: its query set, Referer and cookie."""
        now = int(self._clock())
        web_id = signing.web_id_for(session_id)
        cookie = signing.cookie_header(session_id, web_id=web_id, cookies=self.upstream.cookie)
        headers = signing.signed_headers(self.upstream, call, device_time=str(now), cookie=cookie)
        params = signing.query_params(self.upstream, call, web_id)
        kw: dict[str, Any] = {"json": body} if body is not None else {}
        logger.trace("upstream POST {} as session {}", call.path, mask(session_id))
        return call_json(
            self.http,
            "POST",
            self.config.base_url + call.path,
            timeout=self.config.timeout,
            params=params,
            headers=headers,
            **kw,
        )

    @staticmethod
    def _envelope(payload: Any) -> Any:
        """``data`` of a ``{"ret": "0"}`` envelope; JimengError for a refusal, TransientError if malformed."""
        if not isinstance(payload, dict) or "ret" not in payload:
            raise TransientError("answer without the ret envelope")
        ret = str(payload.get("ret"))
        if ret != "0":
            raise error_from_envelope(ret, str(payload.get("errmsg") or ""))
        return payload.get("data")


def _history_id(data: Any) -> str:
    aigc = data.get("aigc_data") if isinstance(data, dict) else None
    value = aigc.get("history_record_id") if isinstance(aigc, dict) else None
    return str(value) if value not in (None, "") else ""


def _snapshot(history_id: str, view: records.RecordView) -> Snapshot:
    return Snapshot(
        history_id=history_id,
        phase=view.phase,
        status=view.status,
        fail_code=view.fail_code,
        finished=view.finished,
        total=view.total,
        image_urls=view.image_urls,
        video_url=view.video_url or None,
    )
