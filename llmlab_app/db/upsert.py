"""Dialect-specific INSERT ... ON CONFLICT, the same on SQLite and PostgreSQL.

The statements are built once per (dialect, table, columns) and reused: building one costs
SQLAlchemy 0.5-2 ms (the upsert's `excluded` proxies most), more than executing it on the
ingest path, and a reused statement also keeps its memoised cache key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
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
    """Insert rows, or add their `add_columns` onto the existing row with the same key.

    One statement through the DB-API cursor (like `insert_new_rows`): SQLAlchemy would run
    an upsert with several rows as psycopg2 `executemany`, one round trip per row."""
    if not rows:
        return
    table = model.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect
    plan = _raw_insert_plan(dialect, table, tuple(rows[0]), tuple(key_columns), tuple(add_columns))
    _run_raw(session, plan, [plan.values(row) for row in rows], fetch=False)


def insert_new_rows(
    session: Session,
    model: type[SQLModel],
    rows: Sequence[dict[str, Any]],
    *,
    conflict_columns: Sequence[str],
) -> list[bool]:
    """`insert_new_columns` for rows given as dicts (all with the same keys)."""
    if not rows:
        return []
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    return insert_new_columns(session, model, columns, conflict_columns=conflict_columns)


def insert_new_columns(
    session: Session,
    model: type[SQLModel],
    columns: dict[str, Sequence[Any]],
    *,
    conflict_columns: Sequence[str],
    same: dict[str, Any] | None = None,
) -> list[bool]:
    """Bulk insert of rows given column by column (`same`: columns with one value for every
    row) through the DB-API cursor of the session's transaction, skipping rows that hit the
    unique key; per row, whether it was inserted.

    The same as `insert_ignoring_conflicts` without SQLAlchemy's per-row statement work:
    each value goes through its column type's own bind processor (so it is stored exactly as
    SQLAlchemy stores it), a column at a time (a `same` value once, a JSON document once per
    distinct value), then `executemany` (SQLite) or `execute_values` (psycopg2). Rows must
    have a fresh, unique `id` (the primary key).

    Which rows went in: on PostgreSQL, `RETURNING id`. On SQLite, the count of changed rows;
    when some were skipped, the fresh ids are looked up inside the same transaction, which
    holds SQLite's write lock since its first insert, so the answer cannot race.
    """
    same = same or {}
    count = len(columns["id"])
    if not count:
        return []
    table = model.__table__  # type: ignore[attr-defined]
    names = (*columns, *same)
    plan = _raw_insert_plan(session.get_bind().dialect, table, names, tuple(conflict_columns))
    converted: list[Any] = []
    for index, name in enumerate(names):
        convert = plan.converters[index]
        if name in same:
            value = same[name]
            converted.append(repeat(value if convert is None else convert(value), count))
        elif convert is None:
            converted.append(columns[name])
        elif index in plan.documents:
            converted.append(_documents(convert, columns[name]))
        else:
            converted.append(list(map(convert, columns[name])))
    ids = converted[names.index("id")]
    return _run_raw(session, plan, list(zip(*converted, strict=False)), fetch=True, ids=ids)


def _documents(convert: Any, values: Sequence[Any]) -> list[Any]:
    """JSON documents, the common ones converted once per batch: a batch's tags and empty
    metadata repeat, and `json.dumps` was ~3 us each. Only lists of strings and empty
    documents are memoised (1 == True == 1.0 as keys, yet not as JSON)."""
    memo: dict[Any, Any] = {}
    out = []
    for value in values:
        if not value or (type(value) is list and all(type(item) is str for item in value)):
            key = (type(value), *(value or ()))
            found = memo.get(key)
            if found is None:
                found = memo[key] = convert(value)
        else:
            found = convert(value)
        out.append(found)
    return out


def _run_raw(
    session: Session,
    plan: _RawInsertPlan,
    values: list[tuple[Any, ...]],
    *,
    fetch: bool,
    ids: list[Any] | None = None,
) -> list[bool]:
    """Run `plan` for `values` on the session's connection; with `fetch`, per row whether
    it was inserted (`ids`: each row's stored primary key)."""
    connection = session.connection()
    dialect = connection.dialect
    dbapi_connection = connection.connection.dbapi_connection
    cursor = dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if dialect.name == "postgresql":
            from psycopg2.extras import execute_values

            returned = execute_values(cursor, plan.sql, values, page_size=len(values), fetch=fetch)
            if not fetch:
                return []
            assert ids is not None
            new_ids = {str(row[0]) for row in returned}
            return [str(id_) in new_ids for id_ in ids]
        cursor.executemany(plan.sql, values)
        if not fetch or cursor.rowcount == len(values):
            return [True] * len(values) if fetch else []
        assert ids is not None
        found: set[Any] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            cursor.execute(f"{plan.lookup} ({', '.join('?' for _ in chunk)})", chunk)
            found.update(row[0] for row in cursor.fetchall())
        return [id_ in found for id_ in ids]
    except dialect.loaded_dbapi.Error as exc:
        # As SQLAlchemy would raise it (IntegrityError, OperationalError, ...), and a
        # connection the error shows is dead is not handed back to the pool.
        disconnect = dialect.is_disconnect(exc, dbapi_connection, cursor)
        if disconnect:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            plan.sql,
            None,
            exc,
            dialect.loaded_dbapi.Error,
            connection_invalidated=disconnect,
            dialect=dialect,
        ) from exc
    finally:
        if not connection.invalidated:
            cursor.close()


@dataclass(frozen=True)
class _RawInsertPlan:
    sql: str
    lookup: str
    names: tuple[str, ...]
    # (position, bind processor) of the columns whose type converts values (None included).
    processors: tuple[tuple[int, Any], ...]
    # Per column, its bind processor or None; the positions of JSON columns.
    converters: tuple[Any, ...]
    documents: frozenset[int]

    def values(self, row: dict[str, Any]) -> tuple[Any, ...]:
        values = [row[name] for name in self.names]
        for index, convert in self.processors:
            values[index] = convert(values[index])
        return tuple(values)


@lru_cache(maxsize=64)
def _raw_insert_plan(
    dialect: Any,
    table: Table,
    names: tuple[str, ...],
    conflict_columns: tuple[str, ...],
    add_columns: tuple[str, ...] = (),
) -> _RawInsertPlan:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id, or, with `add_columns`, DO UPDATE
    adding those columns onto the existing row."""
    if dialect.name not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"unsupported database dialect {dialect.name!r}")
    converters = tuple(table.c[name].type._cached_bind_processor(dialect) for name in names)
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(table.c[name].name) for name in names)
    conflict = ", ".join(quote(table.c[name].name) for name in conflict_columns)
    target = dialect.identifier_preparer.format_table(table)
    id_column = quote(table.c["id"].name) if "id" in table.c else None
    if add_columns:
        additions = ", ".join(
            f"{column} = {target}.{column} + excluded.{column}"
            for column in (quote(table.c[name].name) for name in add_columns)
        )
        action = f"DO UPDATE SET {additions}"
    else:
        action = "DO NOTHING"
    if dialect.name == "postgresql":
        values = "%s"
        tail = f" RETURNING {id_column}" if not add_columns else ""
    else:
        values = f"({', '.join('?' for _ in names)})"
        tail = ""
    return _RawInsertPlan(
        sql=f"INSERT INTO {target} ({columns}) VALUES {values} "
        f"ON CONFLICT ({conflict}) {action}{tail}",
        lookup=f"SELECT {id_column} FROM {target} WHERE {id_column} IN",
        names=names,
        processors=tuple(
            (index, convert) for index, convert in enumerate(converters) if convert is not None
        ),
        converters=converters,
        documents=frozenset(
            index for index, name in enumerate(names) if isinstance(table.c[name].type, JSON)
        ),
    )
