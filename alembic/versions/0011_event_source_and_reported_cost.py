"""cost_events.source (api, sdk, otlp or gateway) and reported_cost_usd

`source` says which ingress an event came through; rows recorded before it are `api`, except
gateway calls, which said so in their metadata until now. `reported_cost_usd` keeps a cost the
sender reported (an OpenTelemetry span's `gen_ai.usage.cost`) beside LLMLab's own price.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 15:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import llmlab_app.db.types

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Gateway events said where they came from in their metadata; the column says it now.
_MOVE_SOURCE_OUT_OF_METADATA = {
    "postgresql": (
        "UPDATE cost_events SET source = 'gateway', metadata = metadata - 'source' "
        "WHERE metadata->>'source' = 'gateway'"
    ),
    "sqlite": (
        "UPDATE cost_events SET source = 'gateway', metadata = json_remove(metadata, '$.source') "
        "WHERE json_extract(metadata, '$.source') = 'gateway'"
    ),
}
_PUT_SOURCE_BACK_INTO_METADATA = {
    "postgresql": (
        "UPDATE cost_events SET metadata = jsonb_set(metadata, '{source}', '\"gateway\"') "
        "WHERE source = 'gateway'"
    ),
    "sqlite": (
        "UPDATE cost_events SET metadata = json_set(metadata, '$.source', 'gateway') "
        "WHERE source = 'gateway'"
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("cost_events") as batch:
        batch.add_column(sa.Column("source", sa.String(16), server_default="api", nullable=False))
        batch.add_column(sa.Column("reported_cost_usd", llmlab_app.db.types.Money(), nullable=True))
    op.execute(_MOVE_SOURCE_OUT_OF_METADATA[op.get_bind().dialect.name])


def downgrade() -> None:
    op.execute(_PUT_SOURCE_BACK_INTO_METADATA[op.get_bind().dialect.name])
    with op.batch_alter_table("cost_events") as batch:
        batch.drop_column("reported_cost_usd")
        batch.drop_column("source")
