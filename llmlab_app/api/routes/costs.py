"""Spend summaries."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from llmlab_app.api.deps import CurrentCaller, SessionDep
from llmlab_app.api.envelope import Envelope, ok
from llmlab_app.api.presenters import totals_fields
from llmlab_app.api.schemas import DaySpend, ModelSpend, ProjectSpend, ProviderSpend, SummaryOut
from llmlab_app.services import spend

router = APIRouter(prefix="/api/costs", tags=["costs"])


@router.get("/summary", response_model=Envelope[SummaryOut])
def summary(
    caller: CurrentCaller,
    session: SessionDep,
    start: Annotated[date | None, Query(description="First day (UTC), inclusive")] = None,
    end: Annotated[date | None, Query(description="Last day (UTC), inclusive")] = None,
    project: Annotated[str | None, Query(max_length=100)] = None,
) -> Envelope[SummaryOut]:
    """Totals and breakdowns (model, provider, project, every day) for a date range;
    defaults to the current calendar month (UTC). Unpriced calls are counted, never $0."""
    result = spend.summarize_spend(
        session, user_id=caller.user_id, start=start, end=end, project=project
    )
    return ok(
        SummaryOut(
            start=result.start,
            end=result.end,
            project=result.project,
            total_cost_usd=result.totals.cost_usd,
            **totals_fields(result.totals),
            by_model=[
                ModelSpend(provider=p, model=m, **totals_fields(t)) for (p, m), t in result.by_model
            ],
            by_provider=[
                ProviderSpend(provider=p, **totals_fields(t)) for p, t in result.by_provider
            ],
            by_project=[ProjectSpend(project=p, **totals_fields(t)) for p, t in result.by_project],
            by_day=[DaySpend(day=d, **totals_fields(t)) for d, t in result.by_day],
        )
    )
