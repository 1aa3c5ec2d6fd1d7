"""Column types that keep money exact and timestamps tz-aware on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Numeric, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB

MONEY_PLACES = 10
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)


def quantize_money(value: Decimal) -> Decimal:
    """The exact value that will be stored: 10 decimal places (1e-10 USD)."""
    return value.quantize(MONEY_QUANTUM)


def money_text(value: Decimal) -> str:
    """Fixed-point text with no exponent and no trailing zeros: '1.875', '0', '2.5'."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


class Money(TypeDecorator[Decimal]):
    """Exact USD amounts: NUMERIC(28, 10) on PostgreSQL.

    SQLite has no exact decimal type (NUMERIC affinity turns values into floats), so there
    the amount is stored as an integer count of 1e-10 USD: SUM() over it stays exact.
    """

    impl = Numeric(28, MONEY_PLACES, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(28, MONEY_PLACES, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        value = quantize_money(value if isinstance(value, Decimal) else Decimal(str(value)))
        return int(value.scaleb(MONEY_PLACES)) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-MONEY_PLACES)
        return quantize_money(Decimal(value))


# JSONB on PostgreSQL (indexable, `@>`), plain JSON text elsewhere.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always returns an aware UTC datetime (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: Any) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def to_text(value: datetime | None) -> str | None:
            # The text SQLAlchemy's SQLite DATETIME stores, formatted in C: its own processor
            # (Python string formatting) was ~4 us per value, two per event.
            if value is not None and value.tzinfo is UTC:
                # The naive copy's text is this one's without "+00:00"; `replace` costs as
                # much as `isoformat` (its keyword parsing).
                return value.isoformat(" ", "microseconds")[:-6]
            naive = self.process_bind_param(value, dialect)
            return None if naive is None else naive.isoformat(" ", "microseconds")

        return to_text

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_decimal(value: Any) -> Decimal:
    """Sums come back as Decimal on PostgreSQL but may be int/str on SQLite."""
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))
