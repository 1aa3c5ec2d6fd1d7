"""cost_events.cache_write_1h_tokens and service_tier; daily_spend.cache_write_1h_tokens

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 12:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cost_events") as batch:
        batch.add_column(
            sa.Column("cache_write_1h_tokens", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("service_tier", sa.String(16), server_default="standard", nullable=False)
        )
    with op.batch_alter_table("daily_spend") as batch:
        batch.add_column(
            sa.Column("cache_write_1h_tokens", sa.BigInteger(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("daily_spend") as batch:
        batch.drop_column("cache_write_1h_tokens")
    with op.batch_alter_table("cost_events") as batch:
        batch.drop_column("service_tier")
        batch.drop_column("cache_write_1h_tokens")
