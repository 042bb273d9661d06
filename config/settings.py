"""Every knob of the service, read from the environment once and typed.

Nothing outside ``config/`` reads ``os.environ``. A bad value stops start-up with one line that names the
key, because a gateway that starts with a silently wrong timeout or URL fails much later and far away.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from config.upstream import DEFAULT_PATH as DEFAULT_UPSTREAM_PATH

LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """One configuration value is invalid; the message names the key."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected a boolean (1/0, true/false, yes/no, on/off)")


def _list(raw: str) -> tuple[str, ...]:
    items = [item.strip() for item in raw.split(",")]
    return tuple(dict.fromkeys(item for item in items if item))


def _url(raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an http(s) URL such as https://jimeng.jianying.com")
    return raw.strip().rstrip("/")


def _host(raw: str) -> str:
    value = raw.strip()
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if value != "localhost":
            raise ValueError("expected an IP address such as 0.0.0.0 or 127.0.0.1") from None
    return value


def _file(raw: str) -> str:
    path = Path(raw.strip()).expanduser()
    if not path.is_file():
        raise ValueError("expected the path of an existing file")
    return str(path)


def _level(raw: str) -> str:
    value = raw.strip().upper()
    if value not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
    return value


def _int_range(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise ValueError(f"expected an integer from {low} to {high}")
        return value

    return parse


def _float_range(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            value = float("nan")
        if not low <= value <= high:
            raise ValueError(f"expected a number from {low} to {high}")
        return value

    return parse


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return value

    return parse


_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # no ':' (a chat model suffix starts there)
OPENAI_IMAGE_MODELS = (
    "dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2", "chatgpt-image-latest",
)  # fmt: skip


def _aliases(raw: str) -> tuple[tuple[str, str], ...]:
    """``dall-e-3,gpt-image-1=jimeng-4.0``: (alias, model) pairs, model "" for the default image model;
    ``off`` or empty: none."""
    if raw.strip().lower() in ("off", "none", "0", "false", "no"):
        return ()
    pairs: dict[str, str] = {}
    for item in _list(raw):
        alias, equals, model = (part.strip() for part in item.partition("="))
        if not _MODEL_NAME.fullmatch(alias) or (equals and not _MODEL_NAME.fullmatch(model)):
            raise ValueError(f"expected alias or alias=model entries (letters, digits, . _ -), got {item[:80]!r}")
        pairs[alias] = model
    return tuple(pairs.items())


def _proxy(raw: str) -> str:
    """A proxy URL. Its errors never quote the value: it may hold a password."""
    value = raw.strip()
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("http", "https", "socks4", "socks5", "socks5h") or not parts.hostname or port is None:
        raise ValueError("expected http://, https://, socks4://, socks5:// or socks5h://[user:password@]host:port")
    return value


def _state_db(raw: str) -> str:
    value = raw.strip()
    return value if value == ":memory:" else str(Path(value).expanduser())


def _directory(raw: str) -> str:
    return str(Path(raw.strip()).expanduser())


def _secret_text(raw: str) -> str:
    """A shared secret: at least 16 characters (its errors never quote it)."""
    value = raw.strip()
    if len(value) < 16:
        raise ValueError("expected at least 16 characters (a random string, such as `openssl rand -hex 32`)")
    return value


def _redis_url(raw: str) -> str:
    """A redis-py URL. Its errors never quote the value: it may hold a password."""
    value = raw.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss", "unix"):
        shown = f"'{parts.scheme}://'" if parts.scheme.isalnum() else "none"
        raise ValueError(f"expected a redis://, rediss:// or unix:// URL (scheme: {shown})")
    if parts.scheme == "unix":
        if not parts.path:
            raise ValueError("expected the socket path of a unix:// URL, such as unix:///run/redis.sock")
        return value
    try:
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        raise ValueError("expected a numeric port in the URL") from None
    if not parts.hostname:
        raise ValueError("expected a host, such as redis://:password@redis.internal:6379/0")
    return value


def setting(env: str, parse: Callable[[str], Any], default: Any, doc: str, *, secret: bool = False) -> Any:
    """A dataclass field that knows its environment key, parser and documentation. A ``secret`` value is
    left out of the repr and of error messages."""
    return field(default=default, repr=not secret, metadata={"env": env, "parse": parse, "doc": doc, "secret": secret})


@dataclass(frozen=True)
class Settings:
    port: int = setting("PORT", _int_range(1, 65535), 5100, "HTTP port")
    host: str = setting("HOST", _host, "0.0.0.0", "address gunicorn binds (127.0.0.1 for local-only)")
    log_level: str = setting("LOG_LEVEL", _level, "INFO", "loguru level")
    log_json: bool = setting("LOG_JSON", _bool, False, "one JSON object per log line")
    trust_proxy: bool = setting("TRUST_PROXY", _bool, False, "honour X-Forwarded-* (Heroku, Render)")
    jimeng_base_url: str = setting("JIMENG_BASE_URL", _url, "https://jimeng.jianying.com", "Jimeng web API")
    jimeng_imagex_url: str = setting(
        "JIMENG_IMAGEX_URL",
        _url,
        "https://imagex.bytedanceapi.com",
        "ImageX OpenAPI; its scheme is used for upload hosts",
    )
    jimeng_us_base_url: str = setting(
        "JIMENG_US_BASE_URL", _url, "https://dreamina-api.us.capcut.com", "Dreamina US: /mweb and /passport calls"
    )
    jimeng_us_commerce_url: str = setting(
        "JIMENG_US_COMMERCE_URL", _url, "https://commerce.us.capcut.com", "Dreamina US: /commerce calls"
    )
    jimeng_us_imagex_url: str = setting(
        "JIMENG_US_IMAGEX_URL", _url, "https://imagex16-normal-us-ttp.capcutapi.us", "Dreamina US: ImageX OpenAPI"
    )
    jimeng_us_alt_base_url: str = setting(
        "JIMENG_US_ALT_BASE_URL",
        _url,
        "https://dreamina-api-us-ttp2.us.capcut.com",
        "Dreamina US, the alternative host: a call answered ret 1015 on the other host is tried once here",
    )
    jimeng_us_alt_commerce_url: str = setting(
        "JIMENG_US_ALT_COMMERCE_URL",
        _url,
        "https://commerce-us-ttp2.us.capcut.com",
        "Dreamina US, the alternative host's /commerce calls",
    )
    jimeng_hk_base_url: str = setting(
        "JIMENG_HK_BASE_URL", _url, "https://mweb-api-sg.capcut.com", "Dreamina HK: /mweb and /passport calls"
    )
    jimeng_hk_commerce_url: str = setting(
        "JIMENG_HK_COMMERCE_URL", _url, "https://commerce-api-sg.capcut.com", "Dreamina HK: /commerce calls"
    )
    jimeng_hk_imagex_url: str = setting(
        "JIMENG_HK_IMAGEX_URL", _url, "https://imagex-normal-sg.capcutapi.com", "Dreamina HK: ImageX OpenAPI"
    )
    jimeng_jp_base_url: str = setting(
        "JIMENG_JP_BASE_URL", _url, "https://mweb-api-sg.capcut.com", "Dreamina JP: /mweb and /passport calls"
    )
    jimeng_jp_commerce_url: str = setting(
        "JIMENG_JP_COMMERCE_URL", _url, "https://commerce-api-sg.capcut.com", "Dreamina JP: /commerce calls"
    )
    jimeng_jp_imagex_url: str = setting(
        "JIMENG_JP_IMAGEX_URL", _url, "https://imagex-normal-sg.capcutapi.com", "Dreamina JP: ImageX OpenAPI"
    )
    jimeng_sg_base_url: str = setting(
        "JIMENG_SG_BASE_URL", _url, "https://mweb-api-sg.capcut.com", "Dreamina SG: /mweb and /passport calls"
    )
    jimeng_sg_commerce_url: str = setting(
        "JIMENG_SG_COMMERCE_URL", _url, "https://commerce-api-sg.capcut.com", "Dreamina SG: /commerce calls"
    )
    jimeng_sg_imagex_url: str = setting(
        "JIMENG_SG_IMAGEX_URL", _url, "https://imagex-normal-sg.capcutapi.com", "Dreamina SG: ImageX OpenAPI"
    )
    jimeng_proxy: str = setting(
        "JIMENG_PROXY",
        _proxy,
        "",
        "proxy (http://, https://, socks5://[user:pass@]host:port) for every session whose token names none: "
        "its cookie-API calls, ImageX uploads and result downloads; empty: direct",
        secret=True,
    )
    jimeng_upstream_config: str = setting(
        "JIMENG_UPSTREAM_CONFIG",
        _file,
        str(DEFAULT_UPSTREAM_PATH),
        "protocol constants, models and sizes (YAML); checked strictly at start-up",
    )
    jimeng_session_ids: tuple[str, ...] = setting(
        "JIMENG_SESSION_IDS", _list, (), "server-side session pool, used with API_KEYS"
    )
    api_keys: tuple[str, ...] = setting("API_KEYS", _list, (), "client API keys; when set, Bearer is a key")
    max_sessions_per_request: int = setting(
        "MAX_SESSIONS_PER_REQUEST",
        _int_range(1, 1000),
        10,
        "session ids one Authorization may hold (more: 400 too_many_sessions); also the most sessions one "
        "request asks Jimeng about (look-ups, credit checks, claims)",
    )
    max_body_bytes: int = setting("MAX_BODY_BYTES", _int_range(1024, 1 << 30), 25 * 1024 * 1024, "request body cap")
    body_read_timeout_seconds: float = setting(
        "BODY_READ_TIMEOUT_SECONDS",
        _float_range(0.1, 3600),
        30.0,
        "the whole request body must arrive within this long of its headers, or 408 and the connection is closed",
    )
    body_min_bytes_per_second: int = setting(
        "BODY_MIN_BYTES_PER_SECOND",
        _int_range(0, 1 << 30),
        4096,
        "after its first 5 s, a request body arriving slower than this on average is cut (408); 0: no floor",
    )
    lenient_json_max_bytes: int = setting(
        "LENIENT_JSON_MAX_BYTES",
        _int_range(0, 1 << 30),
        64 * 1024,
        "largest body read with lenient JSON (trailing commas, quotes, comments: a slow pure-Python parser); "
        "larger bodies must be strict JSON",
    )
    max_json_values: int = setting(
        "MAX_JSON_VALUES",
        _int_range(100, 10_000_000),
        100_000,
        "most JSON values a body larger than LENIENT_JSON_MAX_BYTES may hold, counted as its commas and opening "
        "brackets (400 past it, before anything is built: a valid 16 MB body of tiny values costs hundreds of MB)",
    )
    max_image_bytes: int = setting("MAX_IMAGE_BYTES", _int_range(1024, 1 << 30), 10 * 1024 * 1024, "per input image")
    max_prompt_chars: int = setting(
        "MAX_PROMPT_CHARS", _int_range(1, 100_000), 2000, "prompt (and negative_prompt) length after trim"
    )
    max_messages_chars: int = setting(
        "MAX_MESSAGES_CHARS",
        _int_range(1, 10_000_000),
        100_000,
        "chat: the text of all messages together (the prompt is the last user message, held to MAX_PROMPT_CHARS)",
    )
    default_image_count: int = setting(
        "DEFAULT_IMAGE_COUNT",
        _int_range(0, 10),
        0,
        "images a request without n gets; 0: the model's own default (a count the model cannot make: its default)",
    )
    image_model_aliases: tuple[tuple[str, str], ...] = setting(
        "IMAGE_MODEL_ALIASES",
        _aliases,
        tuple((name, "") for name in OPENAI_IMAGE_MODELS),
        "OpenAI image model names accepted as aliases: comma list of alias (the default image model) or "
        "alias=model; off: none",
    )
    allow_private_image_urls: bool = setting(
        "ALLOW_PRIVATE_IMAGE_URLS", _bool, False, "let image URLs reach private/loopback addresses"
    )
    prefer_watermark_free: bool = setting(
        "PREFER_WATERMARK_FREE",
        _bool,
        True,
        "answer Jimeng's watermark-free files (images' large images, videos' main_url); off: the standard, "
        "watermarked links the web app shows (no extra look-up for videos)",
    )
    image_timeout_seconds: float = setting("IMAGE_TIMEOUT_SECONDS", _float_range(1, 86400), 600.0, "image deadline")
    video_timeout_seconds: float = setting("VIDEO_TIMEOUT_SECONDS", _float_range(1, 86400), 1500.0, "video deadline")
    sse_keepalive_seconds: float = setting(
        "SSE_KEEPALIVE_SECONDS", _float_range(0.05, 3600), 10.0, "keep-alive comment interval"
    )
    chat_progress: str = setting(
        "CHAT_PROGRESS",
        _choice("reasoning", "content", "off"),
        "reasoning",
        "streamed chats: progress lines (submitted, queued, images ready) as reasoning_content deltas (a "
        "collapsible thinking section in chat UIs), as content (kept in the chat history), or not at all",
    )
    chat_ui_tasks: str = setting(
        "CHAT_UI_TASKS",
        _choice("answer", "generate"),
        "answer",
        "chat UIs' own background requests (Open WebUI title/tags/follow-ups, NextChat topic/summary, LobeChat's "
        "connection check): answered at once with a short text and no generation, or generated like any prompt",
    )
    credit_cache_seconds: float = setting(
        "CREDIT_CACHE_SECONDS", _float_range(0, 86400), 60.0, "how long an account's credits are trusted"
    )
    model_table_ttl_seconds: float = setting(
        "MODEL_TABLE_TTL_SECONDS",
        _float_range(10, 7 * 86400),
        3600.0,
        "how long an account's live model tables (Jimeng's get_common_config) are trusted",
    )
    workspace_ttl_seconds: float = setting(
        "WORKSPACE_TTL_SECONDS",
        _float_range(10, 7 * 86400),
        21600.0,
        "how long an international account's workspace id (workspace/list, sent in every draft) is trusted",
    )
    upstream_connect_timeout: float = setting(
        "UPSTREAM_CONNECT_TIMEOUT", _float_range(0.1, 120), 5.0, "connect timeout of upstream calls"
    )
    upstream_read_timeout: float = setting(
        "UPSTREAM_READ_TIMEOUT", _float_range(0.1, 600), 30.0, "read timeout of upstream calls"
    )
    submit_settle_seconds: float = setting(
        "SUBMIT_SETTLE_SECONDS",
        _float_range(0, 3600),
        60.0,
        "after a submit whose answer was lost, how long its submit id is looked up before it is submitted again",
    )
    poll_max_late_seconds_image: float = setting(
        "POLL_MAX_LATE_SECONDS_IMAGE",
        _float_range(0.05, 60),
        1.0,
        "the longest an image result that is ready waits before the poller sees it (the bound its looks keep)",
    )
    poll_max_late_seconds_video: float = setting(
        "POLL_MAX_LATE_SECONDS_VIDEO",
        _float_range(0.05, 600),
        2.0,
        "the longest a video result that is ready waits before the poller sees it",
    )
    poll_min_seconds: float = setting(
        "POLL_MIN_SECONDS",
        _float_range(0.05, 60),
        0.15,
        "densest spacing of looks at a job (where it most likely ends, with many jobs of its session waiting)",
    )
    poll_max_seconds: float = setting(
        "POLL_MAX_SECONDS",
        _float_range(0.1, 600),
        10.0,
        "longest gap between two looks at a job (while it cannot be done yet)",
    )
    poll_policy: str = setting(
        "POLL_POLICY",
        _choice("schedule", "every-second"),
        "schedule",
        "schedule: the poller's windows; every-second: a look every second from the submit (the reference "
        "gateway's policy; for the latency benchmark's comparison only)",
    )
    stall_timeout_seconds: float = setting(
        "STALL_TIMEOUT_SECONDS",
        _float_range(1, 86400),
        120.0,
        "a generation whose items stopped arriving (or in a state Jimeng never documented) fails after this long",
    )
    state_db: str = setting(
        "STATE_DB",
        _state_db,
        "",
        "SQLite file of the shared state (idempotency records) when REDIS_URL is empty; empty: state.sqlite3 in "
        "the app's instance folder; :memory: a private store per process (tests)",
    )
    redis_url: str = setting(
        "REDIS_URL",
        _redis_url,
        "",
        "redis://, rediss:// or unix:// URL of the shared state, for several replicas; empty: SQLite (STATE_DB)",
        secret=True,
    )
    idempotency_ttl_seconds: float = setting(
        "IDEMPOTENCY_TTL_SECONDS",
        _float_range(60, 30 * 86400),
        86400.0,
        "how long an Idempotency-Key is remembered: a repeat within it resumes the same generation",
    )
    retry_dedup_seconds: float = setting(
        "RETRY_DEDUP_SECONDS",
        _float_range(0, 86400),
        3600.0,
        "a request marked as an SDK retry (x-stainless-retry-count >= 1) within this long of one with the same "
        "caller and body resumes its generation; 0 turns this off",
    )
    session_concurrency: int = setting(
        "SESSION_CONCURRENCY",
        _int_range(0, 64),
        2,
        "generations running at once per Jimeng session, shared by every worker and replica through the state "
        "store; more requests wait in a fair queue; 0: no cap (every request submits at once)",
    )
    slot_lease_seconds: float = setting(
        "SLOT_LEASE_SECONDS",
        _float_range(1, 3600),
        30.0,
        "a worker renews its slots and queue places every third of this; a dead worker's are free after it",
    )
    risk_cooldown_seconds: float = setting(
        "RISK_COOLDOWN_SECONDS",
        _float_range(0, 86400),
        1800.0,
        "after Jimeng's risk control refused a session (1019, 4013, -4, -6, 1018), no submit there for this long "
        "(in every worker and replica; 0: none)",
    )
    cap_backoff_seconds: float = setting(
        "CAP_BACKOFF_SECONDS",
        _float_range(1, 3600),
        60.0,
        "after Jimeng's own concurrency refusal (1010), the session's cap is one lower for this long",
    )
    metrics_token: str = setting(
        "METRICS_TOKEN",
        _secret_text,
        "",
        "GET /metrics needs Authorization: Bearer <this> when set; empty: /metrics is open (keep it off the "
        "internet, e.g. behind the load balancer)",
        secret=True,
    )
    prometheus_multiproc_dir: str = setting(
        "PROMETHEUS_MULTIPROC_DIR",
        _directory,
        "",
        "directory of prometheus-client's per-process metric files (gunicorn workers); its stale files are "
        "removed at start; empty: with WEB_CONCURRENCY > 1 a fresh directory per run is made and removed",
    )
    webhook_secret: str = setting(
        "WEBHOOK_SECRET",
        _secret_text,
        "",
        "HMAC-SHA256 key that signs webhook deliveries (header Jimeng-Signature); empty: callback_url refused",
        secret=True,
    )
    webhook_max_attempts: int = setting(
        "WEBHOOK_MAX_ATTEMPTS", _int_range(1, 50), 8, "delivery attempts of one webhook before it is dropped"
    )
    webhook_retry_min_seconds: float = setting(
        "WEBHOOK_RETRY_MIN_SECONDS",
        _float_range(0.01, 86400),
        30.0,
        "wait after a webhook's first failed delivery; doubled after each failure up to WEBHOOK_RETRY_MAX_SECONDS",
    )
    webhook_retry_max_seconds: float = setting(
        "WEBHOOK_RETRY_MAX_SECONDS", _float_range(0.01, 86400), 3600.0, "longest wait between two deliveries"
    )
    webhook_check_seconds: float = setting(
        "WEBHOOK_CHECK_SECONDS",
        _float_range(0.01, 3600),
        10.0,
        "how often a generation with a webhook that no worker watches (its worker died) is looked up",
    )
    webhook_timeout_seconds: float = setting(
        "WEBHOOK_TIMEOUT_SECONDS", _float_range(0.1, 120), 10.0, "connect and read timeout of one delivery"
    )
    allow_private_callback_urls: bool = setting(
        "ALLOW_PRIVATE_CALLBACK_URLS", _bool, False, "let callback_url reach private/loopback addresses"
    )
    web_concurrency: int = setting("WEB_CONCURRENCY", _int_range(1, 64), 2, "gunicorn worker processes")
    gunicorn_worker_connections: int = setting(
        "GUNICORN_WORKER_CONNECTIONS", _int_range(1, 100_000), 1000, "connections per gevent worker"
    )
    graceful_timeout_seconds: int = setting(
        "GRACEFUL_TIMEOUT_SECONDS",
        _int_range(1, 3600),
        30,
        "after SIGTERM, how long a worker finishes its requests; generations still running 5 s before it ends "
        "are answered with their history id (Heroku kills after 30 s: keep it at most 30 there)",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every key; raise SettingsError naming the first bad one."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            key = spec.metadata["env"]
            raw = environ.get(key)
            if raw is None or (raw.strip() == "" and not spec.type.startswith("tuple[")):
                continue
            try:
                values[spec.name] = spec.metadata["parse"](raw)
            except ValueError as err:
                shown = "<hidden>" if spec.metadata["secret"] else repr(raw)
                raise SettingsError(f"invalid {key}={shown}: {err}") from None
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        if self.api_keys and not self.jimeng_session_ids:
            raise SettingsError("invalid API_KEYS: it needs JIMENG_SESSION_IDS, the pool the keys give access to")
        if self.poll_min_seconds > min(
            self.poll_max_seconds, self.poll_max_late_seconds_image, self.poll_max_late_seconds_video
        ):
            raise SettingsError("invalid POLL_MIN_SECONDS: larger than POLL_MAX_SECONDS or a POLL_MAX_LATE_SECONDS_*")
        if self.max_messages_chars < self.max_prompt_chars:
            raise SettingsError("invalid MAX_MESSAGES_CHARS: smaller than MAX_PROMPT_CHARS")
        if self.webhook_retry_min_seconds > self.webhook_retry_max_seconds:
            raise SettingsError("invalid WEBHOOK_RETRY_MIN_SECONDS: larger than WEBHOOK_RETRY_MAX_SECONDS")

    def with_overrides(self, **overrides: Any) -> Settings:
        updated = replace(self, **overrides)
        updated.check()
        return updated

    @property
    def api_key_mode(self) -> bool:
        return bool(self.api_keys)

    @property
    def sessions_asked_per_request(self) -> int:
        """The most sessions one request asks Jimeng about (look-ups, credit checks, claims): the cap on a
        Bearer pool, or the server's own pool when that is larger (its size is the operator's, not a caller's)."""
        return max(self.max_sessions_per_request, len(self.jimeng_session_ids))


def documented_keys() -> list[tuple[str, Any, str]]:
    """(environment key, default, description) for every setting: drives .env.example and the README."""
    return [(f.metadata["env"], f.default, f.metadata["doc"]) for f in fields(Settings)]


def settings_for_tests(**overrides: Any) -> Settings:
    """Settings for tests: loopback images allowed, short timeouts and settle period, a private in-memory state
    store, independent of the caller's environment."""
    base = Settings(
        allow_private_image_urls=True,
        upstream_read_timeout=10.0,
        submit_settle_seconds=0.5,
        log_level="DEBUG",
        state_db=":memory:",
        session_concurrency=0,  # tests that queue turn the caps on
    )
    return base.with_overrides(**overrides)
