"""Property-based fuzzing of every route against the app's own OpenAPI schema: no 5xx, every
response documented and matching its schema and the envelope. Fixed seed, bounded.

Runs on its own SQLite database (schemathesis loads the schema at import time, before the
per-backend fixtures exist); the behaviour tests cover PostgreSQL.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from llmlab_app.api import create_app
from llmlab_app.config import Settings
from llmlab_app.db.engine import make_engine, migrate
from tests.conftest import TEST_SECRET, Account

ENVELOPE_KEYS = {"success", "data", "error", "timestamp"}

_data_dir = Path(tempfile.mkdtemp(prefix="llmlab-fuzz-"))
_engine = make_engine(f"sqlite:///{_data_dir / 'fuzz.db'}")
migrate(_engine)
_app = create_app(
    Settings(
        env="test",
        data_dir=_data_dir,
        database_url=str(_engine.url),
        jwt_secret=TEST_SECRET,
        rate_limit="1000000/minute",
        auth_rate_limit="1000000/minute",
    ),
    _engine,
)
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@pytest.fixture(scope="module")
def fuzz_account() -> Iterator[Account]:
    with TestClient(_app) as client:
        account = Account(client, "fuzz@example.com")
        account.track({"model": "gpt-4o", "input_tokens": 100, "output_tokens": 5, "project": "p"})
        yield account


@schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_route_answers_within_its_contract(case: Any, fuzz_account: Account) -> None:
    response = case.call(headers={"Authorization": f"Bearer {fuzz_account.access_token}"})
    case.validate_response(
        response,
        checks=(
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ),
    )
    content_type = (response.headers.get("content-type") or [""])[0]
    if content_type.startswith("application/json"):
        assert set(response.json()) == ENVELOPE_KEYS
