"""/v1/models from the catalog source: live per account, static for anonymous callers and failures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.domain.catalog import Catalog, ImageModel, VideoModel
from app.domain.catalog_merge import LiveModels
from app.domain.errors import UpstreamUnavailableError
from app.domain.live_catalog import LiveCatalog
from app.domain.static_catalog import catalog_from_config
from app.jimeng.catalog import read_image_models, read_video_models
from config.settings import settings_for_tests
from tests.catalogs import static_catalog
from tests.config_answers import IMAGE_ANSWER, VIDEO_ANSWER


@dataclass
class FakeBackend:
    """Jimeng's two config answers (the protocol's examples), or a failure; records the sessions asked."""

    fail: bool = False
    asked: list[str] = field(default_factory=list)

    def image_models(self, session_id: str) -> LiveModels[ImageModel]:
        self.asked.append(session_id)
        if self.fail:
            raise UpstreamUnavailableError("Jimeng did not answer")
        return read_image_models(IMAGE_ANSWER["data"])

    def video_models(self, session_id: str) -> LiveModels[VideoModel]:
        if self.fail:
            raise UpstreamUnavailableError("Jimeng did not answer")
        return read_video_models(VIDEO_ANSWER["data"])


def inline(work: Callable[[], None]) -> None:
    work()


def app_with(backend: FakeBackend, static: Catalog | None = None, **settings: Any) -> Flask:
    app = create_app(settings_for_tests(log_level="WARNING", **settings))
    static = static or static_catalog()
    app.extensions["catalog"] = LiveCatalog(backend, static, ttl=3600, spawn=inline)
    return app


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def client(backend: FakeBackend) -> FlaskClient:
    return app_with(backend).test_client()


def ids(client: FlaskClient, **headers: str) -> list[str]:
    response = client.get("/v1/models", headers=headers)
    assert response.status_code == 200
    return [entry["id"] for entry in response.get_json()["data"]]


STATIC_IDS = [
    "jimeng-5.0",
    "jimeng-5.0-pro",
    "jimeng-4.0",
    "jimeng-video-seedance-2.0",
    "jimeng-video-seedance-2.5",
    "jimeng-video-seedance-2.5-draft",
]


def test_without_authorization_the_static_list_and_no_upstream_call(client: FlaskClient, backend: FakeBackend) -> None:
    assert ids(client) == STATIC_IDS
    assert ids(client, Authorization="Bearer") == STATIC_IDS  # unusable: anonymous, not 401
    assert backend.asked == []


def test_a_session_sees_the_live_models_of_its_account(client: FlaskClient, backend: FakeBackend) -> None:
    body = client.get("/v1/models", headers={"Authorization": "Bearer session-one,session-two"}).get_json()
    assert backend.asked == ["session-one"]
    assert [m["id"] for m in body["data"]] == [
        "jimeng-5.0-pro",  # the static default jimeng-5.0 is not offered: the live default index
        "jimeng-high_aes_general_v50_flash",
        "jimeng-video-seedance-2.5",
        "jimeng-video-seedance-2.5-draft",
    ]
    pro, flash, video, draft = body["data"]
    assert {k: pro[k] for k in ("object", "created", "owned_by", "type", "live")} == {
        "object": "model",
        "created": 1759104000,
        "owned_by": "jimeng",
        "type": "image",
        "live": True,
    }
    assert pro["description"] == "static jimeng-5.0-pro"
    assert pro["capabilities"] == {
        "type": "image",
        "tiers": {
            "1.5k": {"1:1": "1536x1536"},
            "2k": {"1:1": "2048x2048", "16:9": "2560x1440"},
            "4k": {"1:1": "4096x4096", "16:9": "5404x3040"},
        },
        "default_tier": "2k",
        "ratios": ["1:1", "16:9"],
        "count_options": [1, 2, 3, 4],
        "default_count": 2,
        "blend": True,
        "max_input_images": 10,
        "aliases": [],
    }
    assert flash["description"].endswith("(new model, not in upstream.yml)")
    assert video["capabilities"] == {
        "type": "video",
        "resolutions": ["480p", "720p", "1080p"],
        "default_resolution": "720p",
        "ratios": ["21:9", "16:9", "4:3", "1:1", "3:4", "9:16"],
        "default_ratio": "16:9",
        "durations": [4, 5, 6, 7, 8],
        "default_duration": 5,
        "frames": ["first_frame", "end_frame"],
        "draft_mode": False,
        "aliases": [],
    }
    assert draft["capabilities"]["draft_mode"] is True
    assert draft["capabilities"]["durations"] == [4, 5, 10, 15]  # not in the answer: from the static model
    assert ids(client) == [m["id"] for m in body["data"]]  # anonymous callers now see a cached live catalog
    assert backend.asked == ["session-one"]


def test_a_failing_upstream_answers_from_the_static_table() -> None:
    client = app_with(FakeBackend(fail=True)).test_client()
    response = client.get("/v1/models", headers={"Authorization": "Bearer session-one"})
    assert response.status_code == 200
    assert [m["id"] for m in response.get_json()["data"]] == STATIC_IDS
    assert all(m["live"] is False for m in response.get_json()["data"])


def test_api_key_mode_uses_the_servers_first_session_for_a_valid_key_only() -> None:
    backend = FakeBackend()
    app = app_with(backend, api_keys=("key-1",), jimeng_session_ids=("server-a", "server-b"))
    client = app.test_client()
    assert ids(client, Authorization="Bearer wrong-key") == STATIC_IDS
    assert backend.asked == []
    assert "jimeng-high_aes_general_v50_flash" in ids(client, Authorization="Bearer key-1")
    assert backend.asked == ["server-a"]


def test_one_model_by_id_alias_and_the_unknown_and_retired_ones(client: FlaskClient) -> None:
    alias = client.get("/v1/models/jimeng-5.0-lite").get_json()  # an alias (static)
    assert (alias["id"], alias["root"], alias["type"]) == ("jimeng-5.0-lite", "jimeng-5.0", "image")
    unknown = client.get("/v1/models/gpt-4")
    assert (unknown.status_code, unknown.get_json()["error"]["code"]) == (404, "not_found")
    retired = client.get("/v1/models/jimeng-video-3.0")
    assert retired.status_code == 404
    assert "use jimeng-video-seedance-2.0" in retired.get_json()["error"]["message"]
    auth = {"Authorization": "Bearer session-one"}
    model = client.get("/v1/models/jimeng-high_aes_general_v50_flash", headers=auth).get_json()
    assert (model["id"], model["type"], model["capabilities"]["default_count"]) == (
        "jimeng-high_aes_general_v50_flash",
        "image",
        4,
    )
    gone = client.get("/v1/models/jimeng-5.0-lite", headers=auth)  # static, but not in this account's live list
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("asked", "root"),
    [
        ("jimeng-4.0:16:9", "jimeng-4.0"),
        ("jimeng-4.0:1024x1024", "jimeng-4.0"),
        ("jimeng-4.0: 9:16 ", "jimeng-4.0"),
        ("jimeng-4.0:", "jimeng-4.0"),
        ("jimeng-5.0-lite:16:9", "jimeng-5.0"),
        ("jimeng-video-seedance-2.0:9:16", "jimeng-video-seedance-2.0"),
    ],
)
def test_one_model_by_any_id_chat_accepts_echoes_the_id(client: FlaskClient, asked: str, root: str) -> None:
    body = client.get(f"/v1/models/{asked}").get_json()
    assert (body["id"], body["root"]) == (asked, root)


@pytest.mark.parametrize(
    "asked", ["jimeng-4.0:7:3", "jimeng-4.0:auto", "jimeng-4.0:16:9:x", "gpt-4:16:9", "jimeng-video-3.0:16:9"]
)
def test_an_id_chat_would_refuse_for_its_model_is_404(client: FlaskClient, asked: str) -> None:
    assert client.get(f"/v1/models/{asked}").status_code == 404


def test_the_default_model_of_each_kind_comes_first() -> None:
    static = static_catalog()
    static = replace(static, default_image="jimeng-4.0", default_video="jimeng-video-seedance-2.5-draft")
    client = app_with(FakeBackend(), static).test_client()
    listed = ids(client)
    assert listed[0] == "jimeng-4.0" and listed[3] == "jimeng-video-seedance-2.5-draft"


def test_the_app_wires_a_live_catalog_over_the_static_tables_of_upstream_yml() -> None:
    app = create_app(settings_for_tests(log_level="WARNING"))
    source = app.extensions["catalog"]
    assert isinstance(source, LiveCatalog)
    assert source.current() is source.static
    static = catalog_from_config(app.extensions["upstream"])
    assert source.static.default_image == static.default_image
    body = app.test_client().get("/v1/models").get_json()
    assert {m["id"] for m in body["data"]} == {m.id for m in (*static.images, *static.videos)}
