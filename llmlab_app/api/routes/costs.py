"""Spend summaries."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from llmlab_app.api.deps import Reader, SessionDep
from llmlab_app.api.envelope import Envelope, ok
from llmlab_app.api.presenters import forecast_out, key_spend_out, member_ref_out, totals_fields
from llmlab_app.api.schemas import (
    DaySpend,
    MemberSpend,
    ModelSpend,
    ModelVariant,
    PeriodForecastOut,
    ProjectSpend,
    ProviderSpend,
    SummaryOut,
)
from llmlab_app.services import spend
from llmlab_app.services.projects import require_project_id
from llmlab_core.periods import last_day

router = APIRouter(prefix="/api/costs", tags=["costs"])


@router.get("/summary", response_model=Envelope[SummaryOut])
def summary(
    actor: Reader,
    session: SessionDep,
    start: Annotated[date | None, Query(description="First day (UTC), inclusive")] = None,
    end: Annotated[date | None, Query(description="Last day (UTC), inclusive")] = None,
    project: Annotated[str | None, Query(max_length=100)] = None,
    group_by: Annotated[
        Literal["key"] | None,
        Query(description="`key`: also spend per API key and per member who created it"),
    ] = None,
) -> Envelope[SummaryOut]:
    """Totals and breakdowns (model, provider, project, every day up to today) for inclusive
    UTC days: this month so far by default, and a start alone runs to today. Unpriced calls
    are counted, never $0. `group_by=key` answers which service or person spent it."""
    result = spend.summarize_spend(
        session,
        org_id=actor.org_id,
        start=start,
        end=end,
        project=project,
        by_key=group_by == "key",
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
            by_key=None
            if result.by_key is None
            else [key_spend_out(owner, t) for owner, t in result.by_key],
            by_member=None
            if result.by_member is None
            else [
                MemberSpend(member=member_ref_out(m), **totals_fields(t))
                for m, t in result.by_member
            ],
        )
    )


@router.get("/forecast", response_model=Envelope[PeriodForecastOut])
def forecast(
    actor: Reader,
    session: SessionDep,
    period: Annotated[Literal["daily", "weekly", "monthly"], Query()] = "monthly",
    project: Annotated[str | None, Query(max_length=100)] = None,
) -> Envelope[PeriodForecastOut]:
    """Projected spend at the end of the current period (UTC) with a likely range."""
    project_id = require_project_id(session, org_id=actor.org_id, name=project)
    result = spend.forecast_period(
        session, org_id=actor.org_id, period=period, project_id=project_id
    )
    return ok(
        PeriodForecastOut(
            period=result.period,
            period_start=result.period_start,
            period_end=last_day(result.period_end),
            project=project,
            spent_usd=result.forecast.spent,
            forecast=forecast_out(result.forecast),
        )
    )
