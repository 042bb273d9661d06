"""The register_* steps of create_app: the only place that knows the concrete classes."""

from __future__ import annotations

import re
import time
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import NullSession, SessionInterface, SessionMixin
from werkzeug.middleware.proxy_fix import ProxyFix

from app.api import chat, health, images, models, openapi, playground, post_edit, tasks, tokens, videos
from app.api.body_guard import BodyGuard, BodyPolicy, reject_oversized_bodies
from app.api.context import authenticate
from app.api.paths import PathNormaliser
from app.domain.accounts import AccountService
from app.domain.capacity import Capacity, CapacitySettings
from app.domain.deferred import DeferredStarts
from app.domain.errors import NotFoundError
from app.domain.generation import GenerationService
from app.domain.jobs import Deadlines
from app.domain.ledger import Ledger, LedgerSettings
from app.domain.live_catalog import LiveCatalog, by_region, region_label
from app.domain.openai_shapes import task_object
from app.domain.planning import Planner
from app.domain.poller import Poller
from app.domain.pool import SessionPool
from app.domain.schedule import PollPolicy, PollTiming
from app.domain.shared_accounts import SharedAccounts
from app.domain.shutdown import Shutdown
from app.domain.static_catalog import catalog_from_config
from app.domain.tasks import Tasks, TaskView
from app.domain.tokens import Region
from app.domain.webhooks import Webhooks, WebhookSettings
from app.errors import describe
from app.errors import register_error_handlers as _register_error_handlers
from app.imaging import PillowEncoder
from app.inputs.callback import GuardedCallbacks
from app.inputs.loader import ImageFetcher
from app.jimeng.client import ClientConfig, JimengClient, RegionHosts
from app.jimeng.transport import new_http_session
from app.jimeng.upload import ImageUploader
from app.logging import configure_logging, register_own_secret, register_request_logging
from app.metrics import PrometheusObserver, register_metrics
from app.sealing import FernetSealer
from app.secrets import token_secrets, url_passwords
from app.state import open_store
from config.settings import Settings, SettingsError
from config.upstream import UpstreamConfig, load_upstream


def resolve_settings(config: Any) -> Settings:
    if config is None:
        return Settings.from_env()
    if isinstance(config, Settings):
        return config
    if isinstance(config, dict):
        return Settings.from_env().with_overrides(**config)
    raise TypeError(f"create_app(config=...) takes Settings, a dict or None, not {type(config).__name__}")


class NoSessions(SessionInterface):
    """The service keeps no cookie sessions (nothing reads or writes ``flask.session``). Flask built an empty
    ``NullSession`` for every request anyway, about 0.5 KiB that each request in flight holds while it waits
    (issue 17); every request gets this one, read-only like any NullSession (a write raises), never saved."""

    _empty = NullSession()

    def open_session(self, app: Flask, request: Request) -> NullSession:
        return self._empty

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


def register_settings(app: Flask, settings: Settings) -> None:
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = None  # the cap is BodyGuard's, for bodies with and without a length
    app.session_interface = NoSessions()
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]


def register_logging(app: Flask, settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_json)
    for session_id in settings.jimeng_session_ids + settings.api_keys:
        for secret in token_secrets(session_id):
            register_own_secret(secret)
    for secret in {settings.jimeng_proxy} | url_passwords(settings.jimeng_proxy):
        if secret:
            register_own_secret(secret)
    register_request_logging(app)


def register_request_guards(app: Flask, settings: Settings) -> None:
    """Every body read through the BodyGuard (cap, deadline, floor rate); before a view reads it: 413 past the
    declared length, then the caller's credentials (401)."""
    policy = BodyPolicy(
        max_bytes=settings.max_body_bytes,
        timeout=settings.body_read_timeout_seconds,
        min_rate=settings.body_min_bytes_per_second,
    )
    # Middleware goes in as its bound ``__call__``, not as the instance: calling an instance passes through C (one
    # more interpreter frame on the C stack), calling a bound method does not, and every request waiting for its
    # generation keeps a copy of its C stack (a greenlet's stack goes to the heap when it switches out): about
    # 0.7 KiB per middleware and request, at 1,000 requests in flight (issue 17). The same below.
    app.wsgi_app = BodyGuard(app.wsgi_app, policy).__call__  # type: ignore[method-assign]
    app.before_request(lambda: reject_oversized_bodies(settings.max_body_bytes))
    app.before_request(authenticate)


def register_path_normaliser(app: Flask) -> None:
    """``/chat/completions``, ``/v1/models/`` and the like reach their ``/v1`` endpoint (app/api/paths.py)."""
    app.wsgi_app = PathNormaliser(app.wsgi_app).__call__  # type: ignore[method-assign]  # bound: see above


def register_proxy_fix(app: Flask, settings: Settings) -> None:
    if settings.trust_proxy:  # Heroku and Render terminate TLS in one proxy hop
        fix = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)
        app.wsgi_app = fix.__call__  # type: ignore[method-assign]  # bound: see register_request_guards


CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Expose-Headers": "x-request-id, x-should-retry, retry-after, callback-status",
    "Access-Control-Max-Age": "600",
}
# Always allowed, whatever a preflight asks: a bare "*" would not cover Authorization, so it is named.
CORS_ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "Prefer", "X-Request-Id")
MAX_ECHOED_HEADERS = 64  # names of one preflight's Access-Control-Request-Headers echoed back
MAX_ECHOED_CHARS = 2048  # their total length; the rest is dropped (the browser then refuses that request)
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}")  # an RFC 9110 token


def allowed_headers(requested: str) -> str:
    """``Access-Control-Allow-Headers`` of a preflight: the fixed names plus each header name the browser asked
    for (the OpenAI JS SDK sends ``x-stainless-*``, ``OpenAI-Organization``, ...). Only well-formed names are
    echoed, lower-cased, at most ``MAX_ECHOED_HEADERS`` of them within ``MAX_ECHOED_CHARS``."""
    names = list(CORS_ALLOWED_HEADERS)
    known = {name.lower() for name in names}
    length = sum(len(name) + 2 for name in names)
    for raw in requested[: MAX_ECHOED_CHARS * 2].split(","):
        name = raw.strip().lower()
        if not _HEADER_NAME.fullmatch(name) or name in known:
            continue
        if len(known) >= len(CORS_ALLOWED_HEADERS) + MAX_ECHOED_HEADERS or length + len(name) + 2 > MAX_ECHOED_CHARS:
            break
        names.append(name)
        known.add(name)
        length += len(name) + 2
    return ", ".join(names)


def register_cors(app: Flask) -> None:
    """Browser clients (LobeChat, web playgrounds, the OpenAI JS SDK) call OpenAI-style APIs cross-origin, as
    OpenAI allows. Credentials are Bearer headers, never cookies, so a wildcard origin exposes nothing extra.
    A preflight's requested headers are echoed (sanitised), so the answer varies with them."""

    def add_headers(response: Response) -> Response:
        response.headers.update(CORS_HEADERS)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            requested = request.headers.get("Access-Control-Request-Headers", "")
            response.headers["Access-Control-Allow-Headers"] = allowed_headers(requested)
            response.vary.add("Access-Control-Request-Headers")
        else:
            response.headers["Access-Control-Allow-Headers"] = ", ".join(CORS_ALLOWED_HEADERS)
        return response

    app.after_request(add_headers)


def register_error_handlers(app: Flask) -> None:
    _register_error_handlers(app)


def register_upstream(app: Flask, settings: Settings) -> None:
    """The protocol file of the settings: a bad one raises UpstreamConfigError naming the key, before any
    request."""
    app.extensions["upstream"] = load_upstream(settings.jimeng_upstream_config)


def register_state(app: Flask, settings: Settings) -> None:
    """The shared state store (idempotency records, generations in flight). Opening it connects nothing:
    each worker process connects on first use, after gunicorn's fork."""
    for password in url_passwords(settings.redis_url):
        register_own_secret(password)
    app.extensions["state"] = open_store(settings, app.instance_path)


def region_hosts(settings: Settings) -> dict[Region, RegionHosts]:
    """The international sites' base URLs (JIMENG_<REGION>_{BASE,COMMERCE,IMAGEX}_URL; US also the alternative
    host's JIMENG_US_ALT_{BASE,COMMERCE}_URL)."""
    hosts = {}
    for region in (Region.US, Region.HK, Region.JP, Region.SG):
        prefix = f"jimeng_{region.value}_"
        hosts[region] = RegionHosts(
            base_url=getattr(settings, prefix + "base_url"),
            commerce_url=getattr(settings, prefix + "commerce_url"),
            imagex_url=getattr(settings, prefix + "imagex_url"),
            alt_base_url=getattr(settings, prefix + "alt_base_url", ""),  # US only (2026 9.1)
            alt_commerce_url=getattr(settings, prefix + "alt_commerce_url", ""),
        )
    return hosts


def register_generation(app: Flask, settings: Settings) -> None:
    """One client, session pool and poller per app, i.e. per gunicorn worker (the app is built after fork)."""
    upstream = app.extensions["upstream"]
    observer = app.extensions["observer"] = PrometheusObserver()  # GET /metrics (app/metrics.py)
    client = JimengClient(
        upstream,
        ClientConfig(
            base_url=settings.jimeng_base_url,
            imagex_url=settings.jimeng_imagex_url,
            connect_timeout=settings.upstream_connect_timeout,
            read_timeout=settings.upstream_read_timeout,
            submit_settle_seconds=settings.submit_settle_seconds,
            regions=region_hosts(settings),
            default_proxy=settings.jimeng_proxy,
            prefer_watermark_free=settings.prefer_watermark_free,
            workspace_ttl=settings.workspace_ttl_seconds,
        ),
        http=new_http_session(observer),
    )
    timing = PollTiming(
        max_late_image=settings.poll_max_late_seconds_image,
        max_late_video=settings.poll_max_late_seconds_video,
        min_interval=settings.poll_min_seconds,
        max_interval=settings.poll_max_seconds,
        stall_seconds=settings.stall_timeout_seconds,
        policy=PollPolicy(settings.poll_policy),
    )
    asked = settings.sessions_asked_per_request  # per request, whatever the size of the caller's pool
    shared = SharedAccounts(app.extensions["state"], settings.credit_cache_seconds)
    pool = SessionPool(
        client, settings.credit_cache_seconds, max_checks=asked, shared=shared,
        risk_cooldown=settings.risk_cooldown_seconds,
    )  # fmt: skip
    # Each account's live model tables, upstream.yml's when Jimeng cannot tell: the CatalogSource of the
    # planner and of /v1/models. It starts no thread until the first request asks (after gevent's fork).
    static = catalog_from_config(upstream, image_aliases(settings, upstream))
    # Cached per region (a token's us-/hk-/jp-/sg- prefix, CN without): the sites list different models.
    catalog = LiveCatalog(client, static, ttl=settings.model_table_ttl_seconds, key=by_region, label=region_label)
    app.extensions["catalog"] = catalog
    app.extensions["jimeng"] = client
    app.extensions["accounts"] = AccountService(client, pool, max_sessions=asked)
    shutdown = app.extensions["shutdown"] = Shutdown(settings.graceful_timeout_seconds)
    app.extensions["generation"] = GenerationService(
        backend=client,
        planner=Planner(
            catalog,
            upstream,
            max_prompt_chars=settings.max_prompt_chars,
            max_messages_chars=settings.max_messages_chars,
            default_image_count=settings.default_image_count,
        ),
        pool=pool,
        poller=Poller(client, timing, observer=observer),
        deadlines=Deadlines(image=settings.image_timeout_seconds, video=settings.video_timeout_seconds),
        max_lookups=asked,
        uploader=ImageUploader(client),
        loader=ImageFetcher(
            http=new_http_session(),  # not the upstream pool: these are the users' hosts
            max_bytes=settings.max_image_bytes,
            allow_private=settings.allow_private_image_urls,
            timeout=(settings.upstream_connect_timeout, settings.upstream_read_timeout),
        ),
        shutdown=shutdown,
        encoder=PillowEncoder(),
        capacity=capacity(app, settings),
        observer=observer,
    )


def capacity(app: Flask, settings: Settings) -> Capacity:
    """The per-session caps and their fair queue, in the shared state store (every worker and replica)."""
    caps = CapacitySettings(
        cap=settings.session_concurrency,
        lease_seconds=settings.slot_lease_seconds,
        backoff_seconds=settings.cap_backoff_seconds,
    )
    return Capacity(app.extensions["state"], caps, observer=app.extensions["observer"])


def image_aliases(settings: Settings, upstream: UpstreamConfig) -> dict[str, str]:
    """``IMAGE_MODEL_ALIASES`` as alias -> image model id (a bare alias: the default image model). A name the
    protocol file already makes public (its ``aliases``, a model's id or own aliases) keeps the file's meaning;
    an alias of a model that is not an image model of the file stops start-up naming the setting."""
    images = {model.id for model in upstream.image_models}
    taken = {*upstream.aliases, *images, *(a for m in upstream.image_models for a in m.aliases)}
    taken |= {model.id for model in upstream.video_models} | {a for m in upstream.video_models for a in m.aliases}
    taken |= {model.id for model in upstream.retired_models}
    aliases: dict[str, str] = {}
    for alias, model in settings.image_model_aliases:
        target = model or upstream.defaults.image_model
        if target not in images:
            raise SettingsError(f"invalid IMAGE_MODEL_ALIASES: {alias}={target}: {target} is not an image model")
        if alias not in taken:
            aliases[alias] = target
    return aliases


PENDING_LEASE_SECONDS = 600.0  # uploads, failover and the submit's settle period fit well inside it


def register_ledger(app: Flask, settings: Settings) -> None:
    """Idempotency-Key and SDK-retry claims, in the shared state store."""
    app.extensions["ledger"] = Ledger(
        app.extensions["state"],
        LedgerSettings(
            key_ttl=settings.idempotency_ttl_seconds,
            retry_window=settings.retry_dedup_seconds,
            pending_ttl=PENDING_LEASE_SECONDS,
        ),
    )
    deferred = None
    if settings.session_concurrency > 0:  # without caps no request waits for a slot
        deferred = DeferredStarts(
            app.extensions["state"],
            lease_seconds=settings.slot_lease_seconds,
            retention_seconds=settings.idempotency_ttl_seconds,
        )
    app.extensions["deferred"] = deferred
    app.extensions["tasks"] = Tasks(app.extensions["generation"].lookup, deferred)


def begin_shutdown(app: Flask) -> None:
    """The worker got SIGTERM (config/gunicorn.py's hook calls this from its signal handler): generations
    still running shortly before the graceful window ends are answered with their history id, nothing new is
    submitted. Only stores a time, so it is safe in a signal handler."""
    app.extensions["shutdown"].begin()


def drain_deferred(app: Flask, timeout: float) -> bool:
    """The worker is exiting (config/gunicorn.py's ``worker_exit``): async requests that waited for a slot are
    refused by the shutdown notice, and a submit on its way is recorded, within ``timeout`` seconds."""
    deferred: DeferredStarts | None = app.extensions.get("deferred")
    return deferred is None or deferred.drain(timeout)


def register_webhooks(app: Flask, settings: Settings) -> None:
    """The webhook outbox (app/domain/webhooks.py) when WEBHOOK_SECRET is set. Its delivery thread starts with
    the app (in each gunicorn worker, after the fork), so deliveries left by an earlier process go out."""
    app.extensions["webhooks"] = None
    if not settings.webhook_secret:
        return
    register_own_secret(settings.webhook_secret)
    tasks: Tasks = app.extensions["tasks"]

    def lookup(sessions: list[str], task_id: str) -> TaskView | None:
        try:
            return tasks.view(sessions, task_id, scope=None)
        except NotFoundError:
            return None

    def render(view: TaskView) -> dict[str, Any]:  # the body of GET /v1/tasks/{id}
        error = describe(view.snapshot.error)[1]["error"] if view.snapshot.error is not None else None
        return task_object(view, error, now=time.time())

    hooks = Webhooks(
        app.extensions["state"],
        WebhookSettings(
            secret=settings.webhook_secret,
            max_attempts=settings.webhook_max_attempts,
            retry_min_seconds=settings.webhook_retry_min_seconds,
            retry_max_seconds=settings.webhook_retry_max_seconds,
            check_seconds=settings.webhook_check_seconds,
        ),
        sender=GuardedCallbacks(
            allow_private=settings.allow_private_callback_urls, timeout=settings.webhook_timeout_seconds
        ),
        sealer=FernetSealer(settings.webhook_secret),
        lookup=lookup,
        render=render,
        observer=app.extensions["observer"],
    )
    app.extensions["webhooks"] = hooks
    hooks.start()


def register_observability(app: Flask, settings: Settings) -> None:
    """``GET /metrics`` and the count of every answer (app/metrics.py); the metrics token is masked in logs."""
    if settings.metrics_token:
        register_own_secret(settings.metrics_token)
    register_metrics(app)


def register_blueprints(app: Flask) -> None:
    blueprints = (health.bp, models.bp, openapi.bp, images.bp, post_edit.bp, videos.bp, chat.bp, tasks.bp, tokens.bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.register_blueprint(playground.bp)  # /playground (its files: app/static)
