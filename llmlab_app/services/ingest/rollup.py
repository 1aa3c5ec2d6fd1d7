"""The daily rollup (`daily_spend`), kept in the transaction that stores the events."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from llmlab_app.db.models import NO_KEY, NO_PROJECT, DailySpend
from llmlab_app.db.upsert import upsert_adding
from llmlab_app.services.ingest.rows import PricedRows
from llmlab_core.usage import TOKEN_KINDS

ROLLUP_KEY = ("org_id", "project_id", "day", "provider", "model", "api_key_id")
ROLLUP_SUMS = ("calls", "error_calls", "unpriced_calls", *TOKEN_KINDS, "cost_usd")


def add_to_rollup(session: Session, rows: PricedRows, inserted: Sequence[bool]) -> None:
    """Add the inserted rows (`inserted[i]`: whether row i went in) to the rollup, summed in
    Python first: one upsert statement, one row per (organisation, project, day, provider,
    model, key)."""
    groups: dict[tuple[Any, ...], list[Any]] = {}
    tokens = [rows.columns[name] for name in TOKEN_KINDS]
    for (
        new,
        org_id,
        project_id,
        timestamp,
        provider,
        model,
        key_id,
        status,
        unpriced,
        cost,
        *counts,
    ) in zip(
        inserted,
        rows.column("org_id"),
        rows.column("project_id"),
        rows.column("timestamp"),
        rows.column("provider"),
        rows.column("model"),
        rows.column("api_key_id"),
        rows.column("status"),
        rows.column("unpriced"),
        rows.column("cost_usd"),
        *tokens,
        strict=True,
    ):
        if not new:
            continue
        key = (
            org_id,
            project_id or NO_PROJECT,
            timestamp.date(),
            provider,
            model,
            key_id or NO_KEY,
        )
        sums = groups.get(key)
        if sums is None:
            sums = groups[key] = [0] * (len(ROLLUP_SUMS) - 1) + [Decimal(0)]
        sums[0] += 1
        sums[1] += status == "error"
        sums[2] += unpriced
        for index, count in enumerate(counts, start=3):
            sums[index] += count
        sums[-1] += cost or 0
    # Sorted so that concurrent writers lock rollup rows in one order (no deadlocks).
    upsert_adding(
        session,
        DailySpend,
        [
            dict(zip(ROLLUP_KEY, key, strict=True))
            | dict(zip(ROLLUP_SUMS, groups[key], strict=True))
            for key in sorted(groups)
        ],
        key_columns=ROLLUP_KEY,
        add_columns=ROLLUP_SUMS,
    )
