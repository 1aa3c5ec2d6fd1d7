"""Dialect-specific INSERT ... ON CONFLICT, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def _insert_for(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {dialect!r}")


def insert_ignoring_conflicts(
    session: Session,
    model: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    *,
    conflict_columns: Sequence[str],
    returning: Sequence[str] = (),
) -> list[Any]:
    """Bulk insert; rows that hit the unique key are skipped. Returns the inserted rows'
    `returning` columns (in no particular order)."""
    if not rows:
        return []
    table: Table = model.__table__  # type: ignore[attr-defined]
    statement = _insert_for(session, table).on_conflict_do_nothing(
        index_elements=list(conflict_columns)
    )
    if returning:
        statement = statement.returning(*(table.c[name] for name in returning))
        return list(session.execute(statement, list(rows)).all())
    session.execute(statement, list(rows))
    return []


def upsert_adding(
    session: Session,
    model: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    *,
    key_columns: Sequence[str],
    add_columns: Sequence[str],
) -> None:
    """Insert rows, or add their `add_columns` onto the existing row with the same key."""
    if not rows:
        return
    table: Table = model.__table__  # type: ignore[attr-defined]
    statement = _insert_for(session, table)
    statement = statement.on_conflict_do_update(
        index_elements=list(key_columns),
        set_={name: table.c[name] + statement.excluded[name] for name in add_columns},
    )
    session.execute(statement, list(rows))
