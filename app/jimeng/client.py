"""JimengClient: one method per upstream call, blocking, on a pooled requests session.

Reads (credits, polls, look-ups) are retried on transient failures. A submit never is blindly: the client mints
the ``submit_id`` first, and when a submit's answer is lost or late it keeps asking ``get_history_by_ids`` by
that submit id for a settle period (``SUBMIT_SETTLE_SECONDS``: a slow Jimeng may record the draft well after
our read timeout) and continues with the generation it finds. It submits again, under a new submit id, only
when a look-up made after the settle period still answers that none exists; when the look-ups never answer,
the outcome is unknown and reported with the submit id. One job, at most one paid generation.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import requests
from loguru import logger

from app.domain.catalog import ImageModel, VideoModel
from app.domain.catalog_merge import LiveModels
from app.domain.errors import (
    DomainError,
    JimengError,
    NotFoundError,
    SubmitOutcomeUnknownError,
    UpstreamUnavailableError,
)
from app.domain.models import Claim, Credits, DraftKind, DraftSpec, Phase, Snapshot, Submitted
from app.domain.tokens import Credential, Region, parse_token, shown_proxy
from app.http import BodyTooLargeError, succeeded
from app.jimeng import catalog, drafts, post_edit_drafts, records, signing, video_drafts
from app.jimeng.errors import TRANSIENT_RETS, content_refused, error_from_envelope, error_from_fail_code
from app.jimeng.ids import new_seed, new_uuid
from app.jimeng.transport import Backoff, Decode, TransientError, call, call_json, new_http_session, with_retries
from app.secrets import mask
from config.upstream import CallConfig, RegionConfig, UpstreamConfig

SUBMIT_ATTEMPTS = 5  # each retry follows a settle period whose last look-up found no generation: never paid twice
LOOKUP_ATTEMPTS = 6  # look-ups that may fail after the settle period before the outcome is called unknown
SETTLE_FIRST_DELAY = 0.5  # seconds between the first look-ups of a settle period; doubling ...
SETTLE_MAX_DELAY = 5.0  # ... up to this
# A submit answered at once with 502/503/500 was refused by Jimeng's front (the emulator's faults too); if it did
# act, the record exists by the time the error arrives, so a short settle suffices. A late answer (read timeout,
# a gateway's 504, a connection lost after sending) gets the whole SUBMIT_SETTLE_SECONDS.
ANSWERED_SETTLE_SECONDS = 3.0
WRONG_CLUSTER_RET = "1015"  # [2026 9.1] an account on another cluster's host; also an expired session's answer


@dataclass(frozen=True)
class RegionHosts:
    """One international site's base URLs (settings JIMENG_<REGION>_*_URL)."""

    base_url: str  # /mweb and /passport
    commerce_url: str  # /commerce
    imagex_url: str  # ImageX OpenAPI; its scheme is used for upload hosts
    alt_base_url: str = ""  # the region's alternative host (US: ...-ttp2, 2026 9.1); "" = none
    alt_commerce_url: str = ""

    @property
    def alternative(self) -> RegionHosts | None:
        """The same site on its alternative hosts (each of which knows its way back), or None."""
        if not self.alt_base_url:
            return None
        return RegionHosts(
            self.alt_base_url, self.alt_commerce_url or self.alt_base_url, self.imagex_url,
            alt_base_url=self.base_url, alt_commerce_url=self.commerce_url,
        )  # fmt: skip


@dataclass(frozen=True)
class ClientConfig:
    """Where and how long to call; no defaults here, because Settings owns them (UPSTREAM_*_TIMEOUT).
    ``base_url``/``imagex_url`` are CN's; ``regions`` the international sites' (a missing one uses CN's URLs);
    ``default_proxy`` (JIMENG_PROXY) carries the calls of every session whose token names no proxy."""

    base_url: str
    imagex_url: str
    connect_timeout: float
    read_timeout: float
    submit_settle_seconds: float  # how long a lost submit's id is looked up before it is submitted again
    regions: Mapping[Region, RegionHosts] = field(default_factory=dict)
    default_proxy: str = ""
    prefer_watermark_free: bool = True  # PREFER_WATERMARK_FREE: images' large images, videos' main_url [5.6]
    workspace_ttl: float = 21600.0  # WORKSPACE_TTL_SECONDS: how long an account's workspace id is reused [9.3]

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    def hosts(self, region: Region) -> RegionHosts:
        cn = RegionHosts(self.base_url, self.base_url, self.imagex_url)
        return cn if region is Region.CN else self.regions.get(region, cn)


@dataclass(frozen=True)
class Site:
    """Where and as whom one token's calls go: its bare session id, region constants, hosts and proxy."""

    credential: Credential
    constants: RegionConfig
    hosts: RegionHosts
    proxy: str

    @property
    def session_id(self) -> str:
        return self.credential.session_id

    @property
    def region(self) -> Region:
        return self.credential.region

    def transport(self) -> dict[str, Any]:
        """Keyword arguments of a call through this site's proxy (none when direct): ``requests``' proxies and a
        message prefix that names the proxy, masked, so a failing proxy is told apart from a failing Jimeng."""
        if not self.proxy:
            return {}
        return {
            "proxies": {"http": self.proxy, "https": self.proxy},
            "prefix": f"via proxy {shown_proxy(self.proxy)}: ",
        }


class JimengClient:
    def __init__(
        self,
        upstream: UpstreamConfig,
        config: ClientConfig,
        http: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        reading: catalog.TableReading | None = None,
    ) -> None:
        self.upstream = upstream
        self.config = config
        self.http = http or new_http_session()
        self._clock = clock
        self._sleep = sleep
        self._rng = random.Random()
        self.calls = upstream.calls
        self.reading = reading or catalog.TableReading()
        self._on_alternative: set[tuple[Region, str]] = set()  # accounts that answer on their region's other host
        self._workspaces: dict[tuple[Region, str], tuple[int, float]] = {}  # account -> (workspace id, until)
        self._workspace_locks: dict[tuple[Region, str], threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._memo = records.RecordMemo()  # polls: records unchanged since the last look are not read again

    def site(self, token: str) -> Site:
        """The token's session, region and proxy (its own, else JIMENG_PROXY); MissingSessionError if unusable.
        Its hosts are the region's, or its alternative ones once the account was found to answer only there."""
        credential = parse_token(token)
        hosts = self.config.hosts(credential.region)
        if (credential.region, credential.session_id) in self._on_alternative and hosts.alternative is not None:
            hosts = hosts.alternative
        return Site(
            credential=credential,
            constants=self.upstream.regions[credential.region.value],
            hosts=hosts,
            proxy=credential.proxy or self.config.default_proxy,
        )

    def workspace_id(self, session_id: str) -> int:
        """The account's workspace (``workspace/list`` → ``data.workspaces[0].workspace_id``, 2026 9.3), which
        international drafts carry; one look-up per account per WORKSPACE_TTL_SECONDS (concurrent first submits
        wait for one look-up). A failure is raised before anything is submitted: nothing is paid."""
        site = self.site(session_id)
        key = (site.region, site.session_id)
        with self._locks_lock:
            lock = self._workspace_locks.setdefault(key, threading.Lock())
        with lock:
            cached = self._workspaces.get(key)
            if cached is not None and self._clock() < cached[1]:
                return cached[0]
            try:
                data = self._read(self.calls.workspace_list, session_id, {})
            except UpstreamUnavailableError as err:
                raise UpstreamUnavailableError(
                    f"Dreamina's workspace look-up failed, so nothing was submitted: {err.message}"
                ) from err
            workspace = records.first_workspace(data)
            if workspace is None:
                raise UpstreamUnavailableError(
                    "Dreamina named no workspace for this account (workspace/list), so nothing was submitted"
                )
            self._workspaces[key] = (workspace, self._clock() + self.config.workspace_ttl)
            return workspace

    def _abroad(self, session_id: str) -> drafts.Abroad | None:
        """What this account's drafts add on its site (9.3), or None on a site without workspaces (CN)."""
        constants = self.site(session_id).constants
        if not constants.draft_workspace:
            return None
        return drafts.Abroad(self.workspace_id(session_id), scene_options=constants.image_scene_options)

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

    # -- model tables (the domain's ModelTableBackend) ------------------------------------------------

    def image_models(self, session_id: str) -> LiveModels[ImageModel]:
        """The account's image models (``get_common_config``, body ``{}``); parsing never raises."""
        return catalog.read_image_models(self._read(self.calls.image_config, session_id, {}), self.reading)

    def video_models(self, session_id: str) -> LiveModels[VideoModel]:
        """The account's available video models, asking with each body form until one lists models."""
        data = catalog.first_video_answer(
            lambda body: self._read(self.calls.video_config, session_id, body), self.reading
        )
        return catalog.read_video_models(data, self.reading)

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
        """One submit, recovered by look-ups when its answer is lost; sent again (under a new submit id, so two
        records never share one) only when it cannot have created a generation or the settle period says none."""
        call = self.calls.video_generate if spec.kind is DraftKind.VIDEO else self.calls.image_generate
        abroad = self._abroad(session_id)  # before any submit: a failed workspace look-up costs nothing
        for attempt in range(SUBMIT_ATTEMPTS):
            submit_id = new_uuid()
            body = self._draft_body(
                spec, submit_id, benefit_type, aid=self.site(session_id).constants.aid, abroad=abroad
            )
            try:
                data = self._envelope(self._request(call, session_id, body))
                history_id, queue = records.submitted_view(data)
                if history_id:
                    return Submitted(history_id=history_id, submit_id=submit_id, forecast_seconds=_forecast(queue))
                raise TransientError("accepted draft without a history_record_id")
            except TransientError as err:
                logger.warning("submit {} lost its answer: {}", submit_id, err.reason)
                if err.maybe_processed and (found := self._settle(session_id, submit_id, self._settle_period(err))):
                    logger.info("submit {} did reach Jimeng: continuing with generation {}", submit_id, found)
                    return Submitted(history_id=found, submit_id=submit_id)
                if attempt == SUBMIT_ATTEMPTS - 1:
                    raise err.final() from err
                if not err.maybe_processed:  # refused before processing: a short pause, as for any retry
                    self._sleep(Backoff().delay(attempt, err.status, self._rng))
        raise AssertionError("unreachable")

    def _settle_period(self, err: TransientError) -> float:
        answered = err.answered and err.status != 504
        full = self.config.submit_settle_seconds
        return min(full, ANSWERED_SETTLE_SECONDS) if answered else full

    def _settle(self, session_id: str, submit_id: str, period: float) -> str | None:
        """After a submit whose answer was lost: the history id of the generation it created, or None when a
        look-up made once the settle period had passed still shows none. Jimeng may record a slow submit late,
        so a "none" before then proves nothing: look-ups (free) run at growing intervals until the period
        ends, their failures ignored; the last one is retried as any read is, and when it never answers the
        outcome is unknown: SubmitOutcomeUnknownError with the submit id."""
        deadline = self._clock() + period
        delay, lookups = SETTLE_FIRST_DELAY, 0
        while self._clock() < deadline:
            lookups += 1
            try:
                if found := self.find_by_submit_id(session_id, submit_id):
                    return found
            except (TransientError, JimengError) as err:
                logger.info("look-up {} of submit {} failed: {}", lookups, submit_id, err)
            self._sleep(min(delay, max(deadline - self._clock(), 0.0)))
            delay = min(delay * 2, SETTLE_MAX_DELAY)
        try:
            found = with_retries(
                lambda: self.find_by_submit_id(session_id, submit_id),
                attempts=LOOKUP_ATTEMPTS,
                sleep=self._sleep,
                rng=self._rng,
            )
        except JimengError as err:
            raise SubmitOutcomeUnknownError(
                f"Jimeng did not answer whether submit {submit_id} created a generation: {err.message}; "
                f"fetch it later with GET /v1/tasks/{submit_id}",
                task_id=submit_id,
            ) from err
        if not found:
            logger.info("submit {}: no generation after the settle period; it never reached Jimeng", submit_id)
        return found

    def find_by_submit_id(self, session_id: str, submit_id: str) -> str | None:
        """The history id of the generation created with ``submit_id``, or None if Jimeng shows none (yet).
        One call: TransientError or JimengError when it was not answered (the caller decides about retries)."""
        body = records.history_body(submit_ids=[submit_id])
        data = self._envelope(self._request(self.calls.history, session_id, body))
        record = data.get(submit_id) if isinstance(data, dict) else None
        if record is None:
            return None
        return records.read_record(record).history_record_id or None

    def histories(self, session_id: str, submit_ids: list[str]) -> dict[str, Snapshot]:
        """One poll for many generations of one account, by submit id as the web app polls [5.4]; ids Jimeng
        does not show are absent. Queued records without queue details get them from one more call."""
        body = records.history_body(submit_ids=submit_ids)
        data = self._read(self.calls.history, session_id, body, decode=records.decode_history)
        data = data if isinstance(data, Mapping) else {}
        free = self.config.prefer_watermark_free
        views = {sid: self._memo.read(sid, data[sid], watermark_free=free) for sid in submit_ids if sid in data}
        waiting = [v.history_record_id for v in views.values() if _needs_queue_info(v)]
        queues = self._queues(session_id, waiting) if waiting else {}
        return {sid: _snapshot(view, queues.get(view.history_record_id)) for sid, view in views.items()}

    def lookup(self, session_id: str, task_id: str) -> Snapshot | None:
        """A generation by history id or submit id (tasks endpoint), or None when the account has none."""
        body = records.history_body(history_ids=[task_id], submit_ids=[task_id])
        answer = self._read(self.calls.history, session_id, body)
        view = records.read_records(answer, watermark_free=self.config.prefer_watermark_free).get(task_id)
        if view is None:
            return None
        if not view.history_record_id:
            view = replace(view, history_record_id=task_id)
        queues = self._queues(session_id, [view.history_record_id]) if _needs_queue_info(view) else {}
        return _snapshot(view, queues.get(view.history_record_id))

    def hd_video_url(self, session_id: str, item_id: str) -> str | None:
        """The watermark-free file of a finished video [5.6], or None (the record's preview URL is then used;
        always with PREFER_WATERMARK_FREE off, without asking)."""
        if not self.config.prefer_watermark_free:
            return None
        body = {
            "item_id_list": [item_id],
            "pack_item_opt": {"scene": 1, "need_data_integrity": True},
            "is_for_video_download": True,
        }
        try:
            data = with_retries(
                lambda: self._envelope(self._request(self.calls.local_items, session_id, body)),
                attempts=2,
                sleep=self._sleep,
            )
            return records.hd_video_url(data) or None
        except JimengError as err:
            logger.info("no watermark-free file for video item {}: {}", item_id, err)
            return None

    def _queues(self, session_id: str, history_ids: list[str]) -> dict[str, records.QueueView]:
        """Queue positions of waiting jobs [5.5]; one attempt: a failure only costs the detail, never the poll."""
        try:
            data = self._envelope(self._request(self.calls.queue_info, session_id, records.queue_body(history_ids)))
            return records.read_queues(data)
        except TransientError as err:
            logger.debug("queue info of {} jobs not available: {}", len(history_ids), err.reason)
            return {}
        except JimengError as err:
            logger.debug("queue info of {} jobs not available: {}", len(history_ids), err)
            return {}

    def download(self, url: str, max_bytes: int, session_id: str | None = None) -> bytes:
        """A result file (not a user URL: no address guard), read with a size cap; lost answers retried. With
        ``session_id`` it goes through that session's proxy."""
        via = self.site(session_id).transport() if session_id else {}

        def fetch() -> bytes:
            try:
                reply = call(
                    self.http, "GET", url, timeout=self.config.timeout, max_bytes=max_bytes, read_when=succeeded,
                    **via,
                )  # fmt: skip
            except BodyTooLargeError as err:
                raise UpstreamUnavailableError(f"result file is larger than {max_bytes} bytes") from err
            if not succeeded(reply.status):
                raise UpstreamUnavailableError(f"result download failed with HTTP {reply.status}")
            return reply.body

        return with_retries(fetch, sleep=self._sleep)

    # -- plumbing ---------------------------------------------------------------------------------------

    def _draft_body(
        self,
        spec: DraftSpec,
        submit_id: str,
        benefit_type: str | None = None,
        *,
        aid: int | None = None,
        abroad: drafts.Abroad | None = None,
    ) -> dict[str, Any]:
        body = self._draft(spec, submit_id, benefit_type, abroad)
        if aid is not None:
            body["http_common_info"] = {"aid": aid}  # the site's app id [2026 9.1]
        return body

    def _draft(
        self, spec: DraftSpec, submit_id: str, benefit_type: str | None, abroad: drafts.Abroad | None = None
    ) -> dict[str, Any]:
        now_ms = int(self._clock() * 1000)
        seed = spec.seed if spec.seed is not None else new_seed()
        common: dict[str, Any] = {"submit_id": submit_id, "now_ms": now_ms, "abroad": abroad}
        if spec.kind is DraftKind.VIDEO:
            return video_drafts.video_body(self.upstream, spec, seed=seed, benefit_type=benefit_type, **common)
        if spec.kind is DraftKind.BLEND:
            return drafts.blend_body(self.upstream, spec, **common)
        if spec.kind is DraftKind.POST_EDIT:
            return post_edit_drafts.post_edit_body(self.upstream, spec, **common)
        return drafts.generate_body(self.upstream, spec, seed=seed, **common)

    def _read(self, call: CallConfig, session_id: str, body: Any, decode: Decode | None = None) -> Any:
        """``data`` of a call, transient failures retried; ``decode`` reads the answer's bytes (default: JSON)."""
        return with_retries(lambda: self._envelope(self._request(call, session_id, body, decode)), sleep=self._sleep)

    def _read_raw(self, call: CallConfig, session_id: str, body: Any) -> Any:
        return with_retries(lambda: self._request(call, session_id, body), sleep=self._sleep)

    def _request(self, call: CallConfig, session_id: str, body: Any, decode: Decode | None = None) -> Any:
        """One signed POST of ``call`` as the account of the token ``session_id`` (see ``_post``). An answer
        ``1015`` from a region with two hosts (US, 2026 9.1: an account must use its own cluster) is a definite
        refusal, so the call, even a submit, is sent once more to the other host; when that one answers
        otherwise, the account stays on it."""
        site = self.site(session_id)
        payload = self._post(call, site, body, decode)
        other = site.hosts.alternative
        if other is None or not _wrong_cluster(payload):
            return payload
        logger.info("{} of session {} answered 1015 on {}: trying {}", call.path, mask(session_id),
                    site.hosts.base_url, other.base_url)  # fmt: skip
        answer = self._post(call, replace(site, hosts=other), body, decode)
        if not _wrong_cluster(answer):
            account = (site.region, site.session_id)
            if site.hosts.base_url == self.config.hosts(site.region).base_url:
                self._on_alternative.add(account)
            else:
                self._on_alternative.discard(account)
            return answer
        return payload

    def _post(self, call: CallConfig, site: Site, body: Any, decode: Decode | None = None) -> Any:
        """One signed POST of ``call`` to ``site``'s host: its query set, headers and Referer, its cookie, through
        its proxy."""
        now = int(self._clock())
        web_id = signing.web_id_for(site.session_id)
        cookie = signing.cookie_header(site.session_id, web_id=web_id, cookies=self.upstream.cookie)
        headers = signing.signed_headers(
            self.upstream, call, device_time=str(now), cookie=cookie, region=site.constants, web_id=web_id
        )
        params = signing.query_params(self.upstream, call, web_id, region=site.constants)
        kw: dict[str, Any] = {"json": body} if body is not None else {}
        base = site.hosts.commerce_url if call.path.startswith("/commerce/") else site.hosts.base_url
        logger.trace("upstream POST {} as session {} ({})", call.path, mask(site.session_id), site.region.label)
        return call_json(
            self.http,
            "POST",
            base + call.path,
            timeout=self.config.timeout,
            decode=decode,
            params=params,
            headers=headers,
            **kw,
            **site.transport(),
        )

    @staticmethod
    def _envelope(payload: Any) -> Any:
        """``data`` of a ``{"ret": "0"}`` envelope; JimengError for a refusal, TransientError if malformed."""
        if not isinstance(payload, dict) or "ret" not in payload:
            raise TransientError("answer without the ret envelope")
        ret = str(payload.get("ret"))
        if ret == "0":
            return _payload(payload)
        errmsg = str(payload.get("errmsg") or "")
        if ret in TRANSIENT_RETS:
            raise TransientError(f"ret {ret} ({errmsg})", answered=True)
        data = payload.get("data")
        fail_code = str(data.get("fail_code") or "") if isinstance(data, dict) else ""
        raise error_from_envelope(ret, errmsg, fail_code=fail_code)


def _payload(envelope: dict[str, Any]) -> Any:
    """The answer of a ``ret "0"`` envelope: ``data``, or international ``/commerce`` answers' ``response``, a
    JSON string holding it [2026 2.6, 9.3]; an unreadable string is a malformed answer."""
    data = envelope.get("data")
    response = envelope.get("response")
    if isinstance(data, dict) or not isinstance(response, str):
        return data
    try:
        return json.loads(response)
    except ValueError as err:
        raise TransientError("malformed JSON in the answer's response string") from err


def _wrong_cluster(payload: Any) -> bool:
    """Whether an answer is ret ``1015`` (passport calls answer ``data.error_code`` 1015 instead)."""
    if not isinstance(payload, dict):
        return False
    data = payload.get("data")
    passport = isinstance(data, dict) and str(data.get("error_code", "")) == WRONG_CLUSTER_RET
    return str(payload.get("ret", "")) == WRONG_CLUSTER_RET or passport


def _forecast(queue: records.QueueView) -> float | None:
    """Seconds from creation until Jimeng expects the result: queue wait plus generation [5.1]."""
    if queue.forecast_generate is None:
        return None
    return queue.forecast_generate + (queue.forecast_queue or 0.0)


def _generate_forecast(queue: records.QueueView, record: records.QueueView) -> float | None:
    """Jimeng's forecast of the generation alone (seconds): the queue answer's, else the record's."""
    return queue.forecast_generate if queue.forecast_generate is not None else record.forecast_generate


def _needs_queue_info(view: records.RecordView) -> bool:
    return view.phase is Phase.QUEUED and view.queue.position is None and bool(view.history_record_id)


def _snapshot(view: records.RecordView, queue: records.QueueView | None = None) -> Snapshot:
    """The domain's view of a record; a failed record carries its error (the fail code through the ret table)."""
    queue = queue or view.queue
    history_id = view.history_record_id
    return Snapshot(
        history_id=history_id,
        phase=view.phase,
        status=view.status,
        submit_id=view.submit_id,
        fail_code=view.fail_code,
        finished=view.finished,
        total=view.total,
        image_urls=view.image_urls,
        video_url=view.video_url or None,
        item_id=view.item_id,
        item_ids=view.item_ids,
        image_sizes=view.image_sizes,
        created_time=view.created_time,
        queue_position=queue.position,
        queue_length=queue.length,
        forecast_seconds=_forecast(queue) if queue.forecast_generate is not None else _forecast(view.queue),
        forecast_generate_seconds=_generate_forecast(queue, view.queue),
        executed_count=view.executed_count if view.phase is Phase.SUCCEEDED else None,
        must_progress=view.status == records.PARTIAL or view.status not in records.KNOWN_STATUSES,
        error=_failure(view) if view.phase is Phase.FAILED else None,
    )


def _failure(view: records.RecordView) -> DomainError:
    hid = view.history_record_id
    if view.status == records.DELETED:
        return NotFoundError(f"Generation {hid} was deleted from the Jimeng account", history_id=hid)
    if view.status == records.PRE_CHECK_REJECT:
        return content_refused(hid, "refused before generating", view.fail_message)
    if view.status == records.POST_CHECK_REJECT:
        return content_refused(hid, "the result was refused", view.fail_message)
    return error_from_fail_code(hid, view.fail_code, view.fail_message)
