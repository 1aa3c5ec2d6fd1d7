"""Form input becomes typed values, or a message for the field that is wrong."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from llmlab_app.ui.states.auth import validate_credentials
from llmlab_app.ui.states.budgets import validate_budget_form
from llmlab_app.ui.states.filters import (
    date_range,
    parse_thresholds,
    parse_usd,
)
from llmlab_app.ui.states.keys import validate_name
from llmlab_app.ui.states.settings import validate_override_form
from llmlab_core.periods import day_instants


def test_sign_up_needs_an_email_and_eight_characters() -> None:
    assert validate_credentials("ada@example.com", "long enough", new_account=True) == {}
    errors = validate_credentials("ada", "short", new_account=True)
    assert errors == {
        "email": "This does not look like an email address.",
        "password": "Use at least 8 characters.",
    }
    assert validate_credentials("", "", new_account=False) == {
        "email": "Enter your email address.",
        "password": "Enter a password.",
    }


def test_sign_in_does_not_reveal_the_password_rule() -> None:
    assert validate_credentials("ada@example.com", "short", new_account=False) == {}


@pytest.mark.parametrize(
    ("text", "amount"),
    [("250", Decimal("250")), ("$1,200.50", Decimal("1200.50")), (" 0.05 ", Decimal("0.05"))],
)
def test_dollar_amounts_accept_what_people_type(text: str, amount: Decimal) -> None:
    assert parse_usd(text, required=True) == amount


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter an amount in dollars."),
        ("abc", "Enter a number, like 250 or 12.50."),
        ("-5", "Enter an amount greater than 0."),
        ("0", "Enter an amount greater than 0."),
        ("NaN", "Enter an amount greater than 0."),
    ],
)
def test_bad_dollar_amounts_say_what_to_type(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        parse_usd(text, required=True)


def test_thresholds_are_sorted_unique_percentages() -> None:
    assert parse_thresholds("100, 50%, 80, 50") == [50, 80, 100]
    with pytest.raises(ValueError, match="between 1 and 1000"):
        parse_thresholds("0, 50")
    with pytest.raises(ValueError, match="whole percentages"):
        parse_thresholds("fifty")


def test_a_valid_budget_form_becomes_service_arguments() -> None:
    form = validate_budget_form(
        {
            "name": " Prod ",
            "amount": "250",
            "period": "weekly",
            "thresholds": "80, 100",
            "project": "checkout",
            "webhook_url": "https://hooks.example.com/x",
            "hard_limit": "on",
        }
    )
    assert form.errors == {}
    assert form.values == {
        "name": "Prod",
        "amount_usd": Decimal("250"),
        "period": "weekly",
        "alert_thresholds": [80, 100],
        "project": "checkout",
        "webhook_url": "https://hooks.example.com/x",
        "hard_limit": True,
    }


def test_budget_form_errors_point_at_each_wrong_field() -> None:
    form = validate_budget_form(
        {"name": "", "amount": "x", "period": "yearly", "thresholds": "", "webhook_url": "ftp:/"}
    )
    assert set(form.errors) == {"name", "amount", "period", "thresholds", "webhook_url"}


def test_all_projects_means_no_project_on_the_budget() -> None:
    form = validate_budget_form({"name": "a", "amount": "1", "thresholds": "50", "project": "all"})
    assert form.values["project"] is None
    assert form.values["hard_limit"] is False


def test_date_range_is_inclusive_and_rejects_reversed_ends() -> None:
    start, end, errors = date_range("2026-11-01", "2026-11-30")
    assert (start, end, errors) == (date(2026, 11, 1), date(2026, 11, 30), {})
    assert day_instants(start, end) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert date_range("2026-11-30", "2026-11-01")[2] == {"end": "The end is before the start."}
    assert date_range("11/01/2026", "")[2] == {"start": "Use a date like 2026-11-01."}


def test_names_must_be_present_and_printable() -> None:
    assert validate_name("  prod  ", "key") == ("prod", "")
    assert validate_name("", "project")[1] == "Give the project a name."
    assert validate_name("a\tb", "key")[1] == "The name cannot contain control characters."


def test_price_override_needs_input_and_output_prices() -> None:
    form = validate_override_form(
        {"provider": "openai", "model": "ft:x", "input_per_mtok": "0.3", "output_per_mtok": "0"}
    )
    assert form.errors == {}
    assert form.values["input_per_mtok"] == Decimal("0.3")
    assert form.values["output_per_mtok"] == Decimal("0")
    assert form.values["cache_read_per_mtok"] is None
    assert form.values["valid_from"] is None

    missing = validate_override_form({"provider": "", "model": "m", "input_per_mtok": ""})
    assert set(missing.errors) == {"provider", "input_per_mtok", "output_per_mtok"}


def test_settings_says_which_prices_are_in_use_and_as_of_when():
    from datetime import date

    from llmlab_app.ui.states.settings import prices_label
    from llmlab_core.pricing.dataset import DatasetInfo

    bundled = DatasetInfo("dataset", "genai-prices 0.2.3", None, "genai-prices 0.2.3")
    assert prices_label(bundled).startswith("Prices: genai-prices 0.2.3 (bundled dataset)")
    newer = DatasetInfo("prices file", "data.json", date(2026, 11, 30), "prices file")
    assert prices_label(newer).endswith("prices as of Nov 30, 2026.")
