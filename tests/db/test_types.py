"""Column types: timestamps stored as SQLAlchemy's own SQLite DATETIME text, read back
aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine
from sqlalchemy.dialects.sqlite import DATETIME

from llmlab_app.db.types import UTCDateTime

MOMENTS = [
    datetime(2026, 11, 26, 20, 57, 40, 310261, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds
    datetime(999, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
    datetime(2026, 6, 1, 1, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
]


def test_sqlite_text_is_what_sqlalchemy_itself_stores():
    dialect = create_engine("sqlite://").dialect
    ours = UTCDateTime().bind_processor(dialect)
    stock = DATETIME().bind_processor(dialect)
    for moment in MOMENTS:
        expected = stock(moment.astimezone(UTC).replace(tzinfo=None))
        assert ours(moment) == expected
        assert UTCDateTime().process_result_value(
            DATETIME().result_processor(dialect, None)(expected), dialect
        ) == moment.astimezone(UTC)
    assert ours(None) is None
    with pytest.raises(ValueError, match="naive"):
        ours(datetime(2026, 1, 1))
