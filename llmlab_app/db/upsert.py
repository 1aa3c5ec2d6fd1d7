"""Dialect-specific INSERT ... ON CONFLICT, the same on SQLite and PostgreSQL.

The statements are built once per (dialect, table, columns) and reused: building one costs
SQLAlchemy 0.5-2 ms (the upsert's `excluded` proxies most), more than executing it on the
ingest path, and a reused statement also keeps its memoised cache key.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def _insert_for(dialect: str, table: Table) -> Any:
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
    statement = _insert_ignoring_statement(
        session.get_bind().dialect.name,
        model.__table__,  # type: ignore[attr-defined]
        tuple(conflict_columns),
        tuple(returning),
    )
    if returning:
        return list(session.execute(statement, list(rows)).all())
    session.execute(statement, list(rows))
    return []


@lru_cache(maxsize=64)
def _insert_ignoring_statement(
    dialect: str, table: Table, conflict_columns: tuple[str, ...], returning: tuple[str, ...]
) -> Any:
    statement = _insert_for(dialect, table).on_conflict_do_nothing(
        index_elements=list(conflict_columns)
    )
    if returning:
        statement = statement.returning(*(table.c[name] for name in returning))
    return statement


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
    statement = _upsert_adding_statement(
        session.get_bind().dialect.name,
        model.__table__,  # type: ignore[attr-defined]
        tuple(key_columns),
        tuple(add_columns),
    )
    session.execute(statement, list(rows))


@lru_cache(maxsize=64)
def _upsert_adding_statement(
    dialect: str, table: Table, key_columns: tuple[str, ...], add_columns: tuple[str, ...]
) -> Any:
    statement = _insert_for(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=list(key_columns),
        set_={name: table.c[name] + statement.excluded[name] for name in add_columns},
    )
