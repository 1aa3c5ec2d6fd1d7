"""How money, counts and dates read on the dashboard."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from llmlab_app.ui.format import (
    MISSING,
    format_count,
    format_day,
    format_range,
    format_timestamp,
    format_usd,
    format_usd_column,
    format_usd_exact,
    usd_column_places,
)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234.5678"), "$1,234.57"),
        (Decimal("0"), "$0.00"),
        (Decimal("0.005"), "$0.005"),
        (Decimal("0.0000123"), "$0.000012"),
        (Decimal("0.0000001"), "<$0.000001"),
        (None, MISSING),
    ],
)
def test_card_dollars_keep_cents_and_show_sub_cent_amounts(value, shown) -> None:
    assert format_usd(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("0.0012345000"), "$0.0012345"),
        (Decimal("0.0000000001"), "$0.0000000001"),
        (Decimal("1234.5"), "$1,234.50"),
        (Decimal("1000"), "$1,000.00"),
        (Decimal("0E-10"), "$0.00"),
        (None, MISSING),
    ],
)
def test_exact_dollars_keep_every_stored_digit(value, shown) -> None:
    assert format_usd_exact(value) == shown


def test_counts_dates_and_ranges_read_unambiguously() -> None:
    assert format_count(1234567) == "1,234,567"
    assert format_day(date(2026, 11, 5)) == "Nov 5, 2026"
    assert format_timestamp(datetime(2026, 11, 5, 9, 3, 7, tzinfo=UTC)) == "2026-11-05 09:03:07"
    assert format_range("$1", "$2") == "$1 \u2013 $2"


def test_a_cost_column_shows_every_row_with_the_same_decimal_places() -> None:
    costs = [Decimal("0.006"), Decimal("0.0004392"), Decimal("0.2866644"), None, Decimal(0)]
    assert format_usd_column(costs) == [
        "$0.006000",
        "$0.000439",
        "$0.286664",
        MISSING,
        "$0.000000",
    ]


@pytest.mark.parametrize(
    ("smallest", "places"),
    [
        (Decimal("0.0004392"), 6),  # three significant digits: 0.000439
        (Decimal("0.05"), 4),
        (Decimal("0.2866644"), 3),
        (Decimal("7.25"), 2),  # never fewer than cents
        (Decimal("1234.5"), 2),
        (Decimal("0.0000000001"), 10),  # never more than the database stores
        (Decimal("-0.003"), 5),
    ],
)
def test_a_cost_column_keeps_three_significant_digits_of_its_smallest_cost(
    smallest, places
) -> None:
    assert usd_column_places([Decimal("12.5"), smallest, None, Decimal(0)]) == places


def test_a_column_of_zeros_or_nothing_shows_cents() -> None:
    assert usd_column_places([]) == 2
    assert format_usd_column([Decimal("0E-10"), None]) == ["$0.00", MISSING]


def test_column_costs_round_half_up_with_thousands_separators() -> None:
    assert format_usd_column([Decimal("1234.56789"), Decimal("0.0125")]) == [
        "$1,234.5679",
        "$0.0125",
    ]
