"""What ingest answers for each event handed to it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

Outcome = Literal["stored", "duplicate", "rejected"]


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """One event's fate. `stored`: committed now; `duplicate`: its `event_id` was stored
    before (or earlier in the same call) and nothing changed; `rejected`: not storable, see
    `reason` (nothing stored)."""

    event_id: str | None  # the client's, or the one given to an event sent without
    outcome: Outcome
    id: uuid.UUID | None = None  # the stored row (stored only)
    cost_usd: Decimal | None = None  # what it costs as priced now (stored and duplicate)
    unpriced: bool = False
    reason: str | None = None  # rejected only

    @property
    def duplicate(self) -> bool:
        return self.outcome == "duplicate"


@dataclass(frozen=True)
class IngestAnswer:
    """One `EventOutcome` per event, in the order given, and the status of the budgets the
    stored events fall under (`budgets.BudgetStatus`), crossed alerts already recorded."""

    events: list[EventOutcome]
    budgets: list[Any]

    @property
    def stored(self) -> int:
        return sum(e.outcome == "stored" for e in self.events)
