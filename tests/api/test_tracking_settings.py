"""The ingest writer keeps each account's price overrides and budgets between rounds: a
change made by another worker (another engine on the same database, through the same
services) holds for the very next event tracked here."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlmodel import Session

from llmlab_app.db.engine import make_engine
from llmlab_app.services import budgets, prices

EVENT = {"model": "gpt-4o-mini", "provider": "openai", "input_tokens": 1_000_000}


@pytest.fixture
def other_worker(engine) -> Iterator[Session]:
    other = make_engine(engine.url.render_as_string(hide_password=False))
    with Session(other, expire_on_commit=False) as session:
        yield session
    other.dispose()


def _track(account, **fields) -> dict:
    response = account.track(EVENT | fields)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_overrides_changed_elsewhere_price_the_next_event(account, other_worker):
    actor = account.actor(other_worker)
    engine_price = _track(account)["events"][0]["cost_usd"]
    override = prices.create_override(
        other_worker,
        actor=actor,
        provider="openai",
        model="gpt-4o-mini",
        input_per_mtok=Decimal("7"),
        output_per_mtok=Decimal("9"),
    )
    assert Decimal(_track(account)["events"][0]["cost_usd"]) == Decimal("7")
    assert prices.delete_override(other_worker, actor=actor, override_id=override.id)
    assert _track(account)["events"][0]["cost_usd"] == engine_price


def test_budgets_changed_elsewhere_show_in_the_next_answer(account, other_worker):
    actor = account.actor(other_worker)
    assert _track(account, project="web")["budgets"] == []
    budget = budgets.create_budget(
        other_worker, actor=actor, name="all", amount_usd=Decimal("100"), period="monthly"
    )
    (brief,) = _track(account, project="web")["budgets"]
    assert brief["id"] == str(budget.id) and Decimal(brief["amount_usd"]) == 100
    budgets.update_budget(
        other_worker,
        actor=actor,
        budget_id=budget.id,
        changes={"amount_usd": Decimal("0.3"), "project": "web"},
    )
    (brief,) = _track(account, project="web")["budgets"]
    assert Decimal(brief["amount_usd"]) == Decimal("0.3") and brief["exceeded"] is True
    assert brief["project"] == "web"
    assert _track(account, project="api")["budgets"] == []
    assert budgets.delete_budget(other_worker, actor=actor, budget_id=budget.id)
    assert _track(account, project="web")["budgets"] == []


def test_each_change_moves_the_settings_version(account, other_worker):
    from llmlab_app.services.settings_version import settings_version

    actor = account.actor(other_worker)
    seen = [settings_version(other_worker, org_id=actor.org_id)]
    override = prices.create_override(
        other_worker,
        actor=actor,
        provider="openai",
        model="gpt-4o",
        input_per_mtok=Decimal("1"),
        output_per_mtok=Decimal("1"),
    )
    seen.append(settings_version(other_worker, org_id=actor.org_id))
    prices.delete_override(other_worker, actor=actor, override_id=override.id)
    seen.append(settings_version(other_worker, org_id=actor.org_id))
    budget = budgets.create_budget(
        other_worker, actor=actor, name="b", amount_usd=Decimal("5"), period="daily"
    )
    seen.append(settings_version(other_worker, org_id=actor.org_id))
    budgets.update_budget(other_worker, actor=actor, budget_id=budget.id, changes={"name": "c"})
    seen.append(settings_version(other_worker, org_id=actor.org_id))
    budgets.delete_budget(other_worker, actor=actor, budget_id=budget.id)
    seen.append(settings_version(other_worker, org_id=actor.org_id))
    assert seen == [0, 1, 2, 3, 4, 5]


def test_changes_made_without_any_service_still_move_the_settings_version(account, other_worker):
    """The rule lives with the writer's cache (`ingest/accounts.py`), not in each service: a
    budget or price override added, changed or deleted straight through the ORM moves the
    version too, so a new service that forgets about the cache cannot make it stale."""
    from datetime import UTC, datetime

    from llmlab_app.db.models import Budget, PriceOverride
    from llmlab_app.services.settings_version import settings_version

    org_id = account.actor(other_worker).org_id

    def version() -> int | None:
        return settings_version(other_worker, org_id=org_id)

    seen = [version()]
    for row, change in (
        (
            Budget(org_id=org_id, name="raw", amount_usd=Decimal("5"), period="daily"),
            {"amount_usd": Decimal("6")},
        ),
        (
            PriceOverride(
                org_id=org_id,
                provider="openai",
                model="gpt-4o",
                input_per_mtok=Decimal("1"),
                output_per_mtok=Decimal("1"),
                valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            ),
            {"output_per_mtok": Decimal("2")},
        ),
    ):
        other_worker.add(row)
        other_worker.commit()
        seen.append(version())
        for name, value in change.items():
            setattr(row, name, value)
        other_worker.commit()
        seen.append(version())
        other_worker.delete(row)
        other_worker.commit()
        seen.append(version())
    assert seen == [0, 1, 2, 3, 4, 5, 6]


def test_bulk_statements_on_budgets_and_overrides_are_refused(account, other_worker):
    """A bulk UPDATE or DELETE would skip the per-row rule: the session refuses it."""
    from sqlalchemy import delete, update

    from llmlab_app.db.models import Budget, PriceOverride

    for statement in (
        update(Budget).values(hard_limit=True),
        delete(PriceOverride),
    ):
        with pytest.raises(RuntimeError, match="settings_version"):
            other_worker.execute(statement)
        other_worker.rollback()
