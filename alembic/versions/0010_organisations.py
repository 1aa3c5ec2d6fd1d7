"""organisations own the data; users are members with a role

Every user gets a personal organisation (named by their email) where they are the owner, and
everything they owned moves into it, row for row: projects, events, the daily rollup, budgets
with their alerts and webhook deliveries, API keys (which keep their creator), price
overrides, the webhook signing secret, and the settings version the ingest writer keeps. The
daily rollup gains the API
key in its key (the nil UUID for rows recorded before: their key is not known).

Downgrading gives each personal organisation's data back to its user; it refuses while
shared organisations exist, whose data has no single user to go back to.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-02 12:00:00

"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import llmlab_app.db.types

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NIL = uuid.UUID(int=0)
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC_TIME = llmlab_app.db.types.UTCDateTime(timezone=True)
# Alembic's batch mode (SQLite) finds unnamed constraints through these names.
NAMING = {
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# Tables whose rows belong to the user in `user_id` until this migration.
OWNED = (
    "projects",
    "cost_events",
    "budgets",
    "price_overrides",
    "daily_spend",
    "webhook_signing_secrets",
)
ROLLUP_SUMS = (
    "calls",
    "error_calls",
    "unpriced_calls",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
    "cost_usd",
)


def upgrade() -> None:
    _create_tables()
    _personal_organisations()
    _move_owned_rows()
    _drop_user_columns()
    _add_new_keys()


def _create_tables() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("personal_user_id", sa.Uuid(), nullable=True),
        sa.Column("settings_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("members_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["personal_user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("personal_user_id"),
    )
    op.create_table(
        "memberships",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("org_id", "user_id"),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])
    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("accepted_at", UTC_TIME, nullable=True),
        sa.Column("accepted_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["invited_by_user_id"], ["users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["accepted_by_user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_invitations_org_id", "invitations", ["org_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("actor_email", sa.String(length=320), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=320), nullable=True),
        sa.Column("details", JSON_DOC, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_events_org_created", "audit_events", ["org_id", "created_at", "id"])


def _personal_organisations() -> None:
    """One organisation per user, with the user as its owner and their settings version."""
    bind = op.get_bind()
    users = bind.execute(sa.text("SELECT id, email, settings_version, created_at FROM users")).all()
    organisations = sa.table(
        "organisations",
        sa.column("id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("personal_user_id", sa.Uuid()),
        sa.column("settings_version", sa.Integer()),
        sa.column("members_version", sa.Integer()),
        sa.column("created_at", UTC_TIME),
    )
    memberships = sa.table(
        "memberships",
        sa.column("org_id", sa.Uuid()),
        sa.column("user_id", sa.Uuid()),
        sa.column("role", sa.String()),
        sa.column("created_at", UTC_TIME),
    )
    org_rows, member_rows = [], []
    for user_id, email, version, created_at in users:
        user_id = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
        created_at = llmlab_app.db.types.UTCDateTime().process_result_value(
            _as_datetime(created_at), bind.dialect
        )
        org_id = uuid.uuid4()
        org_rows.append(
            {
                "id": org_id,
                "name": email[:100],
                "personal_user_id": user_id,
                "settings_version": version,
                "members_version": 0,
                "created_at": created_at,
            }
        )
        member_rows.append(
            {"org_id": org_id, "user_id": user_id, "role": "owner", "created_at": created_at}
        )
    if org_rows:
        op.bulk_insert(organisations, org_rows)
        op.bulk_insert(memberships, member_rows)


def _as_datetime(value: object) -> object:
    from datetime import datetime

    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _move_owned_rows() -> None:
    personal_org = "(SELECT o.id FROM organisations o WHERE o.personal_user_id = {table}.user_id)"
    for table in (*OWNED, "api_keys"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("org_id", sa.Uuid(), nullable=True))
        op.execute(f"UPDATE {table} SET org_id = {personal_org.format(table=table)}")
    for table in ("budget_alerts", "webhook_deliveries"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("org_id", sa.Uuid(), nullable=True))
    op.execute(
        "UPDATE budget_alerts SET org_id = "
        "(SELECT b.org_id FROM budgets b WHERE b.id = budget_alerts.budget_id)"
    )
    op.execute(
        "UPDATE webhook_deliveries SET org_id = "
        "(SELECT a.org_id FROM budget_alerts a WHERE a.id = webhook_deliveries.alert_id)"
    )
    with op.batch_alter_table("cost_events") as batch:
        batch.add_column(sa.Column("api_key_id", sa.Uuid(), nullable=True))
    with op.batch_alter_table("daily_spend") as batch:
        batch.add_column(sa.Column("api_key_id", sa.Uuid(), nullable=True))
    op.execute(
        sa.text("UPDATE daily_spend SET api_key_id = :nil").bindparams(
            sa.bindparam("nil", NIL, type_=sa.Uuid())
        )
    )


def _drop_user_columns() -> None:
    with op.batch_alter_table("projects", naming_convention=NAMING) as batch:
        batch.drop_constraint("uq_projects_user_name", type_="unique")
        batch.drop_index("ix_projects_user_id")
        batch.drop_constraint(_fk_name("projects", "user_id", "users"), type_="foreignkey")
        batch.drop_column("user_id")
    with op.batch_alter_table("cost_events", naming_convention=NAMING) as batch:
        batch.drop_constraint("uq_cost_events_user_client_id", type_="unique")
        batch.drop_index("ix_cost_events_user_model")
        batch.drop_index("ix_cost_events_user_project_timestamp")
        batch.drop_index("ix_cost_events_user_timestamp")
        batch.drop_constraint(_fk_name("cost_events", "user_id", "users"), type_="foreignkey")
        batch.drop_column("user_id")
    with op.batch_alter_table("budgets", naming_convention=NAMING) as batch:
        batch.drop_index("ix_budgets_user_id")
        batch.drop_constraint(_fk_name("budgets", "user_id", "users"), type_="foreignkey")
        batch.drop_column("user_id")
    with op.batch_alter_table("price_overrides", naming_convention=NAMING) as batch:
        batch.drop_constraint("uq_price_overrides_key", type_="unique")
        batch.drop_index("ix_price_overrides_user_id")
        batch.drop_constraint(_fk_name("price_overrides", "user_id", "users"), type_="foreignkey")
        batch.drop_column("user_id")
    with op.batch_alter_table("daily_spend", naming_convention=NAMING) as batch:
        batch.drop_constraint(_daily_spend_pk(), type_="primary")
        batch.drop_constraint(_fk_name("daily_spend", "user_id", "users"), type_="foreignkey")
        batch.drop_column("user_id")
    with op.batch_alter_table("webhook_signing_secrets", naming_convention=NAMING) as batch:
        batch.drop_constraint(_pk_name("webhook_signing_secrets"), type_="primary")
        batch.drop_constraint(
            _fk_name("webhook_signing_secrets", "user_id", "users"), type_="foreignkey"
        )
        batch.drop_column("user_id")
    with op.batch_alter_table("api_keys", naming_convention=NAMING) as batch:
        batch.drop_constraint(_fk_name("api_keys", "user_id", "users"), type_="foreignkey")
        batch.alter_column("user_id", existing_type=sa.Uuid(), nullable=True)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("settings_version")


def _fk_name(table: str, column: str, referred: str) -> str:
    """The name of a foreign key made by 0001: PostgreSQL's own, or the batch convention's."""
    if op.get_bind().dialect.name == "postgresql":
        return f"{table}_{column}_fkey"
    return f"fk_{table}_{column}_{referred}"


def _pk_name(table: str) -> str:
    # PostgreSQL named it; SQLite's has no name but the batch naming convention's.
    return f"{table}_pkey" if op.get_bind().dialect.name == "postgresql" else f"pk_{table}"


def _daily_spend_pk() -> str:
    return _pk_name("daily_spend")


def _add_new_keys() -> None:
    def org_fk(batch: object, table: str) -> None:
        batch.alter_column("org_id", existing_type=sa.Uuid(), nullable=False)  # type: ignore[attr-defined]
        batch.create_foreign_key(  # type: ignore[attr-defined]
            f"fk_{table}_org_id_organisations",
            "organisations",
            ["org_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("projects", naming_convention=NAMING) as batch:
        org_fk(batch, "projects")
        batch.create_unique_constraint("uq_projects_org_name", ["org_id", "name"])
        batch.create_index("ix_projects_org_id", ["org_id"])
    with op.batch_alter_table("cost_events", naming_convention=NAMING) as batch:
        org_fk(batch, "cost_events")
        batch.create_foreign_key(
            "fk_cost_events_api_key_id_api_keys",
            "api_keys",
            ["api_key_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_unique_constraint(
            "uq_cost_events_org_client_id", ["org_id", "client_event_id"]
        )
        batch.create_index("ix_cost_events_org_model", ["org_id", "model"])
        batch.create_index(
            "ix_cost_events_org_project_timestamp", ["org_id", "project_id", "timestamp"]
        )
        batch.create_index("ix_cost_events_org_timestamp", ["org_id", "timestamp"])
    with op.batch_alter_table("budgets", naming_convention=NAMING) as batch:
        org_fk(batch, "budgets")
        batch.create_index("ix_budgets_org_id", ["org_id"])
    for table in ("budget_alerts", "webhook_deliveries"):
        with op.batch_alter_table(table, naming_convention=NAMING) as batch:
            org_fk(batch, table)
            batch.create_index(f"ix_{table}_org_id", ["org_id"])
    with op.batch_alter_table("price_overrides", naming_convention=NAMING) as batch:
        org_fk(batch, "price_overrides")
        batch.create_unique_constraint(
            "uq_price_overrides_key", ["org_id", "provider", "model", "valid_from"]
        )
        batch.create_index("ix_price_overrides_org_id", ["org_id"])
    with op.batch_alter_table("daily_spend", naming_convention=NAMING) as batch:
        org_fk(batch, "daily_spend")
        batch.alter_column("api_key_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_primary_key(
            _daily_spend_pk(), ["org_id", "project_id", "day", "provider", "model", "api_key_id"]
        )
    with op.batch_alter_table("webhook_signing_secrets", naming_convention=NAMING) as batch:
        org_fk(batch, "webhook_signing_secrets")
        batch.create_primary_key(_pk_name("webhook_signing_secrets"), ["org_id"])
    with op.batch_alter_table("api_keys", naming_convention=NAMING) as batch:
        org_fk(batch, "api_keys")
        batch.create_foreign_key(
            "fk_api_keys_user_id_users", "users", ["user_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_api_keys_org_id", ["org_id"])


def downgrade() -> None:
    bind = op.get_bind()
    shared = bind.execute(
        sa.text("SELECT COUNT(*) FROM organisations WHERE personal_user_id IS NULL")
    ).scalar_one()
    if shared:
        raise RuntimeError(
            f"{shared} shared organisation(s) exist; delete them before downgrading below 0010"
        )
    personal_user = "(SELECT o.personal_user_id FROM organisations o WHERE o.id = {table}.org_id)"
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("settings_version", sa.Integer(), server_default="0", nullable=False)
        )
    op.execute(
        "UPDATE users SET settings_version = COALESCE((SELECT o.settings_version FROM "
        "organisations o WHERE o.personal_user_id = users.id), 0)"
    )
    # Keys whose creator is gone cannot go back to a user.
    op.execute("DELETE FROM api_keys WHERE user_id IS NULL")
    for table in OWNED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("user_id", sa.Uuid(), nullable=True))
        op.execute(f"UPDATE {table} SET user_id = {personal_user.format(table=table)}")
    # The rollup's key part goes: rows that differ only by key are summed into one.
    key = "user_id, project_id, day, provider, model"
    sums = ", ".join(f"SUM({name}) AS {name}" for name in ROLLUP_SUMS)
    op.execute(
        f"CREATE TABLE daily_spend_merged AS SELECT {key}, {sums} FROM daily_spend GROUP BY {key}"
    )
    op.execute("DELETE FROM daily_spend")
    op.drop_table("audit_events")
    op.drop_table("invitations")
    with op.batch_alter_table("daily_spend", naming_convention=NAMING) as batch:
        batch.drop_constraint(_daily_spend_pk(), type_="primary")
        batch.drop_constraint("fk_daily_spend_org_id_organisations", type_="foreignkey")
        batch.drop_column("org_id")
        batch.drop_column("api_key_id")
        batch.alter_column("user_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_foreign_key(
            _fk_name("daily_spend", "user_id", "users"),
            "users",
            ["user_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_primary_key(
            _daily_spend_pk(), ["user_id", "project_id", "day", "provider", "model"]
        )
    columns = f"{key}, {', '.join(ROLLUP_SUMS)}"
    op.execute(f"INSERT INTO daily_spend ({columns}) SELECT {columns} FROM daily_spend_merged")
    op.drop_table("daily_spend_merged")
    for table in ("budget_alerts", "webhook_deliveries"):
        with op.batch_alter_table(table, naming_convention=NAMING) as batch:
            batch.drop_index(f"ix_{table}_org_id")
            batch.drop_constraint(f"fk_{table}_org_id_organisations", type_="foreignkey")
            batch.drop_column("org_id")
    with op.batch_alter_table("api_keys", naming_convention=NAMING) as batch:
        batch.drop_index("ix_api_keys_org_id")
        batch.drop_constraint("fk_api_keys_org_id_organisations", type_="foreignkey")
        batch.drop_constraint("fk_api_keys_user_id_users", type_="foreignkey")
        batch.drop_column("org_id")
        batch.alter_column("user_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_foreign_key(
            _fk_name("api_keys", "user_id", "users"),
            "users",
            ["user_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("projects", naming_convention=NAMING) as batch:
        batch.drop_constraint("uq_projects_org_name", type_="unique")
        batch.drop_index("ix_projects_org_id")
        batch.drop_constraint("fk_projects_org_id_organisations", type_="foreignkey")
        batch.drop_column("org_id")
        batch.alter_column("user_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_foreign_key(
            _fk_name("projects", "user_id", "users"),
            "users",
            ["user_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint("uq_projects_user_name", ["user_id", "name"])
        batch.create_index("ix_projects_user_id", ["user_id"])
    with op.batch_alter_table("cost_events", naming_convention=NAMING) as batch:
        batch.drop_constraint("uq_cost_events_org_client_id", type_="unique")
        batch.drop_index("ix_cost_events_org_model")
        batch.drop_index("ix_cost_events_org_project_timestamp")
        batch.drop_index("ix_cost_events_org_timestamp")
        batch.drop_constraint("fk_cost_events_org_id_organisations", type_="foreignkey")
        batch.drop_constraint("fk_cost_events_api_key_id_api_keys", type_="foreignkey")
        batch.drop_column("org_id")
        batch.drop_column("api_key_id")
        batch.alter_column("user_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_foreign_key(
            _fk_name("cost_events", "user_id", "users"),
            "users",
            ["user_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint(
            "uq_cost_events_user_client_id", ["user_id", "client_event_id"]
        )
        batch.create_index("ix_cost_events_user_model", ["user_id", "model"])
        batch.create_index(
            "ix_cost_events_user_project_timestamp", ["user_id", "project_id", "timestamp"]
        )
        batch.create_index("ix_cost_events_user_timestamp", ["user_id", "timestamp"])
    with op.batch_alter_table("budgets", naming_convention=NAMING) as batch:
        batch.drop_index("ix_budgets_org_id")
        batch.drop_constraint("fk_budgets_org_id_organisations", type_="foreignkey")
        batch.drop_column("org_id")
        batch.alter_column("user_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_foreign_key(
            _fk_name("budgets", "user_id", "users"),
            "users",
            ["user_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_budgets_user_id", ["user_id"])
    with op.batch_alter_table("price_overrides", naming_convention=NAMING) as batch:
        batch.drop_constraint("uq_price_overrides_key", type_="unique")
        batch.drop_index("ix_price_overrides_org_id")
        batch.drop_constraint("fk_price_overrides_org_id_organisations", type_="foreignkey")
        batch.drop_column("org_id")
        batch.alter_column("user_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_foreign_key(
            _fk_name("price_overrides", "user_id", "users"),
            "users",
            ["user_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint(
            "uq_price_overrides_key", ["user_id", "provider", "model", "valid_from"]
        )
        batch.create_index("ix_price_overrides_user_id", ["user_id"])
    with op.batch_alter_table("webhook_signing_secrets", naming_convention=NAMING) as batch:
        batch.drop_constraint(_pk_name("webhook_signing_secrets"), type_="primary")
        batch.drop_constraint("fk_webhook_signing_secrets_org_id_organisations", type_="foreignkey")
        batch.drop_column("org_id")
        batch.alter_column("user_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_foreign_key(
            _fk_name("webhook_signing_secrets", "user_id", "users"),
            "users",
            ["user_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_primary_key(_pk_name("webhook_signing_secrets"), ["user_id"])
    op.drop_index("ix_memberships_user_id", table_name="memberships")
    op.drop_table("memberships")
    op.drop_table("organisations")
