"""LLMLab's pure domain: usage, providers, prices, costs, periods, forecasts, recommendations.

Imports only the standard library, pydantic and (lazily) genai-prices.
"""

from llmlab_core.errors import (
    InvalidUsageError,
    LLMLabError,
    UnknownModelError,
    UnknownProviderError,
)
from llmlab_core.forecast import Forecast, forecast_spend
from llmlab_core.periods import Period, period_bounds
from llmlab_core.pricing import (
    ModelPrices,
    PriceOverride,
    PriceResult,
    PriceTier,
    ResolvedModel,
    canonical_model,
    model_prices,
    price_usage,
    resolve_model,
)
from llmlab_core.providers import (
    SUPPORTED_PROVIDERS,
    BaseProvider,
    get_provider,
    infer_provider,
    register_provider,
)
from llmlab_core.recommendations import (
    SUBSTITUTIONS,
    Evidence,
    Recommendation,
    Substitution,
    recommend,
)
from llmlab_core.rollups import UsageRow
from llmlab_core.usage import Usage
from llmlab_core.whatif import WhatIfDay, WhatIfResult, whatif

__all__ = [
    "SUBSTITUTIONS",
    "SUPPORTED_PROVIDERS",
    "BaseProvider",
    "Evidence",
    "Forecast",
    "InvalidUsageError",
    "LLMLabError",
    "ModelPrices",
    "Period",
    "PriceOverride",
    "PriceResult",
    "PriceTier",
    "Recommendation",
    "ResolvedModel",
    "Substitution",
    "UnknownModelError",
    "UnknownProviderError",
    "Usage",
    "UsageRow",
    "WhatIfDay",
    "WhatIfResult",
    "canonical_model",
    "forecast_spend",
    "get_provider",
    "infer_provider",
    "model_prices",
    "period_bounds",
    "price_usage",
    "recommend",
    "register_provider",
    "resolve_model",
    "whatif",
]
