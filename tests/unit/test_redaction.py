from __future__ import annotations

import threading

import pytest

from app.logging import SecretRegistry, mask
from app.secrets import mask_url, url_passwords


@pytest.mark.parametrize(
    ("secret", "masked"),
    [("0123456789abcdef0123456789abcdef", "…cdef"), ("abcdefghi", "…fghi"), ("short", "…"), ("12345678", "…")],
)
def test_mask_shows_at_most_the_last_four_characters(secret: str, masked: str) -> None:
    assert mask(secret) == masked


def test_registered_secrets_are_masked_anywhere_in_a_message() -> None:
    registry = SecretRegistry()
    registry.add("0123456789abcdef0123456789abcdef")
    registry.add("feedfacecafebeef0000")
    text = registry.redact("pool 0123456789abcdef0123456789abcdef,feedfacecafebeef0000 failed")
    assert text == "pool …cdef,…0000 failed"


def test_cookie_values_are_masked_even_when_unregistered() -> None:
    registry = SecretRegistry()
    text = registry.redact("Cookie: sessionid=zzzzzzzzzzzz9999; sid_tt=yyyyyyyyyyyy8888; is_staff_user=false")
    assert "zzzzzzzzzzzz9999" not in text
    assert "yyyyyyyyyyyy8888" not in text
    assert "is_staff_user=false" in text


def test_registry_forgets_the_oldest_secret_past_capacity() -> None:
    registry = SecretRegistry(capacity=2)
    for secret in ("aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"):
        registry.add(secret)
    assert registry.redact("aaaaaaaaaaaa cccccccccccc") == "aaaaaaaaaaaa …cccc"


@pytest.mark.parametrize(
    ("url", "passwords", "masked"),
    [
        ("redis://:hunter2-Secret@redis.internal:6379/0", {"hunter2-Secret"}, "redis://:…cret@redis.internal:6379/0"),
        ("rediss://user:p%40ss-w0rd-x@h/1", {"p%40ss-w0rd-x", "p@ss-w0rd-x"}, "rediss://user:…rd-x@h/1"),
        ("unix:///run/redis.sock?db=1&password=abc%2Fdefghij", {"abc%2Fdefghij", "abc/defghij"}, None),
        ("redis://redis.internal:6379/0", set(), "redis://redis.internal:6379/0"),
    ],
)
def test_url_passwords_are_found_and_masked(url: str, passwords: set[str], masked: str | None) -> None:
    assert url_passwords(url) == passwords
    shown = mask_url(url)
    assert masked is None or shown == masked
    assert not any(password in shown for password in passwords)


def test_a_log_line_written_while_a_secret_is_registered_does_not_deadlock() -> None:
    """Registering may run the garbage collector, whose finalizers may log on the same thread (re-entrance):
    redact takes no lock, so a line written while ``add`` holds the registry's lock is still masked."""
    registry = SecretRegistry()
    registry.add("0123456789abcdef")
    nested: list[str] = []

    def log_while_adding() -> None:
        with registry._lock:  # as add() holds it
            nested.append(registry.redact("finalizer says 0123456789abcdef"))

    done = threading.Thread(target=log_while_adding, daemon=True)
    done.start()
    done.join(timeout=5)
    assert not done.is_alive(), "redact deadlocked on the registry's lock"
    assert nested == ["finalizer says …cdef"]


@pytest.mark.parametrize("json_lines", [False, True], ids=["text", "json"])
def test_a_logged_exception_is_masked_like_the_message(capsys: pytest.CaptureFixture[str], json_lines: bool) -> None:
    """loguru renders a traceback after the message; it goes through the same masking."""
    from loguru import logger

    from app.logging import configure_logging, register_secret

    secret = "tracebacksecret0123456789abcdef"
    register_secret(secret)
    configure_logging("INFO", json_lines)
    try:
        raise RuntimeError(f"upstream refused cookie {secret}")
    except RuntimeError:
        logger.exception("call failed")
    out = capsys.readouterr().out
    assert "call failed" in out and "RuntimeError" in out and "Traceback" in out
    assert secret not in out and secret[-4:] in out
