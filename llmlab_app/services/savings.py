"""Ways to spend less, computed by the core engines from the user's own rollup data."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from llmlab_app.errors import InvalidInput
from llmlab_app.services.spend import resolve_range, usage_rows
from llmlab_core import Recommendation, WhatIfResult, recommend, whatif
from llmlab_core.periods import last_days

RECOMMENDATION_WINDOW_DAYS = 30


def list_recommendations(
    session: Session,
    *,
    org_id: uuid.UUID,
    days: int = RECOMMENDATION_WINDOW_DAYS,
    project: str | None = None,
    min_monthly_savings: Decimal = Decimal("1"),
) -> list[Recommendation]:
    """Ranked recommendations from the last `days` days (today included), dollars per month."""
    start, end = last_days(days)
    rows = usage_rows(session, org_id=org_id, start=start, end=end, project=project)
    return recommend(rows, days=days, min_monthly_savings=min_monthly_savings)


def what_if(
    session: Session,
    *,
    org_id: uuid.UUID,
    from_model: str,
    to_model: str,
    share: Decimal,
    start: date | None = None,
    end: date | None = None,
    project: str | None = None,
    to_provider: str | None = None,
) -> WhatIfResult:
    """Re-price real usage in a range as if `share` of the calls to `from_model` had gone to
    `to_model` (same token counts, the target's cache and tier rules)."""
    if not Decimal(0) <= share <= Decimal(1):
        raise InvalidInput("share must be between 0 and 1")
    start, end = resolve_range(start, end)
    rows = usage_rows(session, org_id=org_id, start=start, end=end, project=project)
    try:
        return whatif(
            rows, from_model=from_model, to_model=to_model, share=share, to_provider=to_provider
        )
    except LookupError as exc:
        raise InvalidInput(str(exc)) from exc
