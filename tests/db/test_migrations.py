"""The schema is built only by alembic: up, check, down and up again, on both databases."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from llmlab_app.db.engine import downgrade, make_engine, migrate
from tests.conftest import BACKENDS

EXPECTED_TABLES = {
    "users",
    "api_keys",
    "auth_sessions",
    "refresh_tokens",
    "projects",
    "cost_events",
    "daily_spend",
    "budgets",
    "budget_alerts",
    "price_overrides",
    "webhook_signing_secrets",
}


@pytest.fixture(params=BACKENDS)
def scratch_engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    """An empty database of its own (the shared test databases stay migrated)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'scratch.db'}")
        yield engine
        engine.dispose()
        return
    base = make_url(os.environ["LLMLAB_TEST_DATABASE_URL"])
    name = f"llmlab_scratch_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(base.set(database=name).render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _stored_id(engine: Engine, value: uuid.UUID) -> str:
    """A UUID as the column type stores it: hex on SQLite, the native text on PostgreSQL."""
    return value.hex if engine.dialect.name == "sqlite" else str(value)


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_migrations_build_the_whole_schema_and_match_the_models(scratch_engine):
    import llmlab_app.db.models  # noqa: F401

    migrate(scratch_engine)
    assert _tables(scratch_engine) >= EXPECTED_TABLES
    with scratch_engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], f"models differ from migrations: {diff}"


def test_migrations_go_down_and_up_again(scratch_engine):
    migrate(scratch_engine)
    downgrade(scratch_engine, "base")
    assert _tables(scratch_engine) == set()
    migrate(scratch_engine)
    assert _tables(scratch_engine) >= EXPECTED_TABLES


def test_upgrading_a_database_with_data_keeps_the_data(scratch_engine):
    migrate(scratch_engine, "0001")
    with scratch_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, password_hash, created_at, updated_at) "
                "VALUES (:id, 'kept@example.com', 'x', :now, :now)"
            ),
            {"id": _stored_id(scratch_engine, uuid.uuid4()), "now": "2026-01-01 00:00:00"},
        )
    migrate(scratch_engine)
    with scratch_engine.connect() as connection:
        assert (
            connection.execute(text("SELECT email FROM users")).scalar_one() == "kept@example.com"
        )


def test_upgrading_keeps_every_row(scratch_engine):
    """A later migration must never lose data: rows written at 0002 are all there at head
    (on SQLite a table rebuild with foreign keys on would cascade-delete their children)."""
    migrate(scratch_engine, "0002")
    uid, kid, pid = (_stored_id(scratch_engine, uuid.uuid4()) for _ in range(3))
    now = "2026-11-26 12:00:00.000000"
    with scratch_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, password_hash, created_at, updated_at) "
                "VALUES (:id, 'a@example.com', 'x', :now, :now)"
            ),
            {"id": uid, "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at) "
                "VALUES (:id, :user, 'k', 'llmlab_x', 'h', :now)"
            ),
            {"id": kid, "user": uid, "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO projects (id, user_id, name, created_at) "
                "VALUES (:id, :user, 'web', :now)"
            ),
            {"id": pid, "user": uid, "now": now},
        )
    migrate(scratch_engine)
    with scratch_engine.connect() as connection:
        counts = {
            table: connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            for table in ("users", "api_keys", "projects")
        }
        version = connection.execute(text("SELECT settings_version FROM users")).scalar_one()
    assert counts == {"users": 1, "api_keys": 1, "projects": 1}
    assert version == 0


def test_keys_made_before_scopes_stay_admin_and_refresh_tokens_keep_a_session(scratch_engine):
    """0005: existing API keys keep every right (`admin`), and each refresh-token family
    becomes a session, so clients refresh into the new access tokens instead of being
    signed out by the upgrade."""
    migrate(scratch_engine, "0004")
    uid, kid, tid, family = (uuid.uuid4() for _ in range(4))
    now = "2026-11-26 12:00:00.000000"
    with scratch_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, password_hash, created_at, updated_at) "
                "VALUES (:id, 'a@example.com', 'x', :now, :now)"
            ),
            {"id": _stored_id(scratch_engine, uid), "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at) "
                "VALUES (:id, :user, 'k', 'llmlab_x', 'h', :now)"
            ),
            {
                "id": _stored_id(scratch_engine, kid),
                "user": _stored_id(scratch_engine, uid),
                "now": now,
            },
        )
        connection.execute(
            text(
                "INSERT INTO refresh_tokens "
                "(id, user_id, family_id, token_hash, created_at, expires_at) "
                "VALUES (:id, :user, :family, 'r', :now, '2026-12-26 12:00:00.000000')"
            ),
            {
                "id": _stored_id(scratch_engine, tid),
                "user": _stored_id(scratch_engine, uid),
                "family": _stored_id(scratch_engine, family),
                "now": now,
            },
        )
    migrate(scratch_engine)
    with scratch_engine.connect() as connection:
        scopes = connection.execute(text("SELECT scopes FROM api_keys")).scalar_one()
        sessions = connection.execute(text("SELECT id, kind, revoked_at FROM auth_sessions")).all()
    assert (json.loads(scopes) if isinstance(scopes, str) else scopes) == ["admin"]
    assert [(str(row[0]).replace("-", ""), row[1], row[2]) for row in sessions] == [
        (family.hex, "api", None)
    ]
