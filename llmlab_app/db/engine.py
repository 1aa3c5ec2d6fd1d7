"""The database engine, sessions and schema migration at start-up."""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlmodel import Session

from llmlab_app.config import get_settings
from llmlab_app.package_files import migrations_dir

logger = logging.getLogger("llmlab.db")

# Sync routes run in AnyIO's thread pool (40 threads), each request holding a connection
# while it runs. A pool much smaller than the requests in flight makes every request beyond it
# open and close a connection of its own (on PostgreSQL a new server process, ~2-5 ms), so
# keep enough for a busy worker. Several workers multiply it: 3 x (20 + 10) stays within
# PostgreSQL's default max_connections of 100.
POOL_SIZE = 20


def make_engine(url: str) -> Engine:
    """An engine tuned per backend: WAL + foreign keys on SQLite, pre-ping on PostgreSQL."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):
            make_private_sqlite_file(Path(path))
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=POOL_SIZE,
            max_overflow=10,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=10)


def make_private_sqlite_file(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by its owner only: it holds password
    hashes, API key hashes, webhook secrets and every tracked call. A file left readable by
    an earlier version is tightened; an existing folder is only reported (it may be shared)."""
    folder = path.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    elif folder.stat().st_mode & 0o077:
        logger.warning("the database folder %s is open to other users (chmod 700 it)", folder)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    # SQLite gives its -wal and -shm files the database file's mode.
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # NORMAL in WAL mode stays durable across application crashes (not power loss)
    # and removes one fsync per commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """The process-wide engine for `LLMLAB_DATABASE_URL` (default: SQLite in the data dir)."""
    return make_engine(get_settings().resolved_database_url)


@contextmanager
def get_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits nothing by itself: services commit what they change."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        yield session


def migrate(engine: Engine | None = None, revision: str = "head") -> None:
    """Bring the schema to `revision` with alembic (the only way the schema changes).

    Several workers start together: a lock (PostgreSQL advisory lock, a file lock next to a
    SQLite database) lets one migrate while the others wait and then find nothing to do.
    """
    from alembic import command

    engine = engine or get_engine()
    config = _alembic_config()
    with _migration_lock(engine), _migration_connection(engine) as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction for running migrations.

    SQLite alters a table by copying it and dropping the old one, and with foreign keys on
    that drop deletes (ON DELETE CASCADE) every row referring to it: the rows of other tables
    would be lost. So on SQLite foreign keys are off while migrating (the pragma only takes
    effect outside a transaction), and checked before the commit instead.
    """
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


_MIGRATION_LOCK = 0x11A1AB  # any constant shared by every LLMLab process


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    lock_path = f"{database}.migrate-lock"
    with open(os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600), "r+") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def downgrade(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    config = _alembic_config()
    with _migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _alembic_config() -> Any:
    """Alembic's config for the shipped migrations; alembic.ini is only for the alembic
    command line in a clone (new revisions), the app never reads it."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The revisions the shipped migrations end at (they never change while running)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(_alembic_config()).get_heads())


def schema_revisions(engine: Engine) -> frozenset[str]:
    """The revisions the database's schema is at (empty for a database never migrated)."""
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        return frozenset(MigrationContext.configure(connection).get_current_heads())


def check_database(engine: Engine | None = None) -> bool:
    """Whether the database answers a trivial query."""
    try:
        with (engine or get_engine()).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
