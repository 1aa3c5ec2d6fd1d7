"""auth_sessions (every access token and dashboard sign-in names one, revocable) and
api_keys.scopes (existing keys keep every right: "admin")

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 12:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql

import llmlab_app.db.types

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("signed_in_at", llmlab_app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", llmlab_app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", llmlab_app.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", llmlab_app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_sessions_user_id"), ["user_id"], unique=False)
    # Refresh tokens issued before sessions existed: their family becomes a session, so a
    # client refreshes into the new access tokens instead of being signed out by the upgrade.
    op.execute(
        "INSERT INTO auth_sessions "
        "(id, user_id, kind, token_hash, signed_in_at, expires_at, revoked_at, created_at) "
        "SELECT family_id, user_id, 'api', NULL, MIN(created_at), MAX(expires_at), "
        "CASE WHEN COUNT(*) = COUNT(revoked_at) THEN MAX(revoked_at) END, MIN(created_at) "
        "FROM refresh_tokens GROUP BY family_id, user_id"
    )

    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "scopes",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default='["admin"]',
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("scopes")

    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_sessions_user_id"))

    op.drop_table("auth_sessions")
