from datetime import UTC, datetime
from decimal import Decimal

import pytest

from llmlab_core import (
    SUPPORTED_PROVIDERS,
    BaseProvider,
    ModelPrices,
    UnknownModelError,
    UnknownProviderError,
    Usage,
    canonical_model,
    get_provider,
    infer_provider,
    model_prices,
    price_usage,
    register_provider,
)
from llmlab_core.providers import registry


class SelfHostedProvider(BaseProvider):
    """A flat price table, the way a user would add their own GPUs."""

    name = "self-hosted"
    PRICES = {"llama-3-70b-local": (Decimal("0.20"), Decimal("0.40"))}

    def models(self) -> list[str]:
        return list(self.PRICES)

    def get_prices(self, model: str, *, at: datetime | None = None) -> ModelPrices:
        try:
            input_price, output_price = self.PRICES[model.lower()]
        except KeyError:
            raise UnknownModelError(model, self.name) from None
        return ModelPrices(
            provider=self.name,
            canonical_model=model.lower(),
            price_source="self-hosted table v1",
            input=input_price,
            output=output_price,
        )


@pytest.fixture
def self_hosted():
    provider = register_provider(SelfHostedProvider())
    yield provider
    registry.unregister_provider(provider.name)


def test_builtin_providers_are_registered():
    assert {"openai", "anthropic", "google"} <= set(SUPPORTED_PROVIDERS)
    assert get_provider("anthropic").name == "anthropic"


def test_get_provider_raises_for_an_unknown_name():
    with pytest.raises(UnknownProviderError, match="unknown provider 'nope'"):
        get_provider("nope")


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("gpt-4o-2024-08-06", "openai"),
        ("o3-mini", "openai"),
        ("claude-sonnet-4-20250514", "anthropic"),
        ("gemini-2.5-flash", "google"),
        ("mystery-model", None),
    ],
)
def test_provider_is_inferred_from_the_model_name(model, provider):
    assert infer_provider(model) == provider


def test_builtin_provider_lists_its_models():
    assert "gpt-4o" in get_provider("openai").models()


def test_builtin_provider_get_cost_raises_for_an_unknown_model():
    with pytest.raises(UnknownModelError, match="unknown model 'gpt-99'"):
        get_provider("openai").get_cost("gpt-99", Usage(input_tokens=1))


def test_a_registered_provider_prices_its_models(self_hosted):
    usage = Usage(input_tokens=1_000_000, output_tokens=500_000)

    result = price_usage("llama-3-70b-local", usage)

    assert result.provider == "self-hosted"
    assert result.cost_usd == Decimal("0.40")
    assert result.price_source == "self-hosted table v1"
    assert infer_provider("llama-3-70b-local") == "self-hosted"
    assert model_prices("llama-3-70b-local").output == Decimal("0.40")
    assert canonical_model("LLAMA-3-70B-local", provider="self-hosted") == "llama-3-70b-local"


def test_a_registered_provider_returns_unpriced_for_models_it_lacks(self_hosted):
    result = price_usage("llama-2-7b", Usage(input_tokens=5), provider="self-hosted")

    assert result.unpriced is True
    assert result.provider == "self-hosted"


def test_registering_rejects_non_providers():
    with pytest.raises(TypeError, match="BaseProvider"):
        register_provider(object())


def test_entry_point_providers_are_loaded_once(monkeypatch):
    loads = []

    class FakeEntryPoint:
        name = "fake"

        def load(self):
            loads.append(1)
            return SelfHostedProvider

    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    monkeypatch.setattr(
        "importlib.metadata.entry_points",
        lambda group: [FakeEntryPoint()] if group == registry.ENTRY_POINT_GROUP else [],
    )
    try:
        assert "self-hosted" in SUPPORTED_PROVIDERS
        assert "self-hosted" in SUPPORTED_PROVIDERS
        assert loads == [1]
    finally:
        registry.unregister_provider("self-hosted")


def test_a_broken_plugin_does_not_break_the_registry(monkeypatch, caplog):
    class BrokenEntryPoint:
        name = "broken"

        def load(self):
            raise ImportError("missing dependency")

    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [BrokenEntryPoint()])

    assert "openai" in SUPPORTED_PROVIDERS
    assert "could not load LLMLab provider plugin 'broken'" in caplog.text


def test_dataset_backed_cost_uses_the_price_period():
    usage = Usage(input_tokens=1_000, output_tokens=1_000)
    openai = get_provider("openai")

    early = openai.get_cost("o3", usage, at=datetime(2025, 5, 1, tzinfo=UTC))

    assert early.cost_usd == Decimal("0.05")
