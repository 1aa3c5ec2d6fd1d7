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
    orgs, projects, keys = (
        rows.column("org_id"),
        rows.column("project_id"),
        rows.column("api_key_id"),
    )
    # Rows are grouped by their UUIDs' identities first (a UUID hashes in Python, ~1 us, three
    # per row); groups whose UUIDs are equal but distinct objects are merged below.
    members: dict[tuple[Any, ...], list[int]] = {}
    for index, (new, org, project, stamp, provider, model, key) in enumerate(
        zip(
            inserted,
            orgs,
            projects,
            rows.column("timestamp"),
            rows.column("provider"),
            rows.column("model"),
            keys,
            strict=True,
        )
    ):
        if new:
            group = (id(org), id(project), stamp.date(), provider, model, id(key))
            members.setdefault(group, []).append(index)
    statuses, unpriced, costs = (rows.column(n) for n in ("status", "unpriced", "cost_usd"))
    tokens = [rows.columns[name] for name in TOKEN_KINDS]
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for (_, _, day, provider, model, _), indices in members.items():
        first = indices[0]
        key = (orgs[first], projects[first] or NO_PROJECT, day, provider, model)
        key += (keys[first] or NO_KEY,)
        sums = [
            len(indices),
            sum(statuses[i] == "error" for i in indices),
            sum(unpriced[i] for i in indices),
            *(sum(column[i] for i in indices) for column in tokens),
            sum((costs[i] or 0 for i in indices), Decimal(0)),
        ]
        if key in groups:
            groups[key] = [a + b for a, b in zip(groups[key], sums, strict=True)]
        else:
            groups[key] = sums
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
