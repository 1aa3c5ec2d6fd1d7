"""Whether this server can take traffic: its database and Redis answer and the schema is at
the revision the code expects (GET /ready; GET /health only checks the database)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import redis
from sqlalchemy import Engine

from llmlab_app.config import Settings
from llmlab_app.db.engine import check_database, head_revisions, schema_revisions

# A readiness probe must answer quickly even when Redis is unreachable.
REDIS_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class Readiness:
    database: Literal["ok", "unavailable"]
    redis: Literal["ok", "unavailable", "not configured"]
    migrations: Literal["ok", "pending", "unknown"]
    schema_revision: list[str]
    code_revision: list[str]

    @property
    def ready(self) -> bool:
        return self.database == "ok" and self.redis != "unavailable" and self.migrations == "ok"

    def problems(self) -> list[str]:
        """What is not ready, in words, e.g. `migrations pending (database at 0002, code at
        0003)`; empty when ready."""
        problems = []
        if self.database != "ok":
            problems.append("database unavailable")
        if self.redis == "unavailable":
            problems.append("redis unavailable")
        if self.migrations == "pending":
            at = ", ".join(self.schema_revision) or "no revision"
            problems.append(
                f"migrations pending (database at {at}, code at {', '.join(self.code_revision)})"
            )
        return problems


def check_readiness(engine: Engine, settings: Settings) -> Readiness:
    """Check the database, Redis (when configured) and the schema revision."""
    code_revision = sorted(head_revisions())
    database_ok = check_database(engine)
    schema_revision: list[str] = []
    migrations: Literal["ok", "pending", "unknown"] = "unknown"
    if database_ok:
        try:
            schema_revision = sorted(schema_revisions(engine))
            migrations = "ok" if schema_revision == code_revision else "pending"
        except Exception:
            database_ok = False
    redis_state: Literal["ok", "unavailable", "not configured"] = "not configured"
    if settings.redis_url:
        redis_state = "ok" if _redis_answers(settings.redis_url) else "unavailable"
    return Readiness(
        database="ok" if database_ok else "unavailable",
        redis=redis_state,
        migrations=migrations,
        schema_revision=schema_revision,
        code_revision=code_revision,
    )


def _redis_answers(url: str) -> bool:
    try:
        return bool(_redis_client(url).ping())
    except (redis.RedisError, OSError):
        return False


@lru_cache(maxsize=4)
def _redis_client(url: str) -> redis.Redis:
    # The rate limiter's URL may carry limits' `async+` scheme prefix.
    return redis.Redis.from_url(
        url.removeprefix("async+"),
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
