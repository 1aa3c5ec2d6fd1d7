"""Service results become the rows and badges the pages show."""

from datetime import UTC, date, datetime
from decimal import Decimal

from llmlab_app.db.models import Budget, CostEvent
from llmlab_app.services.budgets import BudgetStatus
from llmlab_app.ui import styles
from llmlab_app.ui.states.views import budget_color, budget_view, event_row, event_rows
from llmlab_core.forecast import Forecast

TODAY = date(2026, 11, 10)


def _status(spent: str, amount: str, runs_out_on: date | None) -> BudgetStatus:
    budget = Budget(
        org_id=None,
        name="Prod",
        amount_usd=Decimal(amount),
        period="monthly",
        alert_thresholds=[50, 80, 100],
    )
    spent_usd = Decimal(spent)
    forecast = Forecast(
        spent=spent_usd,
        projected=spent_usd * 3,
        low=spent_usd * 2,
        high=spent_usd * 4,
        runs_out_on=runs_out_on,
        enough_data=True,
        method="test",
        daily_rate=Decimal(1),
        history_days=28,
        remaining_days=20,
    )
    return BudgetStatus(
        budget=budget,
        project=None,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 12, 1),
        spent_usd=spent_usd,
        remaining_usd=max(Decimal(amount) - spent_usd, Decimal(0)),
        percent=(spent_usd * 100 / Decimal(amount)).quantize(Decimal("0.01")),
        exceeded=spent_usd >= Decimal(amount),
        forecast=forecast,
    )


def test_budget_on_pace_is_green_and_says_where_it_lands() -> None:
    view = budget_view(_status("10", "100", None), TODAY)
    assert view.color == styles.BUDGET_OK
    assert view.status == "On track: about $30.00 by period end"
    assert (view.spent, view.amount, view.percent_label, view.bar_value) == (
        "$10.00",
        "$100.00",
        "10%",
        10,
    )
    assert view.scope == "All projects"


def test_budget_heading_over_is_amber_with_the_date_it_runs_out() -> None:
    view = budget_view(_status("40", "100", date(2026, 11, 24)), TODAY)
    assert view.color == styles.BUDGET_WARNING
    assert view.status == "Exceeds on Nov 24, 2026 at this pace"


def test_spent_budget_is_red_and_the_bar_stops_at_full() -> None:
    view = budget_view(_status("150", "100", date(2026, 11, 8)), TODAY)
    assert view.color == styles.BUDGET_EXCEEDED
    assert view.status == "Exceeded on Nov 8, 2026"
    assert (view.percent_label, view.bar_value) == ("150%", 100)


def test_warning_colour_starts_at_the_highest_threshold_below_100() -> None:
    assert budget_color(Decimal(79), forecast_exceeds=False, thresholds=[50, 80, 100]) == "grass"
    assert budget_color(Decimal(80), forecast_exceeds=False, thresholds=[50, 80, 100]) == "amber"
    assert budget_color(Decimal(60), forecast_exceeds=False, thresholds=[60, 100]) == "amber"


def test_unpriced_event_is_marked_instead_of_costing_zero() -> None:
    event = CostEvent(
        org_id=None,
        client_event_id="x",
        provider="custom",
        model="m",
        input_tokens=1200,
        output_tokens=30,
        cost_usd=None,
        unpriced=True,
        tags=["a", "b"],
        timestamp=datetime(2026, 11, 10, 12, 0, tzinfo=UTC),
    )
    row = event_row(event, None, 6)
    assert (row.cost, row.cost_exact, row.unpriced) == ("unpriced", "", True)
    assert (row.project, row.tags) == ("\u2014", ["a", "b"])
    assert row.input_tokens == "1,200"


def test_priced_event_shows_its_exact_stored_cost() -> None:
    event = CostEvent(
        org_id=None,
        client_event_id="x",
        provider="openai",
        model="gpt-4o-mini",
        cost_usd=Decimal("0.0000123450"),
        cost_source="client",
        timestamp=datetime(2026, 11, 10, 12, 0, tzinfo=UTC),
    )
    row = event_row(event, "checkout", 7)
    assert (row.cost, row.client_reported, row.project) == ("$0.0000123", True, "checkout")
    assert row.cost_exact == "$0.000012345"  # on hover: every stored digit


def _priced(cost: str) -> CostEvent:
    return CostEvent(
        org_id=None,
        client_event_id=cost,
        provider="openai",
        model="gpt-4o-mini",
        cost_usd=Decimal(cost),
        timestamp=datetime(2026, 11, 10, 12, 0, tzinfo=UTC),
    )


def test_a_page_of_events_shows_its_costs_with_one_number_of_decimals() -> None:
    unpriced = CostEvent(
        org_id=None,
        client_event_id="u",
        provider="custom",
        model="m",
        cost_usd=None,
        unpriced=True,
        timestamp=datetime(2026, 11, 10, 12, 0, tzinfo=UTC),
    )
    rows = event_rows([_priced("0.006"), _priced("0.0004392"), unpriced, _priced("0.2866644")], {})
    assert [row.cost for row in rows] == ["$0.006000", "$0.000439", "unpriced", "$0.286664"]
    assert [row.cost_exact for row in rows] == ["$0.006", "$0.0004392", "", "$0.2866644"]


def test_each_event_row_says_which_ingress_it_came_through() -> None:
    def row(source: str, metadata: dict[str, str]) -> tuple[str, bool]:
        event = CostEvent(
            user_id=None,
            client_event_id="x",
            provider="openai",
            model="gpt-4o",
            timestamp=datetime(2026, 11, 10, 12, 0, tzinfo=UTC),
            source=source,
            event_metadata=metadata,
        )
        shown = event_row(event, None, 6)
        return shown.source, shown.via_gateway

    assert row("gateway", {"endpoint": "chat/completions"}) == ("gateway", True)
    # The column decides, not what a client wrote into its metadata.
    assert row("sdk", {"source": "gateway"}) == ("sdk", False)
    assert row("api", {}) == ("api", False)
    assert row("otlp", {}) == ("otlp", False)


def test_the_cached_column_details_reads_writes_1_hour_writes_and_the_tier():
    from types import SimpleNamespace

    from llmlab_app.ui.states.views import cache_detail

    event = SimpleNamespace(
        cache_read_tokens=5_000,
        cache_write_tokens=2_000,
        cache_write_1h_tokens=500,
        service_tier="batch",
    )
    assert cache_detail(event) == (
        "5,000 read · 2,000 written (500 to the 1-hour cache) · batch tier"
    )
    plain = SimpleNamespace(
        cache_read_tokens=0, cache_write_tokens=0, cache_write_1h_tokens=0, service_tier="standard"
    )
    assert cache_detail(plain) == "0 read"
