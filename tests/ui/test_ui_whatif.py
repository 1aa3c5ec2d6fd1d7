"""The what-if panel re-prices through the savings service and reproduces recommendations."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from llmlab_app.errors import InvalidInput
from llmlab_app.services import savings
from llmlab_app.services.ingest import EventIn, ingest_events_blocking
from llmlab_app.ui.figures import WhatIfPoint, whatif_figure
from llmlab_app.ui.format import format_usd
from llmlab_app.ui.states.views import recommendation_view
from llmlab_app.ui.states.whatif import (
    default_range,
    error_field,
    error_message,
    monthly_savings,
    parse_share_percent,
    run_whatif,
    validate_whatif_form,
    whatif_view,
)
from tests.conftest import signup_through_service


def _org_with_gpt4o_traffic(session: Any, settings: Any, now: datetime) -> Any:
    """The personal organisation of a new account, with a month of gpt-4o calls."""
    org_id = signup_through_service(session, settings, "ada@example.com").api_key.key.org_id
    batch = [
        EventIn(
            provider="openai",
            model="gpt-4o-2024-08-06",
            input_tokens=100_000,
            output_tokens=20_000,
            timestamp=now - timedelta(days=days_ago, minutes=5),
            project="checkout",
        )
        for days_ago in (0, 1, 1, 3, 8, 20, 35)  # the last one is outside the window
    ]
    ingest_events_blocking(session.get_bind(), org_id=org_id, source="api", events=batch)
    return org_id


def test_default_range_is_the_recommendation_window() -> None:
    start, end = default_range(date(2026, 11, 26))
    assert (start, end) == (date(2026, 10, 28), date(2026, 11, 26))
    assert (end - start).days + 1 == savings.RECOMMENDATION_WINDOW_DAYS


def test_try_it_on_a_switch_recommendation_shows_its_monthly_savings(
    session: Any, settings: Any
) -> None:
    now = datetime.now(UTC)
    org_id = _org_with_gpt4o_traffic(session, settings, now)
    (switch,) = [
        r for r in savings.list_recommendations(session, org_id=org_id) if r.kind == "switch_model"
    ]
    card = recommendation_view(switch)
    assert (card.from_model, card.to_model, card.share_percent) == ("gpt-4o", "gpt-4o-mini", "80")

    start, end = default_range(now.date())
    form = validate_whatif_form(
        {
            "from_model": card.from_model,
            "to_model": card.to_model,
            "share": card.share_percent,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "project": "all",
        }
    )
    assert form.errors == {}
    result, start, end = run_whatif(session, org_id=org_id, **form.values)

    assert result.calls_moved == 5  # 80% of the 6 calls in the window, rounded
    assert monthly_savings(result, start, end) == switch.monthly_savings_usd
    view = whatif_view(result, start, end)
    assert view.savings == format_usd(result.savings_usd)
    assert f"about {format_usd(switch.monthly_savings_usd)}/mo" in view.savings_detail
    assert card.savings == f"save {format_usd(switch.monthly_savings_usd)}/mo"
    assert view.old_cost == format_usd(result.old_cost_usd)
    assert view.new_cost == format_usd(result.old_cost_usd - result.savings_usd)


def test_a_dearer_target_is_shown_as_extra_cost(session: Any, settings: Any) -> None:
    now = datetime.now(UTC)
    org_id = _org_with_gpt4o_traffic(session, settings, now)
    result, start, end = run_whatif(
        session,
        org_id=org_id,
        from_model="gpt-4o",
        to_model="gpt-4.1",
        share=Decimal(1),
        start=None,
        end=None,
        project="checkout",
    )
    assert result.savings_usd != 0
    view = whatif_view(result, start, end)
    expected = "Savings" if result.savings_usd > 0 else "Extra cost"
    assert view.savings_label == expected
    assert view.savings == format_usd(abs(result.savings_usd))


def test_a_model_with_no_calls_says_there_is_nothing_to_move(session: Any, settings: Any) -> None:
    org_id = _org_with_gpt4o_traffic(session, settings, datetime.now(UTC))
    result, start, end = run_whatif(
        session,
        org_id=org_id,
        from_model="claude-3-opus",
        to_model="gpt-4o-mini",
        share=Decimal("0.5"),
        start=None,
        end=None,
        project=None,
    )
    assert result.calls_moved == 0 and result.savings_usd == 0
    assert "nothing to move" in whatif_view(result, start, end).note


def test_an_unknown_target_model_is_reported_next_to_its_field(session: Any, settings: Any) -> None:
    org_id = _org_with_gpt4o_traffic(session, settings, datetime.now(UTC))
    with pytest.raises(InvalidInput) as raised:
        run_whatif(
            session,
            org_id=org_id,
            from_model="gpt-4o",
            to_model="no-such-model-xyz",
            share=Decimal("0.5"),
            start=None,
            end=None,
            project=None,
        )
    assert error_field(raised.value) == "to_model"
    assert error_message(raised.value) == (
        "Unknown model 'no-such-model-xyz': no price is known for it."
    )
    assert error_field(InvalidInput("share must be between 0 and 1")) == "share"
    assert error_field(InvalidInput("end must not be before start")) == "end"


@pytest.mark.parametrize(
    ("text", "share"), [("80", Decimal("0.8")), ("12.5%", Decimal("0.125")), (" 0 ", 0)]
)
def test_share_is_typed_as_a_percentage(text: str, share: Decimal) -> None:
    assert parse_share_percent(text) == share


def test_the_form_explains_each_bad_field() -> None:
    form = validate_whatif_form(
        {"from_model": " ", "to_model": "", "share": "150", "start": "x", "end": "2026-11-01"}
    )
    assert form.errors == {
        "from_model": "Enter the model your calls went to.",
        "to_model": "Enter the model to compare it with.",
        "share": "Enter a share from 0 to 100 (%).",
        "start": "Use a date like 2026-11-01.",
    }
    assert validate_whatif_form({"share": "abc"}).errors["share"].startswith("Enter a number")
    backwards = validate_whatif_form(
        {
            "from_model": "a",
            "to_model": "b",
            "share": "5",
            "start": "2026-11-02",
            "end": "2026-11-01",
        }
    )
    assert backwards.errors == {"end": "The end is before the start."}


def test_whatif_figure_draws_recorded_and_switched_spend() -> None:
    figure = whatif_figure(
        [WhatIfPoint("2026-11-01", 3.0, 1.0), WhatIfPoint("2026-11-02", 2.0, 0.5)]
    )
    recorded, switched = figure.data
    assert (recorded.name, switched.name) == ("As recorded", "With the switch")
    assert list(recorded.y) == [3.0, 2.0] and list(switched.y) == [1.0, 0.5]
    assert switched.fill == "tonexty"  # the shaded gap is what is saved
