"""GET /api/prices: one identity per model, corrections with their source, service tiers, and
the date of the price dataset in use (LLMLAB_PRICES_FILE)."""

import json
import os
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from llmlab_core.errors import PricesFileError
from llmlab_core.pricing import use_prices_file


def _prices(client, **params):
    response = client.get("/api/prices", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    return body["data"]


def test_a_provider_prefixed_name_resolves_to_the_canonical_model(client):
    data = _prices(client, model="openai/gpt-4o-2024-08-06")

    assert (data["provider"], data["canonical_model"], data["model"]) == (
        "openai",
        "gpt-4o",
        "openai/gpt-4o-2024-08-06",
    )
    assert data["source"] == "dataset"
    assert data["dataset"] == "genai-prices 0.2.3"
    assert data["prices_as_of"] is None
    assert data["input_per_mtok"] == "2.5"


def test_a_corrected_price_names_the_overlay(client):
    data = _prices(client, model="ft:gpt-4.1-2025-04-14:acme:support:abc123")

    assert data["canonical_model"] == "ft:gpt-4.1"
    assert data["source"] == "overlay"
    assert data["price_source"] == "overlay:ft-gpt-4.1"
    assert (data["input_per_mtok"], data["cache_read_per_mtok"]) == ("3", "0.75")


def test_one_hour_cache_writes_and_long_context_tiers_are_listed(client):
    data = _prices(client, model="claude-sonnet-4", at="2025-09-01T00:00:00Z")

    assert (data["cache_write_per_mtok"], data["cache_write_1h_per_mtok"]) == ("3.75", "6")
    [tier] = data["tiers"]
    assert tier["threshold"] == 200_000
    assert (tier["input"], tier["output"], tier["cache_write_1h"]) == ("6", "22.5", "12")


def test_service_tier_prices(client):
    batch = _prices(client, model="gpt-4o", service_tier="batch", at="2025-07-01T00:00:00Z")

    assert batch["service_tier"] == "batch"
    assert (batch["input_per_mtok"], batch["output_per_mtok"]) == ("1.25", "5")
    assert batch["source"] == "overlay"


def test_a_tier_with_no_price_is_404(client):
    response = client.get(
        "/api/prices",
        params={"model": "o3", "service_tier": "priority", "at": "2025-07-01T00:00:00Z"},
    )

    assert response.status_code == 404
    assert response.json()["error"] == "no priority price known for model 'o3'"


def test_an_unknown_service_tier_is_422(client):
    response = client.get("/api/prices", params={"model": "gpt-4o", "service_tier": "turbo"})

    assert response.status_code == 422
    assert response.json()["success"] is False


def test_a_name_that_resolves_to_nothing_is_404_not_an_approximation(client):
    response = client.get("/api/prices", params={"model": "google/gemini-9-ultra"})

    assert response.status_code == 404
    assert "gemini-9-ultra" in response.json()["error"]


PRICES_FILE = [
    {
        "id": "openai",
        "name": "OpenAI",
        "api_pattern": "https://api\\.openai\\.com",
        "model_match": {"starts_with": "gpt-"},
        "models": [
            {"id": "gpt-4o", "match": {"equals": "gpt-4o"}, "prices": {"input_mtok": 2}},
        ],
    }
]


@pytest.fixture
def bundled_prices_afterwards():
    yield
    use_prices_file(None)


def test_llmlab_prices_file_replaces_the_dataset_and_dates_it(
    settings, engine, tmp_path, bundled_prices_afterwards
):
    from llmlab_app.api import create_app

    path = tmp_path / "data.json"
    path.write_text(json.dumps(PRICES_FILE), encoding="utf-8")
    day = datetime(2026, 11, 30, 12, tzinfo=UTC).timestamp()
    os.utime(path, (day, day))
    app = create_app(settings.model_copy(update={"prices_file": path}), engine)

    with TestClient(app) as client:
        data = _prices(client, model="gpt-4o")

    assert data["input_per_mtok"] == "2"
    assert (data["source"], data["dataset"]) == ("prices file", "prices file")
    assert data["prices_as_of"] == "2026-11-30"
    assert data["price_source"] == "prices file 2026-11-30"


def test_an_unusable_prices_file_stops_the_server_from_starting(
    settings, engine, tmp_path, bundled_prices_afterwards
):
    from llmlab_app.api import create_app

    path = tmp_path / "data.json"
    path.write_text('{"not": "a list"}', encoding="utf-8")

    with pytest.raises(PricesFileError, match="expected a JSON array of providers"):
        create_app(settings.model_copy(update={"prices_file": path}), engine)
