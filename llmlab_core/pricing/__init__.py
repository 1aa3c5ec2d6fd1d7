"""Prices and costs of LLM calls: start here.

- `engine.py`: what a call cost (`price_usage`), a model's prices (`model_prices`), how a name
  resolves to one model (`resolve_model`, `canonical_model`), the models known (`list_models`),
  and loading a newer prices file (`use_prices_file`).
- `rates.py`: the price shapes (`ModelPrices`, `PriceOverride`, `PriceResult`) and the per-token
  arithmetic every price goes through.
- `names.py`: names as clients send them (`openai/gpt-4o`, `models/gemini-2.5-flash`).
- `dataset.py`: the genai-prices dataset (bundled, or a prices file) with the overlay applied,
  compiled once per model, price period and service tier.
- `corrections.py` + `corrections.json`: the reviewed overlay, with a source for every entry,
  and `differences` for `llmlab prices check`.

Providers (`llmlab_core.providers`) plug in beside the dataset; the order of precedence is an
account's overrides, then the overlay, then the dataset.
"""

from llmlab_core.pricing.engine import (
    ResolvedModel,
    canonical_model,
    list_models,
    model_prices,
    price_usage,
    resolve_model,
    use_prices_file,
)
from llmlab_core.pricing.rates import (
    SERVICE_TIERS,
    ModelPrices,
    PriceOverride,
    PriceResult,
    PriceTier,
    ServiceTier,
)

__all__ = [
    "SERVICE_TIERS",
    "ModelPrices",
    "PriceOverride",
    "PriceResult",
    "PriceTier",
    "ResolvedModel",
    "ServiceTier",
    "canonical_model",
    "list_models",
    "model_prices",
    "price_usage",
    "resolve_model",
    "use_prices_file",
]
