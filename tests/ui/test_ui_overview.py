"""The overview reads one consistent picture through the services, scoped to one user."""

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from llmlab_app.services import budgets, orgs
from llmlab_app.services.events import EventFilters
from llmlab_app.services.ingest import EventIn, ingest_events_blocking
from llmlab_app.services.pages import read_overview
from llmlab_app.ui.states import events, overview, service_call
from llmlab_app.ui.states.keys import read_keys_and_projects
from llmlab_app.ui.states.overview import cost_cards
from tests.conftest import earlier_today, signup_through_service


def _user(session: Any, settings: Any, email: str) -> Any:
    return signup_through_service(session, settings, email)


def _actor(session: Any, settings: Any, email: str) -> Any:
    """A new account acting in its personal organisation."""
    return orgs.actor_for(session, user=_user(session, settings, email).tokens.user)


def _track(session: Any, org_id: Any, now: datetime, *specs: tuple[str, str, int, int]) -> None:
    batch = [
        EventIn(
            provider=provider,
            model=model,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            timestamp=earlier_today(now, minutes=5),
            project="checkout",
        )
        for provider, model, tokens_in, tokens_out in specs
    ]
    ingest_events_blocking(session.get_bind(), org_id=org_id, source="api", events=batch)


@pytest.mark.parametrize("clock", ["now", "just after midnight"])
def test_overview_cards_match_the_tracked_events(session: Any, settings: Any, clock: str) -> None:
    now = datetime.now(UTC)
    if clock == "just after midnight":
        now = now.replace(hour=0, minute=2, second=0, microsecond=0)
    today = now.date()
    ada = _actor(session, settings, "ada@example.com")
    grace = _actor(session, settings, "grace@example.com")
    _track(
        session,
        ada.org_id,
        now,
        ("openai", "gpt-4o-mini", 100_000, 10_000),
        ("custom", "in-house", 100, 10),
    )
    _track(session, grace.org_id, now, ("openai", "gpt-4o", 50_000, 5_000))
    budgets.create_budget(
        session, actor=ada, name="Tight", amount_usd=Decimal("0.01"), period="monthly"
    )

    data = read_overview(
        session, org_id=ada.org_id, start=None, end=None, project=None, today=today
    )

    assert data.summary.totals.calls == 2 and data.summary.totals.unpriced_calls == 1
    (_, top_model), _ = data.summary.by_model[0]
    assert top_model == "gpt-4o-mini"
    assert data.project_names == ["checkout"]
    assert [s.budget.name for s in data.budgets] == ["Tight"] and data.budgets[0].exceeded
    cards = {card.key: card for card in cost_cards(data, today)}
    assert cards["calls"].value == "2"
    assert cards["unpriced"].value == "1"
    assert cards["range"].label == "Spend this month"
    assert cards["range"].value == cards["today"].value
    assert data.forecast.spent == data.summary.totals.cost_usd


def test_open_pages_of_one_organisation_share_one_view_until_it_changes(
    session: Any, settings: Any, engine: Any, monkeypatch: Any
) -> None:
    """A tracked event wakes every open page of its organisation: they must share one read
    and one build of the view, figures included (building them per tab was most of a
    redraw), and the next change must give them a new one."""
    monkeypatch.setattr(service_call, "app_engine", lambda: engine)
    built: list[Any] = []
    build = overview.overview_view

    def counted(data: Any, now: datetime) -> Any:
        built.append(data)
        return build(data, now)

    monkeypatch.setattr(overview, "overview_view", counted)
    now = datetime.now(UTC)
    ada = _actor(session, settings, "ada@example.com")
    _track(session, ada.org_id, now, ("openai", "gpt-4o-mini", 100_000, 10_000))
    query = (None, None, None, now.date())

    def open_pages(count: int) -> list[Any]:
        async def read_all() -> list[Any]:
            return await asyncio.gather(*(overview._read_page(ada, query) for _ in range(count)))

        return [view for view, _ in asyncio.run(read_all())]

    first = open_pages(10)
    assert len(built) == 1 and all(view is first[0] for view in first)
    calls = {card.key: card.value for card in first[0].cards}["calls"]
    assert calls == "1" and "gpt-4o-mini" in json.dumps(first[0].cost_by_model_chart)

    _track(session, ada.org_id, now, ("anthropic", "claude-sonnet-4", 1_000, 100))
    second = open_pages(10)
    assert len(built) == 2 and all(view is second[0] for view in second)
    assert {card.key: card.value for card in second[0].cards}["calls"] == "2"
    assert "claude-sonnet-4" in json.dumps(second[0].cost_by_model_chart)


def test_open_events_pages_share_the_first_page_until_the_next_change(
    session: Any, settings: Any, engine: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(service_call, "app_engine", lambda: engine)
    reads: list[Any] = []
    read = events._read_events

    async def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return await read(*args, **kwargs)

    monkeypatch.setattr(events, "_read_events", counted)
    now = datetime.now(UTC)
    ada = _actor(session, settings, "ada@example.com")
    _track(session, ada.org_id, now, ("openai", "gpt-4o-mini", 100_000, 10_000))
    filters = EventFilters()

    def open_pages(count: int) -> list[Any]:
        async def read_all() -> list[Any]:
            pages = (events._read_first_page(ada, filters) for _ in range(count))
            return await asyncio.gather(*pages)

        return [view for view, _ in asyncio.run(read_all())]

    first = open_pages(10)
    assert len(reads) == 1 and all(view is first[0] for view in first)
    assert [row.model for row in first[0].rows] == ["gpt-4o-mini"]

    _track(session, ada.org_id, now, ("anthropic", "claude-sonnet-4", 1_000, 100))
    second = open_pages(10)
    assert len(reads) == 2 and all(view is second[0] for view in second)
    assert len(second[0].rows) == 2


def test_keys_page_lists_only_the_users_own_keys(session: Any, settings: Any) -> None:
    ada = _user(session, settings, "ada@example.com")
    _user(session, settings, "grace@example.com")
    actor = orgs.actor_for(session, user=ada.tokens.user)
    keys, projects = read_keys_and_projects(session, actor=actor)
    assert [key.name for key in keys] == ["default"]
    assert keys[0].prefix == ada.api_key.key.prefix + "\u2026"
    assert keys[0].last_used == "never" and keys[0].revocable
    assert projects == []
