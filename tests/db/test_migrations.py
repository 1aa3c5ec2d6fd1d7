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
        version = connection.execute(
            text("SELECT settings_version FROM organisations")
        ).scalar_one()
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


# --- 0010: organisations ---------------------------------------------------------------------


def _revision_before(revision: str) -> str:
    from alembic.script import ScriptDirectory

    from llmlab_app.db.engine import _alembic_config

    down = ScriptDirectory.from_config(_alembic_config()).get_revision(revision).down_revision
    assert isinstance(down, str)
    return down


def _money(engine: Engine, text_value: str) -> object:
    """An amount as the Money column stores it: 1e-10 USD units on SQLite, NUMERIC elsewhere."""
    from decimal import Decimal

    value = Decimal(text_value)
    return int(value.scaleb(10)) if engine.dialect.name == "sqlite" else value


def _write_one_account(engine: Engine, email: str, settings_version: int) -> dict[str, uuid.UUID]:
    """One user with a row in every table they own, written with the schema before 0010."""
    names = ("user", "key", "project", "budget", "alert", "event", "delivery", "override")
    ids = {name: uuid.uuid4() for name in (*names, "refresh")}
    now = "2026-11-26 12:00:00.000000"
    statements = [
        (
            "INSERT INTO users (id, email, password_hash, created_at, updated_at, "
            "settings_version) VALUES (:user, :email, 'x', :now, :now, :version)"
        ),
        (
            "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at) "
            "VALUES (:key, :user, 'ci', 'llmlab_x', :email, :now)"
        ),
        (
            "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created_at, "
            "expires_at) VALUES (:refresh, :user, :refresh, :email, :now, :now)"
        ),
        (
            "INSERT INTO projects (id, user_id, name, created_at) "
            "VALUES (:project, :user, 'web', :now)"
        ),
        (
            "INSERT INTO cost_events (id, user_id, project_id, client_event_id, provider, model, "
            "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
            "reasoning_tokens, tokens_used, cost_usd, unpriced, cost_source, timestamp, status, "
            "tags, metadata, created_at) VALUES (:event, :user, :project, 'e-1', 'openai', "
            "'gpt-4o', 1000, 10, 0, 0, 0, 1010, :cost, false, 'engine', :now, 'success', "
            "'[]', '{}', :now)"
        ),
        (
            "INSERT INTO daily_spend (user_id, project_id, day, provider, model, calls, "
            "error_calls, unpriced_calls, input_tokens, output_tokens, cache_read_tokens, "
            "cache_write_tokens, reasoning_tokens, cost_usd) VALUES (:user, :project, "
            "'2026-11-26', 'openai', 'gpt-4o', 1, 0, 0, 1000, 10, 0, 0, 0, :cost)"
        ),
        (
            "INSERT INTO daily_spend (user_id, project_id, day, provider, model, calls, "
            "error_calls, unpriced_calls, input_tokens, output_tokens, cache_read_tokens, "
            "cache_write_tokens, reasoning_tokens, cost_usd) VALUES (:user, :nil, "
            "'2026-11-25', 'openai', 'gpt-4o', 2, 0, 0, 2000, 20, 0, 0, 0, :cost)"
        ),
        (
            "INSERT INTO budgets (id, user_id, project_id, name, amount_usd, period, "
            "alert_thresholds, webhook_url, hard_limit, created_at, updated_at) VALUES "
            "(:budget, :user, :project, 'cap', :amount, 'monthly', '[50]', "
            "'https://hooks.example.com/x', false, :now, :now)"
        ),
        (
            "INSERT INTO budget_alerts (id, budget_id, period_start, kind, threshold, spent_usd, "
            "created_at) VALUES (:alert, :budget, '2026-11-01', 'threshold', 50, :cost, :now)"
        ),
        (
            "INSERT INTO webhook_deliveries (id, alert_id, url, payload, status, attempts, "
            "created_at) VALUES (:delivery, :alert, 'https://hooks.example.com/x', '{}', "
            "'pending', 0, :now)"
        ),
        (
            "INSERT INTO webhook_signing_secrets (user_id, secret, created_at) "
            "VALUES (:user, :email, :now)"
        ),
        (
            "INSERT INTO price_overrides (id, user_id, provider, model, input_per_mtok, "
            "output_per_mtok, valid_from, created_at) VALUES (:override, :user, 'openai', "
            "'gpt-4o', :amount, :amount, :now, :now)"
        ),
    ]
    params = {name: _stored_id(engine, value) for name, value in ids.items()} | {
        "email": email,
        "now": now,
        "nil": _stored_id(engine, uuid.UUID(int=0)),
        "version": settings_version,
        "cost": _money(engine, "0.0026"),
        "amount": _money(engine, "5"),
    }
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), params)
    return ids


def test_upgrading_to_organisations_moves_every_row_into_the_personal_organisation(
    scratch_engine,
):
    """Data written at the revision before 0010 is all there afterwards, each row under the
    personal organisation of the user who owned it, with its values unchanged."""
    from decimal import Decimal

    from sqlmodel import Session, select

    from llmlab_app.db import models as m

    migrate(scratch_engine, _revision_before("0010"))
    ada = _write_one_account(scratch_engine, "ada@example.com", settings_version=7)
    grace = _write_one_account(scratch_engine, "grace@example.com", settings_version=0)
    migrate(scratch_engine)

    owned = {
        "key": m.ApiKey,
        "project": m.Project,
        "event": m.CostEvent,
        "budget": m.Budget,
        "alert": m.BudgetAlert,
        "delivery": m.WebhookDelivery,
        "override": m.PriceOverride,
    }
    with Session(scratch_engine) as session:
        personal = {org.personal_user_id: org for org in session.exec(select(m.Organisation))}
        assert set(personal) == {ada["user"], grace["user"]}
        for account, email, version in (
            (ada, "ada@example.com", 7),
            (grace, "grace@example.com", 0),
        ):
            org = personal[account["user"]]
            assert (org.name, org.settings_version) == (email, version)
            membership = session.get(m.Membership, (org.id, account["user"]))
            assert membership is not None and membership.role == "owner"
            for name, model in owned.items():
                row = session.get(model, account[name])
                assert row is not None and row.org_id == org.id, model.__tablename__
            secret = session.get(m.WebhookSigningSecret, org.id)
            assert secret is not None and secret.secret == email
            rollup = session.exec(select(m.DailySpend).where(m.DailySpend.org_id == org.id)).all()
            assert sorted(row.calls for row in rollup) == [1, 2]
            assert {row.api_key_id for row in rollup} == {m.NO_KEY}
            assert session.get(m.ApiKey, account["key"]).user_id == account["user"]
        for model in (*owned.values(), m.RefreshToken, m.Membership):
            assert len(session.exec(select(model)).all()) == 2, model.__tablename__
        assert [e.cost_usd for e in session.exec(select(m.CostEvent))] == [Decimal("0.0026")] * 2
        assert [b.amount_usd for b in session.exec(select(m.Budget))] == [Decimal(5)] * 2
        assert {o.output_per_mtok for o in session.exec(select(m.PriceOverride))} == {Decimal(5)}
        assert {r.cost_usd for r in session.exec(select(m.DailySpend))} == {Decimal("0.0026")}


def test_downgrading_below_organisations_gives_the_data_back_to_its_user(scratch_engine):
    migrate(scratch_engine, _revision_before("0010"))
    ada = _write_one_account(scratch_engine, "ada@example.com", settings_version=3)
    migrate(scratch_engine)
    downgrade(scratch_engine, _revision_before("0010"))
    with scratch_engine.connect() as connection:
        for table in (
            "api_keys",
            "projects",
            "cost_events",
            "budgets",
            "price_overrides",
            "webhook_signing_secrets",
        ):
            owners = connection.execute(text(f"SELECT user_id FROM {table}")).scalars().all()
            assert [str(uuid.UUID(str(owner))) for owner in owners] == [str(ada["user"])], table
        assert connection.execute(text("SELECT SUM(calls) FROM daily_spend")).scalar_one() == 3
        assert connection.execute(text("SELECT settings_version FROM users")).scalar_one() == 3
    migrate(scratch_engine)


# --- 0011: the event's source -----------------------------------------------------------------


def test_event_sources_move_out_of_metadata_into_their_column_and_back(scratch_engine):
    """Gateway events said `metadata.source = "gateway"` before 0011: afterwards the column
    says it (the metadata keeps the rest), every other event is `api`, and no event has a
    reported cost. Downgrading puts the metadata back as it was."""
    migrate(scratch_engine, _revision_before("0010"))
    _write_one_account(scratch_engine, "ada@example.com", settings_version=0)
    migrate(scratch_engine, "0010")
    with scratch_engine.begin() as connection:
        org_id = connection.execute(text("SELECT id FROM organisations")).scalar_one()
        connection.execute(
            text(
                "INSERT INTO cost_events (id, org_id, client_event_id, provider, model, "
                "input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
                "reasoning_tokens, tokens_used, unpriced, cost_source, timestamp, status, tags, "
                "metadata, created_at) VALUES (:id, :org, 'g-1', 'openai', 'gpt-4o', 1, 1, 0, "
                "0, 0, 2, false, 'engine', :now, 'success', '[]', "
                '\'{"source": "gateway", "endpoint": "chat/completions"}\', :now)'
            ),
            {
                "id": _stored_id(scratch_engine, uuid.uuid4()),
                "org": org_id,
                "now": "2026-11-26 12:00:00.000000",
            },
        )

    def events() -> dict[str, dict]:
        with scratch_engine.connect() as connection:
            rows = connection.execute(text("SELECT client_event_id, metadata FROM cost_events"))
            return {
                event_id: json.loads(meta) if isinstance(meta, str) else meta
                for event_id, meta in rows
            }

    migrate(scratch_engine)
    with scratch_engine.connect() as connection:
        stored = dict(
            connection.execute(
                text(
                    "SELECT client_event_id, source FROM cost_events "
                    "WHERE reported_cost_usd IS NULL"
                )
            ).all()
        )
    assert stored == {"e-1": "api", "g-1": "gateway"}
    assert events() == {"e-1": {}, "g-1": {"endpoint": "chat/completions"}}

    downgrade(scratch_engine, "0010")
    assert events() == {"e-1": {}, "g-1": {"source": "gateway", "endpoint": "chat/completions"}}
