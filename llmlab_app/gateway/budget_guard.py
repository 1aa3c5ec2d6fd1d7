"""Hard budgets at the gateway: a call under an exhausted hard-limit budget is refused before
it reaches the provider. Budget statuses are kept per process for a moment, so the hot path
queries nothing, and updated from what each recorded call reports."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as day_time
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from llmlab_app.gateway.errors import BudgetExhausted
from llmlab_app.services.budgets import BudgetStatus, hard_budget_statuses

logger = logging.getLogger("llmlab.gateway")

# How long a worker trusts the statuses it read. Another worker's spend (or a budget changed
# through the API) is seen at most this late; this worker's own calls update them at once.
BUDGET_STATUS_SECONDS = 1.0
MAX_KNOWN_ORGANISATIONS = 10_000


@dataclass(frozen=True)
class HardBudget:
    name: str
    project: str | None
    amount_usd: Decimal
    spent_usd: Decimal
    period: str
    period_end: date  # exclusive

    @property
    def exhausted(self) -> bool:
        return self.spent_usd >= self.amount_usd

    def covers(self, project: str | None) -> bool:
        return self.project is None or self.project == project


@dataclass
class _Known:
    read_at: float
    budgets: dict[uuid.UUID, HardBudget] = field(default_factory=dict)
    refreshing: bool = False


def _hard_budget(status: BudgetStatus) -> HardBudget:
    budget = status.budget
    return HardBudget(
        name=budget.name,
        project=status.project,
        amount_usd=budget.amount_usd,
        spent_usd=status.spent_usd,
        period=budget.period,
        period_end=status.period_end,
    )


class BudgetGuard:
    """Per-process statuses of each organisation's hard budgets."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._known: dict[uuid.UUID, _Known] = {}

    async def check(self, org_id: uuid.UUID, project: str | None) -> None:
        """Raise `BudgetExhausted` when a hard budget covering `project` is spent. Statuses
        older than `BUDGET_STATUS_SECONDS` are read again first (by one call at a time; the
        others use the last known); when the database cannot answer, the last known hold."""
        known = self._known.get(org_id)
        if known is None or (
            not known.refreshing and time.monotonic() - known.read_at > BUDGET_STATUS_SECONDS
        ):
            known = await self._refresh(org_id, known)
        if known is None:
            return
        for budget in known.budgets.values():
            if budget.exhausted and budget.covers(project):
                raise BudgetExhausted(_refusal(budget), headers=_retry_headers(budget))

    def learn(self, org_id: uuid.UUID, statuses: Iterable[BudgetStatus]) -> None:
        """Take the statuses a just-recorded call reported (those of its budgets)."""
        known = self._known.get(org_id)
        if known is not None:
            for status in statuses:
                if status.budget.hard_limit:
                    known.budgets[status.budget.id] = _hard_budget(status)

    async def _refresh(self, org_id: uuid.UUID, known: _Known | None) -> _Known | None:
        if known is not None:
            known.refreshing = True
        try:
            statuses = await run_in_threadpool(self._read, org_id)
        except Exception:
            logger.warning("gateway: budget statuses unavailable, using the last known")
            if known is not None:
                known.refreshing = False
                known.read_at = time.monotonic()  # try again after the usual interval
            return known
        fresh = _Known(time.monotonic(), {s.budget.id: _hard_budget(s) for s in statuses})
        if len(self._known) >= MAX_KNOWN_ORGANISATIONS:
            self._known.clear()  # only a cache: each is read again on its next call
        self._known[org_id] = fresh
        return fresh

    def _read(self, org_id: uuid.UUID) -> list[BudgetStatus]:
        with Session(self.engine, expire_on_commit=False) as session:
            return hard_budget_statuses(session, org_id=org_id)


_PERIOD_NOUNS = {"daily": "day", "weekly": "week", "monthly": "month"}


def _refusal(budget: HardBudget) -> str:
    scope = f"project {budget.project!r}" if budget.project else "all projects"
    period = _PERIOD_NOUNS.get(budget.period, budget.period)
    return (
        f"LLMLab budget {budget.name!r} ({scope}) is exhausted: ${budget.spent_usd} of "
        f"${budget.amount_usd} spent this {period} and it is a hard "
        f"limit; it resets on {budget.period_end.isoformat()} (UTC). Raise or remove the "
        "budget in LLMLab to continue."
    )


def _retry_headers(budget: HardBudget) -> dict[str, Any]:
    """Retry when the period turns over; `x-should-retry: false` stops the official clients'
    automatic retries (they would all be refused until then)."""
    resets = datetime.combine(budget.period_end, day_time(0), tzinfo=UTC)
    seconds = max(1, int((resets - datetime.now(UTC)).total_seconds()))
    return {"Retry-After": str(seconds), "x-should-retry": "false"}
