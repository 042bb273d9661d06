from __future__ import annotations

from pathlib import Path

import pytest

from config.settings import Settings, SettingsError, documented_keys
from config.upstream import DEFAULT_PATH

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_match_the_contract() -> None:
    settings = Settings.from_env({})
    assert settings.port == 5100
    assert settings.jimeng_base_url == "https://jimeng.jianying.com"
    assert settings.jimeng_imagex_url == "https://imagex.bytedanceapi.com"
    assert settings.max_body_bytes == 25 * 1024 * 1024
    assert settings.max_image_bytes == 10 * 1024 * 1024
    assert settings.max_prompt_chars == 2000
    assert settings.image_timeout_seconds == 600
    assert settings.video_timeout_seconds == 1500
    assert settings.sse_keepalive_seconds == 10
    assert settings.allow_private_image_urls is False
    assert settings.web_concurrency == 2
    assert settings.gunicorn_worker_connections == 1000
    assert settings.jimeng_upstream_config == str(DEFAULT_PATH)
    assert settings.model_table_ttl_seconds == 3600


def test_values_are_typed() -> None:
    settings = Settings.from_env(
        {
            "PORT": "8080",
            "LOG_JSON": "yes",
            "LOG_LEVEL": "debug",
            "JIMENG_BASE_URL": "http://127.0.0.1:9000/",
            "JIMENG_SESSION_IDS": "a, b,a,,c",
            "API_KEYS": "k1",
            "IMAGE_TIMEOUT_SECONDS": "12.5",
        }
    )
    assert settings.port == 8080
    assert settings.log_json is True
    assert settings.log_level == "DEBUG"
    assert settings.jimeng_base_url == "http://127.0.0.1:9000"
    assert settings.jimeng_session_ids == ("a", "b", "c")
    assert settings.api_key_mode
    assert settings.image_timeout_seconds == 12.5


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("LOG_LEVEL", "LOUD"),
        ("LOG_JSON", "maybe"),
        ("JIMENG_BASE_URL", "jimeng.jianying.com"),
        ("JIMENG_IMAGEX_URL", "ftp://x"),
        ("MAX_BODY_BYTES", "-1"),
        ("IMAGE_TIMEOUT_SECONDS", "0"),
        ("SSE_KEEPALIVE_SECONDS", "nan"),
        ("WEB_CONCURRENCY", "0"),
        ("MODEL_TABLE_TTL_SECONDS", "5"),
        ("JIMENG_UPSTREAM_CONFIG", "/nonexistent/upstream.yml"),
        ("REDIS_URL", "localhost:6379"),
        ("REDIS_URL", "http://redis.internal:6379"),
        ("REDIS_URL", "redis://redis.internal:port/0"),
        ("REDIS_URL", "unix://"),
        ("POLL_POLICY", "sometimes"),
        ("POLL_MAX_LATE_SECONDS_IMAGE", "0"),
    ],
)
def test_a_bad_value_names_its_key(key: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({key: value})
    assert str(caught.value).startswith(f"invalid {key}=")


def test_the_state_store_settings() -> None:
    assert Settings.from_env({}).state_db == ""
    assert Settings.from_env({}).redis_url == ""
    assert Settings.from_env({"STATE_DB": " :memory: "}).state_db == ":memory:"
    assert Settings.from_env({"STATE_DB": "~/jimeng/state.db"}).state_db == str(Path.home() / "jimeng/state.db")
    for url in ("redis://:pw@redis.internal:6379/0", "rediss://user:pw@host", "unix:///run/redis.sock?db=1"):
        assert Settings.from_env({"REDIS_URL": url}).redis_url == url


@pytest.mark.parametrize(
    "url", ["http://:hunter2-Secret@redis.internal:6379", "redis://:hunter2-Secret@host:port", "hunter2-Secret"]
)
def test_a_bad_redis_url_is_refused_without_its_password(url: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"REDIS_URL": url})
    assert str(caught.value).startswith("invalid REDIS_URL=")
    assert "hunter2" not in str(caught.value)


def test_the_redis_url_stays_out_of_the_repr() -> None:
    settings = Settings.from_env({"REDIS_URL": "redis://:hunter2-Secret@redis.internal:6379/0"})
    assert "hunter2" not in repr(settings)


def test_the_poller_settings_default_to_the_issue_s_bound_and_hold_together() -> None:
    settings = Settings.from_env({})
    assert (settings.poll_max_late_seconds_image, settings.poll_max_late_seconds_video) == (1.0, 2.0)
    assert settings.poll_policy == "schedule"
    assert Settings.from_env({"POLL_POLICY": "Every-Second"}).poll_policy == "every-second"
    with pytest.raises(SettingsError, match="POLL_MIN_SECONDS"):
        Settings.from_env({"POLL_MIN_SECONDS": "0.5", "POLL_MAX_LATE_SECONDS_IMAGE": "0.3"})


def test_api_keys_need_a_server_pool() -> None:
    with pytest.raises(SettingsError, match="API_KEYS"):
        Settings.from_env({"API_KEYS": "k1"})


def test_env_example_documents_every_key() -> None:
    text = (ROOT / ".env.example").read_text()
    for key, _default, _doc in documented_keys():
        assert f"\n{key}=" in text, key


def test_image_model_aliases_default_to_openai_names_and_can_be_changed_or_turned_off() -> None:
    default = dict(Settings.from_env({}).image_model_aliases)
    assert {"dall-e-2", "dall-e-3", "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5"} <= set(default)
    assert set(default.values()) == {""}  # the default image model
    custom = Settings.from_env({"IMAGE_MODEL_ALIASES": "dall-e-3=jimeng-4.0, my-model"}).image_model_aliases
    assert custom == (("dall-e-3", "jimeng-4.0"), ("my-model", ""))
    for off in ("", "off", "OFF"):
        assert Settings.from_env({"IMAGE_MODEL_ALIASES": off}).image_model_aliases == ()
    for bad in ("dall-e-3=", "a b", "jimeng-4.0:16:9", "x=y=z"):
        with pytest.raises(SettingsError, match="IMAGE_MODEL_ALIASES"):
            Settings.from_env({"IMAGE_MODEL_ALIASES": bad})
