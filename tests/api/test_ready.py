"""GET /ready: 200 when the database and Redis answer and the schema is at the code's
revision; 503 naming what is not ready. /health keeps its own, narrower meaning."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from llmlab_app.api import create_app
from llmlab_app.db.engine import downgrade, head_revisions, make_engine, migrate
from tests.live_server import free_port


def test_ready_when_the_database_answers_at_the_code_revision(client):
    response = client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["data"] == {
        "ready": True,
        "database": "ok",
        "redis": "not configured",
        "migrations": "ok",
        "schema_revision": sorted(head_revisions()),
        "code_revision": sorted(head_revisions()),
    }


@pytest.fixture
def behind_engine(tmp_path: Any) -> Iterator[Engine]:
    """A database one migration behind the code."""
    engine = make_engine(f"sqlite:///{tmp_path / 'behind.db'}")
    migrate(engine)
    downgrade(engine, "-1")
    yield engine
    engine.dispose()


def test_not_ready_while_migrations_are_pending(settings, behind_engine):
    # Not entered as a context manager: the lifespan would migrate the database.
    client = TestClient(create_app(settings, behind_engine))
    response = client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["success"] is False and body["data"]["migrations"] == "pending"
    [head] = head_revisions()
    assert body["error"].startswith("not ready: migrations pending (database at ")
    assert body["error"].endswith(f", code at {head})")
    assert client.get("/health").status_code == 200  # alive, only not ready


def test_not_ready_while_the_database_is_down(settings):
    down = make_engine(f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/llmlab")
    client = TestClient(create_app(settings, down))
    response = client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "not ready: database unavailable"
    assert (body["data"]["database"], body["data"]["migrations"]) == ("unavailable", "unknown")
    assert client.get("/health").status_code == 503  # documented: 503 while the database is down


def test_not_ready_while_redis_is_down(settings, engine):
    settings = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    with TestClient(create_app(settings, engine)) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["error"] == "not ready: redis unavailable"
    assert response.json()["data"]["redis"] == "unavailable"


@pytest.mark.skipif(
    not os.environ.get("LLMLAB_TEST_REDIS_URL"), reason="needs LLMLAB_TEST_REDIS_URL"
)
def test_ready_with_redis_answering(settings, engine):
    settings = settings.model_copy(update={"redis_url": os.environ["LLMLAB_TEST_REDIS_URL"]})
    with TestClient(create_app(settings, engine)) as client:
        response = client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["redis"] == "ok"
