"""Spend summaries."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from llmlab_app.api.deps import ReadCaller, SessionDep
from llmlab_app.api.envelope import Envelope, ok
from llmlab_app.api.presenters import forecast_out, totals_fields
from llmlab_app.api.schemas import (
    DaySpend,
    ModelSpend,
    ModelVariant,
    PeriodForecastOut,
    ProjectSpend,
    ProviderSpend,
    SummaryOut,
)
from llmlab_app.services import spend
from llmlab_app.services.projects import require_project_id

router = APIRouter(prefix="/api/costs", tags=["costs"])


@router.get("/summary", response_model=Envelope[SummaryOut])
def summary(
    caller: ReadCaller,
    session: SessionDep,
    start: Annotated[date | None, Query(description="First day (UTC), inclusive")] = None,
    end: Annotated[date | None, Query(description="Last day (UTC), inclusive")] = None,
    project: Annotated[str | None, Query(max_length=100)] = None,
) -> Envelope[SummaryOut]:
    """Totals and breakdowns (model, provider, project, every day up to today) for inclusive
    UTC days: this month so far by default, and a start alone runs to today. Unpriced calls
    are counted, never $0."""
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
                ModelSpend(
                    provider=p,
                    model=m,
                    **totals_fields(t),
                    variants=[
                        ModelVariant(model=name, calls=v.calls, cost_usd=v.cost_usd)
                        for name, v in result.model_variants[(p, m)]
                    ],
                )
                for (p, m), t in result.by_model
            ],
            by_provider=[
                ProviderSpend(provider=p, **totals_fields(t)) for p, t in result.by_provider
            ],
            by_project=[ProjectSpend(project=p, **totals_fields(t)) for p, t in result.by_project],
            by_day=[DaySpend(day=d, **totals_fields(t)) for d, t in result.by_day],
        )
    )


@router.get("/forecast", response_model=Envelope[PeriodForecastOut])
def forecast(
    caller: ReadCaller,
    session: SessionDep,
    period: Annotated[Literal["daily", "weekly", "monthly"], Query()] = "monthly",
    project: Annotated[str | None, Query(max_length=100)] = None,
) -> Envelope[PeriodForecastOut]:
    """Projected spend at the end of the current period (UTC) with a likely range."""
    project_id = require_project_id(session, user_id=caller.user_id, name=project)
    result = spend.forecast_period(
        session, user_id=caller.user_id, period=period, project_id=project_id
    )
    return ok(
        PeriodForecastOut(
            period=result.period,
            period_start=result.period_start,
            period_end=result.period_end - timedelta(days=1),
            project=project,
            spent_usd=result.forecast.spent,
            forecast=forecast_out(result.forecast),
        )
    )
