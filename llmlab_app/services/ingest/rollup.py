"""The daily rollup (`daily_spend`), kept in the transaction that stores the events."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from llmlab_app.db.models import NO_KEY, NO_PROJECT, DailySpend
from llmlab_app.db.upsert import upsert_adding
from llmlab_core.usage import TOKEN_KINDS

ROLLUP_KEY = ("org_id", "project_id", "day", "provider", "model", "api_key_id")
ROLLUP_SUMS = ("calls", "error_calls", "unpriced_calls", *TOKEN_KINDS, "cost_usd")


def add_to_rollup(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Aggregate in Python first: one upsert statement for the stored rows, one row per
    (organisation, project, day, provider, model, key)."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (
            row["org_id"],
            row["project_id"] or NO_PROJECT,
            row["timestamp"].date(),
            row["provider"],
            row["model"],
            row["api_key_id"] or NO_KEY,
        )
        group = groups.get(key)
        if group is None:
            group = groups[key] = dict(zip(ROLLUP_KEY, key, strict=True)) | dict.fromkeys(
                ROLLUP_SUMS, 0
            )
            group["cost_usd"] = Decimal(0)
        group["calls"] += 1
        group["error_calls"] += row["status"] == "error"
        group["unpriced_calls"] += row["unpriced"]
        for name in TOKEN_KINDS:
            group[name] += row[name]
        group["cost_usd"] += row["cost_usd"] or 0
    # Sorted so that concurrent writers lock rollup rows in one order (no deadlocks).
    upsert_adding(
        session,
        DailySpend,
        [groups[key] for key in sorted(groups)],
        key_columns=ROLLUP_KEY,
        add_columns=ROLLUP_SUMS,
    )
