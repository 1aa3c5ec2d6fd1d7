"""The tables of DESIGN §3. Money is `Money` (exact), timestamps `UTCDateTime` (aware UTC).

An organisation owns the data (projects, events and rollups, budgets and their alerts and
deliveries, API keys, price overrides); users are its members with a role. Every user has a
personal organisation, made at sign-up."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from llmlab_app.db.types import JSONDoc, Money, UTCDateTime

# daily_spend needs non-null key parts for "no project" and "no API key" (events sent with a
# login token, or recorded before keys were): the nil UUID stands for either.
NO_PROJECT = uuid.UUID(int=0)
NO_KEY = uuid.UUID(int=0)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _created_at() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


def _user_fk() -> Any:
    return Field(
        sa_column=Column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    )


def _org_fk(*, index: bool = True) -> Any:
    return Field(
        sa_column=Column(
            ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=index
        )
    )


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(sa_column=Column(String(320), nullable=False, unique=True))
    password_hash: str = Field(sa_column=Column(String(255), nullable=False))
    created_at: datetime = _created_at()
    updated_at: datetime = _created_at()


class Organisation(SQLModel, table=True):
    __tablename__ = "organisations"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(sa_column=Column(String(100), nullable=False))
    # Set on a user's personal organisation (deleted with the account, never shared away).
    personal_user_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("users.id", ondelete="CASCADE"), unique=True),
    )
    # Bumped in the transaction of every change to the price overrides or budgets, which
    # the ingest writer keeps between rounds (services/settings_version.py).
    settings_version: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    # Bumped by every change of membership; its UPDATE is also the lock that serialises them
    # (services/members.py), so "at least one owner" holds under concurrent changes.
    members_version: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    created_at: datetime = _created_at()


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"

    org_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    user_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
            nullable=False,
            index=True,
        )
    )
    # owner | admin | member | viewer (services/permissions.py says what each may do).
    role: str = Field(sa_column=Column(String(16), nullable=False))
    created_at: datetime = _created_at()


class Invitation(SQLModel, table=True):
    """An invitation to join an organisation: single use, expires, only its hash is kept."""

    __tablename__ = "invitations"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = _org_fk()
    email: str = Field(sa_column=Column(String(320), nullable=False))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    invited_by_user_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("users.id", ondelete="SET NULL"))
    )
    created_at: datetime = _created_at()
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    accepted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    accepted_by_user_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("users.id", ondelete="SET NULL"))
    )
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class AuditEvent(SQLModel, table=True):
    """Who did what in an organisation, and when (read newest first, by cursor)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_org_created", "org_id", "created_at", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = _org_fk(index=False)
    actor_user_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("users.id", ondelete="SET NULL"))
    )
    # Kept as it was: the log still names who acted after their account is gone.
    actor_email: str | None = Field(default=None, sa_column=Column(String(320)))
    action: str = Field(sa_column=Column(String(64), nullable=False))
    target: str | None = Field(default=None, sa_column=Column(String(320)))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONDoc, nullable=False))
    created_at: datetime = _created_at()


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = _org_fk()
    # The member who created it: the key acts with their role in `org_id` (none once they
    # left, when the key is revoked too).
    user_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(ForeignKey("users.id", ondelete="SET NULL"), index=True),
    )
    name: str = Field(sa_column=Column(String(100), nullable=False))
    prefix: str = Field(sa_column=Column(String(32), nullable=False))
    key_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    # What the key may do: "ingest", "read", "admin" (services/scopes.py). Keys made before
    # scopes existed could do everything, so the column's default keeps them "admin".
    scopes: list[str] = Field(
        default_factory=lambda: ["admin"],
        sa_column=Column(JSONDoc, nullable=False, server_default='["admin"]'),
    )
    created_at: datetime = _created_at()
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class UserSession(SQLModel, table=True):
    """One sign-in: every access token names it (`sid`) and dies with it; the dashboard keeps
    only a reference to it, stored here as a hash (`token_hash`)."""

    __tablename__ = "auth_sessions"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = _user_fk()
    # "api" (access + refresh tokens) or "dashboard" (an opaque reference in Reflex state).
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    token_hash: str | None = Field(default=None, sa_column=Column(String(64), unique=True))
    # When the password was last checked; refreshing keeps it (creating keys asks for a
    # recent one).
    signed_in_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = _created_at()


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_tokens"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = _user_fk()
    # The session (`UserSession.id`) the token belongs to; every rotation keeps it, and reuse
    # of a rotated token revokes the whole family, i.e. the session.
    family_id: uuid.UUID = Field(index=True)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_at: datetime = _created_at()
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class Project(SQLModel, table=True):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_projects_org_name"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = _org_fk()
    name: str = Field(sa_column=Column(String(100), nullable=False))
    created_at: datetime = _created_at()


class CostEvent(SQLModel, table=True):
    __tablename__ = "cost_events"
    __table_args__ = (
        UniqueConstraint("org_id", "client_event_id", name="uq_cost_events_org_client_id"),
        Index("ix_cost_events_org_timestamp", "org_id", "timestamp"),
        Index("ix_cost_events_org_model", "org_id", "model"),
        Index("ix_cost_events_org_project_timestamp", "org_id", "project_id", "timestamp"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = _org_fk(index=False)
    project_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("projects.id", ondelete="SET NULL"))
    )
    # The key that sent it (None: sent with a login token, or recorded before keys were).
    api_key_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    )
    client_event_id: str = Field(sa_column=Column(String(128), nullable=False))
    provider: str = Field(sa_column=Column(String(64), nullable=False))
    model: str = Field(sa_column=Column(String(200), nullable=False))
    input_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    output_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cache_read_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cache_write_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cache_write_1h_tokens: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )
    reasoning_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    # standard, batch, flex or priority: the rates the call was billed at.
    service_tier: str = Field(
        default="standard",
        sa_column=Column(String(16), nullable=False, server_default="standard"),
    )
    tokens_used: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cost_usd: Decimal | None = Field(default=None, sa_column=Column(Money()))
    unpriced: bool = False
    # "engine", "override" or "client" (cost reported by the caller).
    cost_source: str = Field(default="engine", sa_column=Column(String(16), nullable=False))
    price_source: str | None = Field(default=None, sa_column=Column(String(100)))
    # A cost the sender reported beside ours (e.g. an OpenTelemetry span's own figure).
    reported_cost_usd: Decimal | None = Field(default=None, sa_column=Column(Money()))
    # The ingress it came through: api, sdk, otlp or gateway.
    source: str = Field(
        default="api", sa_column=Column(String(16), nullable=False, server_default="api")
    )
    timestamp: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    latency_ms: int | None = Field(default=None, sa_column=Column(Integer))
    status: str = Field(default="success", sa_column=Column(String(16), nullable=False))
    end_user: str | None = Field(default=None, sa_column=Column(String(200)))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSONDoc, nullable=False))
    event_metadata: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column("metadata", JSONDoc, nullable=False)
    )
    created_at: datetime = _created_at()


class DailySpend(SQLModel, table=True):
    """Rollup maintained in the same transaction as the event insert. It keeps the key that
    sent the events, so spend by key survives the raw events' retention."""

    __tablename__ = "daily_spend"

    org_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    project_id: uuid.UUID = Field(default=NO_PROJECT, primary_key=True)
    day: date = Field(sa_column=Column(Date, primary_key=True, nullable=False))
    provider: str = Field(sa_column=Column(String(64), primary_key=True, nullable=False))
    model: str = Field(sa_column=Column(String(200), primary_key=True, nullable=False))
    api_key_id: uuid.UUID = Field(default=NO_KEY, primary_key=True)
    calls: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    error_calls: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    unpriced_calls: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    input_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    output_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cache_read_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cache_write_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cache_write_1h_tokens: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )
    reasoning_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cost_usd: Decimal = Field(default=Decimal(0), sa_column=Column(Money(), nullable=False))


class Budget(SQLModel, table=True):
    __tablename__ = "budgets"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = _org_fk()
    project_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("projects.id", ondelete="CASCADE"))
    )
    name: str = Field(sa_column=Column(String(100), nullable=False))
    amount_usd: Decimal = Field(sa_column=Column(Money(), nullable=False))
    period: str = Field(sa_column=Column(String(16), nullable=False))
    alert_thresholds: list[int] = Field(
        default_factory=lambda: [50, 80, 100], sa_column=Column(JSONDoc, nullable=False)
    )
    webhook_url: str | None = Field(default=None, sa_column=Column(String(2000)))
    hard_limit: bool = False
    created_at: datetime = _created_at()
    updated_at: datetime = _created_at()


class BudgetAlert(SQLModel, table=True):
    """One row per (budget, period, kind, threshold): the unique key makes alerts fire once."""

    __tablename__ = "budget_alerts"
    __table_args__ = (
        UniqueConstraint(
            "budget_id", "period_start", "kind", "threshold", name="uq_budget_alerts_once"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = _org_fk()
    budget_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("budgets.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    # "threshold" (spend crossed N %) or "forecast" (projected to exceed the limit).
    kind: str = Field(default="threshold", sa_column=Column(String(16), nullable=False))
    threshold: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    spent_usd: Decimal = Field(sa_column=Column(Money(), nullable=False))
    created_at: datetime = _created_at()


class WebhookDelivery(SQLModel, table=True):
    """The outbox row of one alert's webhook POST, written in the alert's own transaction.

    A background worker claims due rows (`status` "pending", `next_attempt_at` passed) with a
    conditional UPDATE that also pushes `next_attempt_at` one lease ahead, so a row is sent by
    one worker at a time and a worker that dies mid-send leaves it due again, never lost.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = _org_fk()
    alert_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("budget_alerts.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    url: str = Field(sa_column=Column(String(2000), nullable=False))
    # Frozen when the alert fires: a retry sends what was true then, not what is true now.
    payload: dict[str, Any] = Field(sa_column=Column(JSONDoc, nullable=False))
    # "pending" (waiting or being sent), "delivered" or "failed" (gave up).
    status: str = Field(default="pending", sa_column=Column(String(16), nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    last_status_code: int | None = Field(default=None, sa_column=Column(Integer))
    last_error: str | None = Field(default=None, sa_column=Column(String(500)))
    last_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = _created_at()


class WebhookSigningSecret(SQLModel, table=True):
    """The organisation's secret that signs its webhook deliveries (HMAC-SHA256). Kept as it
    is, not hashed: signing needs the secret itself (as with Stripe's `whsec_` secrets)."""

    __tablename__ = "webhook_signing_secrets"

    org_id: uuid.UUID = Field(
        sa_column=Column(
            ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    secret: str = Field(sa_column=Column(String(100), nullable=False))
    created_at: datetime = _created_at()


class PriceOverride(SQLModel, table=True):
    """Per-organisation prices (USD per million tokens) that win over the dataset."""

    __tablename__ = "price_overrides"
    __table_args__ = (
        UniqueConstraint(
            "org_id", "provider", "model", "valid_from", name="uq_price_overrides_key"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = _org_fk()
    provider: str = Field(sa_column=Column(String(64), nullable=False))
    model: str = Field(sa_column=Column(String(200), nullable=False))
    input_per_mtok: Decimal = Field(sa_column=Column(Money(), nullable=False))
    cache_read_per_mtok: Decimal | None = Field(default=None, sa_column=Column(Money()))
    cache_write_per_mtok: Decimal | None = Field(default=None, sa_column=Column(Money()))
    output_per_mtok: Decimal = Field(sa_column=Column(Money(), nullable=False))
    valid_from: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_at: datetime = _created_at()
