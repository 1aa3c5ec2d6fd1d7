"""The page services: one call reads what a page shows; the budgets page reads its alerts'
webhook deliveries in one query, however many budgets there are (it was one per budget)."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, event

from llmlab_app.services import budgets, orgs
from llmlab_app.services.ingest import EventIn, ingest_events_blocking
from llmlab_app.services.pages import read_budgets
from tests.conftest import signup_through_service


@contextmanager
def counting_queries(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _over_budget(session: Any, actor: Any, budget_count: int) -> None:
    for number in range(budget_count):
        budgets.create_budget(
            session,
            actor=actor,
            name=f"Budget {number}",
            amount_usd=Decimal("0.01"),
            period="monthly",
            alert_thresholds=[100],
            webhook_url=f"https://hooks.example.com/{number}",
        )
    batch = [
        EventIn(
            provider="openai",
            model="gpt-4o",
            input_tokens=100_000,
            output_tokens=10_000,
            timestamp=datetime.now(UTC),
        )
    ]
    ingest_events_blocking(session.get_bind(), org_id=actor.org_id, source="api", events=batch)
    session.commit()


def test_budgets_page_reads_deliveries_in_one_query_whatever_the_budget_count(
    session: Any, settings: Any, engine: Engine
) -> None:
    counts = {}
    for email, budget_count in (("few@example.com", 1), ("many@example.com", 6)):
        user = signup_through_service(session, settings, email).tokens.user
        actor = orgs.actor_for(session, user=user)
        _over_budget(session, actor, budget_count)
        session.expire_all()
        with counting_queries(engine) as statements:
            page = read_budgets(session, actor=actor)
        assert len(page.statuses) == len(page.alerts) == budget_count
        assert set(page.deliveries) == {alert.id for alert in page.alerts}
        counts[budget_count] = sum("webhook_deliveries" in sql for sql in statements)
    assert counts == {1: 1, 6: 1}


def test_budgets_page_hides_deliveries_from_who_cannot_manage_webhooks(
    session: Any, settings: Any
) -> None:
    from dataclasses import replace

    from llmlab_app.services.permissions import Role

    user = signup_through_service(session, settings, "ada@example.com").tokens.user
    owner = orgs.actor_for(session, user=user)
    _over_budget(session, owner, 2)

    as_viewer = read_budgets(session, actor=replace(owner, role=Role.VIEWER))

    assert len(as_viewer.alerts) == 2
    assert as_viewer.deliveries == {} and not as_viewer.shows_webhooks
