"""Shared fixtures: real databases (SQLite always, PostgreSQL when
`LLMLAB_TEST_DATABASE_URL` is set), the real ASGI app, and small factories."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("LLMLAB_TEST_DATABASE_URL") else [])
TEST_SECRET = "test-secret-" + "x" * 40


def earlier_today(now: datetime, minutes: int) -> datetime:
    """`minutes` before `now`, but not before today's midnight (UTC): tests that check "today"
    and "this month" stay right when they run just after midnight."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(now - timedelta(minutes=minutes), midnight)


@pytest.fixture(scope="session")
def _engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Engine]]:
    from llmlab_app.db.engine import make_engine, migrate

    engines: dict[str, Engine] = {}
    sqlite_path = tmp_path_factory.mktemp("db") / "llmlab-test.db"
    engines["sqlite"] = make_engine(f"sqlite:///{sqlite_path}")
    if "postgresql" in BACKENDS:
        engines["postgresql"] = make_engine(os.environ["LLMLAB_TEST_DATABASE_URL"])
    if "postgresql" in engines:
        # The database outlives test runs (and other checkouts migrate it): start from nothing.
        with engines["postgresql"].begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    for engine in engines.values():
        migrate(engine)
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, _engines: dict[str, Engine]) -> Iterator[Engine]:
    """A migrated database with empty tables, once per backend."""
    engine = _engines[request.param]
    _empty_tables(engine)
    yield engine


def _empty_tables(engine: Engine) -> None:
    import llmlab_app.db.models  # noqa: F401

    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def settings(tmp_path: Path, engine: Engine) -> Any:
    from llmlab_app.config import Settings

    return Settings(
        env="test",
        data_dir=tmp_path,
        database_url=engine.url.render_as_string(hide_password=False),
        jwt_secret=TEST_SECRET,
        rate_limit="10000/minute",
        auth_rate_limit="10000/minute",
    )


@pytest.fixture
def session(engine: Engine) -> Iterator[Any]:
    from sqlmodel import Session

    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def app(settings: Any, engine: Engine) -> Any:
    from llmlab_app.api import create_app

    return create_app(settings, engine)


@pytest.fixture
def client(app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        yield client


def stored_id(engine: Engine, value: Any) -> str:
    """A UUID as the column stores it: hex on SQLite, the native text on PostgreSQL."""
    value = uuid.UUID(str(value))
    return value.hex if engine.dialect.name == "sqlite" else str(value)


def signup_through_service(session: Any, settings: Any, email: str) -> Any:
    """`auth.signup` as a route calls it (its own sign-in limits, a test address)."""
    from llmlab_app.services import auth
    from llmlab_app.services.sign_in_limits import SignInLimits

    return auth.signup(
        session,
        email=email,
        password="long enough",
        settings=settings,
        limits=SignInLimits(settings),
        address="test",
    )


def session_id_of(access_token: str) -> str:
    """The sign-in session an access token names (its `sid` claim)."""
    import jwt

    return jwt.decode(access_token, options={"verify_signature": False})["sid"]


class Account:
    """A signed-up user as the tests drive it."""

    def __init__(self, client: Any, email: str, password: str = "correct horse 1") -> None:
        response = client.post("/api/auth/signup", json={"email": email, "password": password})
        assert response.status_code == 201, response.text
        data = response.json()["data"]
        self.client = client
        self.email = email
        self.password = password
        self.user_id = data["user"]["id"]
        self.access_token = data["access_token"]
        self.refresh_token = data["refresh_token"]
        self.api_key = data["api_key"]["key"]
        self.session_id = session_id_of(self.access_token)
        # The personal organisation, where sign-up's key belongs.
        self.org_id = data["api_key"]["org_id"]

    def actor(self, session: Any, org_id: str | None = None) -> Any:
        """The account acting in an organisation (its personal one by default), for calling
        services directly as the API and the dashboard do."""
        import uuid

        from llmlab_app.services.orgs import actor_for_user_id

        return actor_for_user_id(
            session,
            user_id=uuid.UUID(self.user_id),
            org_id=uuid.UUID(org_id) if org_id else None,
        )

    @property
    def key_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def token_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def track(self, *events: dict[str, Any]) -> Any:
        body: Any = events[0] if len(events) == 1 else {"events": list(events)}
        return self.client.post("/api/events/track", json=body, headers=self.key_headers)

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.key_headers)

    def in_org(self, org_id: str) -> dict[str, str]:
        """Login-token headers acting in `org_id` (`X-LLMLab-Org`)."""
        return self.token_headers | {"X-LLMLab-Org": org_id}

    def create_org(self, name: str = "Acme") -> str:
        """A shared organisation this account owns; its id."""
        response = self.client.post("/api/orgs", json={"name": name}, headers=self.token_headers)
        assert response.status_code == 201, response.text
        return response.json()["data"]["id"]

    def add_member(self, org_id: str, member: Account, role: str) -> None:
        """Invite `member` into `org_id` with `role` and have them accept, through the API."""
        invited = self.client.post(
            f"/api/orgs/{org_id}/invitations",
            json={"email": member.email, "role": role},
            headers=self.token_headers,
        )
        assert invited.status_code == 201, invited.text
        accepted = member.client.post(
            "/api/invitations/accept",
            json={"token": invited.json()["data"]["token"]},
            headers=member.token_headers,
        )
        assert accepted.status_code == 200, accepted.text

    def key_in(self, org_id: str, name: str = "service") -> str:
        """A new API key of this account in `org_id`; its secret."""
        response = self.client.post("/api/keys", json={"name": name}, headers=self.in_org(org_id))
        assert response.status_code == 201, response.text
        return response.json()["data"]["key"]


@pytest.fixture
def account(client: Any) -> Account:
    return Account(client, "ada@example.com")


@pytest.fixture
def other_account(client: Any) -> Account:
    return Account(client, "grace@example.com")
