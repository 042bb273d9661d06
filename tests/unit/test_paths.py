"""Paths without /v1 and with trailing slashes reach the canonical endpoint."""

from __future__ import annotations

import pytest

from app import create_app
from app.api.paths import canonical_path
from config.settings import settings_for_tests


@pytest.mark.parametrize(
    ("path", "canonical"),
    [
        ("/chat/completions", "/v1/chat/completions"),
        ("/v1/chat/completions/", "/v1/chat/completions"),
        ("/chat/completions//", "/v1/chat/completions"),
        ("/images/generations", "/v1/images/generations"),
        ("/images/edits/", "/v1/images/edits"),
        ("/images/compositions", "/v1/images/compositions"),
        ("/videos/generations", "/v1/videos/generations"),
        ("/models", "/v1/models"),
        ("/models/", "/v1/models"),
        ("/models/jimeng-4.0:16:9", "/v1/models/jimeng-4.0:16:9"),
        ("/tasks/123/", "/v1/tasks/123"),
        ("/v1/models", "/v1/models"),
        ("/", "/"),
        ("/ping/", "/ping"),
        ("/openapi.json", "/openapi.json"),
        ("/modelsx", "/modelsx"),
        ("/chat/completionsx", "/chat/completionsx"),
        ("/token/check/", "/token/check"),
    ],
)
def test_canonical_path(path: str, canonical: str) -> None:
    assert canonical_path(path) == canonical


def test_the_app_serves_both_forms_and_openapi_lists_the_v1_paths_only() -> None:
    client = create_app(settings_for_tests(log_level="WARNING")).test_client()
    for path in ("/models", "/models/", "/v1/models/", "/models/jimeng-4.0"):
        assert client.get(path).status_code == 200, path
    assert client.post("/chat/completions/", json={}).status_code == 401  # routed: credentials are asked for
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "/v1/chat/completions" in paths and not any(p.startswith(("/chat", "/models", "/images")) for p in paths)
