"""Recommendations and what-if re-pricing on the user's own usage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from llmlab_app.api.deps import Reader, SessionDep
from llmlab_app.api.envelope import Envelope, ok
from llmlab_app.api.schemas import RecommendationOut, WhatIfDayOut, WhatIfIn, WhatIfOut
from llmlab_app.services import savings
from llmlab_app.services.spend import resolve_range

router = APIRouter(prefix="/api", tags=["savings"])


@router.get("/recommendations", response_model=Envelope[list[RecommendationOut]])
def recommendations(
    actor: Reader,
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=365, description="Window analysed, ending today")] = 30,
    project: Annotated[str | None, Query(max_length=100)] = None,
) -> Envelope[list[RecommendationOut]]:
    """Ranked savings (dollars per month) with their evidence, assumption and risk."""
    found = savings.list_recommendations(session, org_id=actor.org_id, days=days, project=project)
    return ok([RecommendationOut.model_validate(r, from_attributes=True) for r in found])


@router.post("/whatif", response_model=Envelope[WhatIfOut])
def what_if(body: WhatIfIn, actor: Reader, session: SessionDep) -> Envelope[WhatIfOut]:
    """Re-price a date range as if `share` of the calls to `from_model` had gone to
    `to_model`: old cost, new cost and savings, per day."""
    start, end = resolve_range(body.start, body.end)
    result = savings.what_if(
        session,
        org_id=actor.org_id,
        from_model=body.from_model,
        to_model=body.to_model,
        to_provider=body.to_provider,
        share=body.share,
        start=start,
        end=end,
        project=body.project,
    )
    return ok(
        WhatIfOut(
            from_model=result.from_model,
            to_model=result.to_model,
            to_provider=result.to_provider,
            share=result.share,
            start=start,
            end=end,
            old_cost_usd=result.old_cost_usd,
            new_cost_usd=result.new_cost_usd,
            savings_usd=result.savings_usd,
            calls_moved=result.calls_moved,
            by_day=[
                WhatIfDayOut(
                    day=d.day, old_cost_usd=d.old, new_cost_usd=d.new, savings_usd=d.savings
                )
                for d in result.by_day
            ],
        )
    )
