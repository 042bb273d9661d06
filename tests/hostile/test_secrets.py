"""Hostile: no full registered secret reaches a log line, whatever surrounds it; masking cost and memory
stay bounded whatever the number of secrets an attacker makes the service see."""

from __future__ import annotations

import json
import random
import string
import time
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.logging import HEAD, SecretRegistry, mask_by_shape

COOKIE_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\')
secret_text = st.text(alphabet=COOKIE_SAFE, min_size=HEAD, max_size=120)
filler = st.text(alphabet=string.printable, max_size=40)


def _contexts(secret: str, left: str, right: str) -> list[str]:
    other = "0123456789abcdef0123456789abcdef"
    return [
        f"{left}{secret}{right}",
        f"'{secret}'",
        f'"{secret}"',
        f"abc{secret}def",
        f"{secret}{secret}",
        json.dumps({"sessionid": secret, "other": [secret, left]}),
        json.dumps(f"abc{secret}def"),
        f"https://jimeng.example/mweb/v1/get?aid=513695&sessionid={secret}&x={left}",
        f"https://example.com/cb?token=abc{secret}&next=/x",
        f"Cookie: sid_guard=abc; sessionid={secret}; sessionid_ss={secret}; is_staff_user=false",
        f"Authorization: Bearer {other},{secret},{other}",
        repr({"Authorization": f"Bearer {secret}", "Cookie": f"sessionid={secret}"}),
        repr([secret, (secret, left), {secret: right}]),
        repr((left, f"x{secret}y")),
        str(ValueError(f"session {secret} failed: {right}")),
        repr(RuntimeError(f"{left}{secret}")),
        repr(KeyError(secret)),
        f"{left * 5}{secret}{right * 5}",
        f"x{'y' * 600}{secret}{'z' * 600}",
    ]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=secret_text, left=filler, right=filler, noise=st.lists(secret_text, max_size=5))
def test_no_registered_secret_survives_in_any_context(secret: str, left: str, right: str, noise: list[str]) -> None:
    registry = SecretRegistry()
    for other in [*noise, secret]:
        registry.add(other)
    for line in _contexts(secret, left, right):
        assert secret not in registry.redact(line), line


@settings(max_examples=200, deadline=None)
@given(first=secret_text, tail=st.text(alphabet=COOKIE_SAFE, min_size=HEAD, max_size=40))
def test_a_secret_that_begins_in_the_kept_tail_of_another_is_masked_too(first: str, tail: str) -> None:
    """A mask keeps the last 4 characters; a second secret beginning there must not come out whole."""
    second = first[-4:] + tail
    registry = SecretRegistry()
    registry.add(first)
    registry.add(second)
    line = registry.redact(f"[{first + tail}]")
    assert first not in line
    assert second not in line


@settings(max_examples=200, deadline=None)
@given(secrets=st.lists(secret_text, min_size=2, max_size=8), glue=st.text(alphabet=COOKIE_SAFE, max_size=3))
def test_overlapping_and_adjacent_secrets_are_all_masked(secrets: list[str], glue: str) -> None:
    registry = SecretRegistry()
    for secret in secrets:
        registry.add(secret)
    line = registry.redact(glue.join(secrets) + " " + "".join(s[: len(s) // 2] for s in secrets) + secrets[0])
    assert not [s for s in secrets if s in line]


def test_values_next_to_credential_names_are_masked_unregistered() -> None:
    key = "sk-live-0123456789abcdefXYZW"
    lines = [
        f"Authorization: Bearer {key}",
        f"authorization: bearer a{key}, b{key}",
        f"{{'Authorization': 'Bearer {key}'}}",
        f'{{"api_key": "{key}"}}',
        f"X-Api-Key: {key}",
        f"redis://h/0?password={key}",
        f"Authorization: Basic {key}",
        f"cookie: sessionid={key}; sid_tt={key}",
        f'{{"token": "{key}"}}',
    ]
    for line in lines:
        assert key not in mask_by_shape(line), line
    assert mask_by_shape("Bearer …WXYZ and sessionid=…WXYZ") == "Bearer …WXYZ and sessionid=…WXYZ"
    assert mask_by_shape("GET /token/check 200 3ms") == "GET /token/check 200 3ms"


def test_short_secrets_are_masked_as_whole_words_only() -> None:
    registry = SecretRegistry()
    registry.add("k3y9")
    assert registry.redact("key k3y9, not k3y9x") == "key …, not k3y9x"


def test_the_services_own_secrets_outlive_a_flood_of_request_secrets() -> None:
    registry = SecretRegistry(capacity=100)
    registry.add("own-session-0123456789", own=True)
    registry.add("user-session-0123456789")
    for n in range(1_000):
        registry.add(f"flood-{n:08d}-{'x' * 20}")
    assert len(registry) == 101
    line = registry.redact("own-session-0123456789 user-session-0123456789 flood-00000999-" + "x" * 20)
    assert line == "…6789 user-session-0123456789 …xxxx"


def _registry_of(count: int, rng: random.Random) -> tuple[SecretRegistry, list[str]]:
    registry = SecretRegistry(capacity=count)
    secrets = ["".join(rng.choices(COOKIE_SAFE, k=rng.randint(HEAD, 512))) for _ in range(count)]
    for secret in secrets:
        registry.add(secret)
    return registry, secrets


def _per_line(redact: Callable[[str], str], lines: list[str]) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for line in lines:
            redact(line)
        best = min(best, (time.perf_counter() - started) / len(lines))
    return best


def test_masking_costs_the_same_with_1000_or_20000_secrets() -> None:
    """A loose bound (the figures: `python -m bench.hostile`): 20 times the secrets, not 20 times the cost."""
    rng = random.Random(7)
    small, small_secrets = _registry_of(1_000, rng)
    large, large_secrets = _registry_of(20_000, rng)
    filler = "GET /v1/images/generations 200 31ms request 4f1c2a9e session …abcd polled 3 jobs; " * 3
    small_lines = [f"{filler} {s[:40]}" for s in small_secrets[:200]] + [filler] * 200
    large_lines = [f"{filler} {s[:40]}" for s in large_secrets[:200]] + [filler] * 200
    ratio = _per_line(large.redact, large_lines) / _per_line(small.redact, small_lines)
    assert ratio < 3, ratio
    assert large_secrets[5] not in large.redact(f"x{large_secrets[5]}y")
