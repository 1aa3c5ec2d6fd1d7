"""`UsageRow`: one day of one model's usage, as the app's daily rollup stores it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Count = Annotated[int, Field(ge=0)]


class UsageRow(BaseModel):
    """Calls, token sums and spend of one (day, provider, model).

    `cost_usd` covers the priced calls only; `unpriced_calls` of `calls` had no price.
    """

    model_config = ConfigDict(frozen=True)

    day: date
    provider: str
    model: str
    calls: Count
    input_tokens: Count = 0
    cache_read_tokens: Count = 0
    cache_write_tokens: Count = 0
    cache_write_1h_tokens: Count = 0
    output_tokens: Count = 0
    reasoning_tokens: Count = 0
    cost_usd: Annotated[Decimal, Field(ge=0)] = Decimal(0)
    unpriced_calls: Count = 0

    @property
    def priced_calls(self) -> int:
        """Calls that have a cost."""
        return self.calls - self.unpriced_calls
