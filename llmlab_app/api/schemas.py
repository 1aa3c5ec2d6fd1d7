"""Request and response models of the REST API (money as decimal strings in JSON)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    PlainSerializer,
    StringConstraints,
)

from llmlab_app.db.types import money_text
from llmlab_app.services.auth import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from llmlab_app.services.budgets import MAX_AMOUNT_USD, MIN_AMOUNT_USD
from llmlab_app.services.ingest import MAX_BATCH_EVENTS, EventIn
from llmlab_app.services.permissions import Scope

Money = Annotated[
    Decimal,
    PlainSerializer(money_text, return_type=str, when_used="json"),
    Field(description="USD as an exact decimal string"),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
RoleName = Literal["owner", "admin", "member", "viewer"]
InvitationToken = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ModelName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- auth ---------------------------------------------------------------------------------


class Credentials(Strict):
    email: EmailStr
    password: Annotated[
        str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
    ]
    invitation_token: InvitationToken | None = Field(
        default=None,
        description="Join the organisation of this invitation too (required when the "
        "server's sign-up policy is `invite`)",
    )


class DeleteAccountIn(Strict):
    password: Annotated[str, StringConstraints(max_length=MAX_PASSWORD_LENGTH)]


class LoginIn(Strict):
    email: Annotated[str, StringConstraints(max_length=320)]
    password: Annotated[str, StringConstraints(max_length=MAX_PASSWORD_LENGTH)]


class RefreshIn(Strict):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class PasswordChangeIn(Strict):
    current_password: Annotated[str, StringConstraints(max_length=MAX_PASSWORD_LENGTH)]
    new_password: Annotated[
        str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)
    ]


class PasswordChangedOut(BaseModel):
    changed: bool
    sessions_ended: int = Field(description="Other sessions of the account, now signed out")


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    created_at: datetime


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    user: UserOut


class KeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    org_id: uuid.UUID = Field(description="The organisation the key belongs to")
    created_by: uuid.UUID | None = Field(
        description="The member who created it (the key acts with their role)"
    )
    created_by_email: str | None = None
    scopes: list[Scope]
    created_at: datetime
    last_used_at: datetime | None


class CreatedKeyOut(KeyOut):
    key: str = Field(description="The secret; shown once, never again")


class OrgOut(BaseModel):
    id: uuid.UUID
    name: str
    personal: bool = Field(description="The user's own organisation, made at sign-up")
    role: RoleName = Field(description="Your role in it")
    created_at: datetime


class SignupOut(TokensOut):
    api_key: CreatedKeyOut = Field(description="A first key, in the personal organisation")
    joined: OrgOut | None = Field(
        default=None, description="The organisation joined with `invitation_token`"
    )


class KeyIn(Strict):
    name: Name = "default"
    scopes: Annotated[
        list[Scope] | None,
        Field(
            min_length=1,
            description="ingest (track, budget status), read (also spend, events, CSV, "
            "budgets, recommendations), admin (everything keys may do); default admin",
        ),
    ] = None


# --- events -------------------------------------------------------------------------------


class EventBatch(BaseModel):
    events: Annotated[list[EventIn], Field(min_length=1, max_length=MAX_BATCH_EVENTS)]


class TrackedEventOut(BaseModel):
    id: uuid.UUID | None
    event_id: str
    cost_usd: Money | None
    unpriced: bool
    duplicate: bool


class BudgetBrief(BaseModel):
    id: uuid.UUID
    name: str
    project: str | None = Field(description="The project it covers; null for all projects")
    period: str
    amount_usd: Money
    spent_usd: Money
    exceeded: bool
    hard_limit: bool


class TrackOut(BaseModel):
    events: list[TrackedEventOut]
    budgets: list[BudgetBrief]


class EventOut(BaseModel):
    id: uuid.UUID
    event_id: str
    timestamp: datetime
    project: str | None
    provider: str
    model: str
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cache_write_1h_tokens: int
    output_tokens: int
    reasoning_tokens: int
    service_tier: str
    tokens_used: int
    cost_usd: Money | None
    unpriced: bool
    cost_source: str
    price_source: str | None
    reported_cost_usd: Money | None = Field(
        description="A cost the sender reported beside LLMLab's own price (null when none)"
    )
    source: str = Field(description="api, sdk, otlp or gateway: the ingress it came through")
    status: str
    latency_ms: int | None
    end_user: str | None
    tags: list[str]
    metadata: dict[str, Any]


class EventPageOut(BaseModel):
    items: list[EventOut]
    next_cursor: str | None


# --- spend --------------------------------------------------------------------------------


class Totals(BaseModel):
    cost_usd: Money
    calls: int
    error_calls: int
    unpriced_calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cache_write_1h_tokens: int
    reasoning_tokens: int


class ModelVariant(BaseModel):
    model: str = Field(description="The name as the calls reported it")
    calls: int
    cost_usd: Money


class ModelSpend(Totals):
    provider: str
    model: str = Field(description="Canonical model id: variants of one model are one row")
    variants: list[ModelVariant] = Field(
        default_factory=list, description="The names these calls were recorded under"
    )


class ProviderSpend(Totals):
    provider: str


class ProjectSpend(Totals):
    project: str | None


class DaySpend(Totals):
    day: date


class MemberRefOut(BaseModel):
    user_id: uuid.UUID
    email: str


class KeySpend(Totals):
    key_id: uuid.UUID | None = Field(
        description="null: sent with a login token, or recorded before keys were kept"
    )
    name: str | None
    prefix: str | None
    revoked: bool
    created_by: MemberRefOut | None = Field(description="The member who created the key")


class MemberSpend(Totals):
    member: MemberRefOut | None = Field(
        description="Who created the keys; null for spend of no known member"
    )


class SummaryOut(Totals):
    start: date
    end: date
    project: str | None
    total_cost_usd: Money
    by_model: list[ModelSpend]
    by_provider: list[ProviderSpend]
    by_project: list[ProjectSpend]
    by_day: list[DaySpend]
    by_key: list[KeySpend] | None = Field(default=None, description="With `group_by=key`")
    by_member: list[MemberSpend] | None = Field(default=None, description="With `group_by=key`")


# --- budgets ------------------------------------------------------------------------------

Thresholds = Annotated[
    list[Annotated[int, Field(ge=1, le=1000)]], Field(min_length=1, max_length=10)
]


class BudgetIn(Strict):
    name: Name = "Monthly budget"
    amount_usd: Annotated[Decimal, Field(ge=MIN_AMOUNT_USD, le=MAX_AMOUNT_USD, allow_inf_nan=False)]
    period: Literal["daily", "weekly", "monthly"] = "monthly"
    project: Name | None = None
    alert_thresholds: Thresholds = Field(default_factory=lambda: [50, 80, 100])
    webhook_url: AnyHttpUrl | None = None
    hard_limit: bool = False


class BudgetUpdate(Strict):
    name: Name | None = None
    amount_usd: (
        Annotated[Decimal, Field(ge=MIN_AMOUNT_USD, le=MAX_AMOUNT_USD, allow_inf_nan=False)] | None
    ) = None
    period: Literal["daily", "weekly", "monthly"] | None = None
    project: Name | None = None
    alert_thresholds: Thresholds | None = None
    webhook_url: AnyHttpUrl | None = None
    hard_limit: bool | None = None


class ForecastOut(BaseModel):
    projected_usd: Money
    low_usd: Money
    high_usd: Money
    runs_out_on: date | None
    enough_data: bool
    method: str


class PeriodForecastOut(BaseModel):
    period: str
    period_start: date
    period_end: date = Field(description="Last day of the period (inclusive)")
    project: str | None
    spent_usd: Money
    forecast: ForecastOut


class BudgetOut(BaseModel):
    id: uuid.UUID
    name: str
    amount_usd: Money
    period: str
    project: str | None
    alert_thresholds: list[int]
    webhook_url: str | None
    hard_limit: bool
    created_at: datetime
    period_start: date
    period_end: date = Field(description="Last day of the current period (inclusive)")
    spent_usd: Money
    remaining_usd: Money
    percent: Money
    exceeded: bool
    forecast: ForecastOut


class AlertOut(BaseModel):
    id: uuid.UUID
    budget_id: uuid.UUID
    period_start: date
    kind: str
    threshold: int
    spent_usd: Money
    created_at: datetime


# --- projects, prices ---------------------------------------------------------------------


class ProjectIn(Strict):
    name: Name


class ProjectOut(BaseModel):
    id: uuid.UUID
    name: str
    created_at: datetime


class PricesOut(BaseModel):
    provider: str
    model: str
    canonical_model: str
    service_tier: str
    price_source: str
    # Where the price entry comes from: "dataset", "prices file", "overlay" or "provider";
    # `dataset` names the dataset in use and `prices_as_of` dates a prices file.
    source: str
    dataset: str
    prices_as_of: date | None
    input_per_mtok: Money | None
    cache_read_per_mtok: Money | None
    cache_write_per_mtok: Money | None
    cache_write_1h_per_mtok: Money | None
    output_per_mtok: Money | None
    tiers: list[dict[str, Any]]


PerMillion = Annotated[Decimal, Field(ge=0, le=100_000, allow_inf_nan=False)]


class RepriceIn(Strict):
    start: date = Field(description="First day (UTC), inclusive")
    end: date | None = Field(default=None, description="Last day (UTC), inclusive; default today")
    model: ModelName | None = Field(default=None, description="Only this model (any of its names)")


class RepriceOut(BaseModel):
    start: date
    end: date
    events: int = Field(description="Events in the window re-priced (client-reported costs kept)")
    changed: int = Field(description="Events whose cost changed")
    before_usd: Money
    after_usd: Money


class OverrideIn(Strict):
    provider: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    model: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    input_per_mtok: PerMillion
    output_per_mtok: PerMillion
    cache_read_per_mtok: PerMillion | None = None
    cache_write_per_mtok: PerMillion | None = None
    valid_from: datetime | None = None


class OverrideOut(BaseModel):
    id: uuid.UUID
    provider: str
    model: str
    input_per_mtok: Money
    output_per_mtok: Money
    cache_read_per_mtok: Money | None
    cache_write_per_mtok: Money | None
    valid_from: datetime
    created_at: datetime


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    version: str
    worker_pid: int = Field(description="Process that answered (several workers share a port)")


class ReadyOut(BaseModel):
    ready: bool
    database: Literal["ok", "unavailable"]
    redis: Literal["ok", "unavailable", "not configured"]
    migrations: Literal["ok", "pending", "unknown"] = Field(
        description="`pending`: the database is not at the code's schema revision yet"
    )
    schema_revision: list[str] = Field(description="Revisions the database is at")
    code_revision: list[str] = Field(description="Revisions the running code expects")


# --- savings ------------------------------------------------------------------------------


class EvidenceOut(BaseModel):
    days: int
    calls: int
    input_tokens: int
    cache_read_tokens: int
    output_tokens: int
    spend_usd: Money
    recorded_as: list[str] = Field(description="The model names the calls were recorded under")


class RecommendationOut(BaseModel):
    kind: str
    title: str
    monthly_savings_usd: Money | None
    provider: str
    model: str
    evidence: EvidenceOut
    assumption: str
    confidence: str
    risk: str
    action: str
    from_model: str | None
    to_model: str | None
    share: Decimal | None


class WhatIfIn(Strict):
    from_model: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    to_model: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    to_provider: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    share: Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False)] = Decimal("1")
    start: date | None = Field(
        default=None, description="First day (UTC), inclusive; alone, the range runs to today"
    )
    end: date | None = Field(default=None, description="Last day (UTC), inclusive")
    project: Name | None = None


class WhatIfDayOut(BaseModel):
    day: date
    old_cost_usd: Money
    new_cost_usd: Money
    savings_usd: Money


class WhatIfOut(BaseModel):
    from_model: str
    to_model: str
    to_provider: str
    share: Decimal
    start: date
    end: date
    old_cost_usd: Money
    new_cost_usd: Money
    savings_usd: Money
    calls_moved: int
    by_day: list[WhatIfDayOut]


# --- alert webhooks -----------------------------------------------------------------------


class DeliveryOut(BaseModel):
    """One alert's webhook POST: `pending` (waiting or being sent), `delivered` or `failed`."""

    id: uuid.UUID
    alert_id: uuid.UUID
    kind: str
    threshold: int
    period_start: date
    url: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    next_attempt_at: datetime | None
    created_at: datetime


class SigningSecretOut(BaseModel):
    """The account's webhook signing secret (HMAC-SHA256 key of `X-LLMLab-Signature`)."""

    secret: str = Field(description="`whsec_…`; its UTF-8 bytes are the HMAC key")


# --- organisations ------------------------------------------------------------------------


class OrgIn(Strict):
    name: Name


class MemberOut(BaseModel):
    user_id: uuid.UUID
    email: str
    role: RoleName
    joined_at: datetime


class RoleIn(Strict):
    role: RoleName


class InvitationIn(Strict):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
    role: RoleName = "member"


class InvitationOut(BaseModel):
    id: uuid.UUID
    email: str
    role: RoleName
    invited_by: uuid.UUID | None
    created_at: datetime
    expires_at: datetime


class CreatedInvitationOut(InvitationOut):
    token: str = Field(description="Shown once; only its hash is kept")
    url: str = Field(description="A link to copy to the invited person (token in its fragment)")


class AcceptIn(Strict):
    token: InvitationToken


class AuditEntryOut(BaseModel):
    id: uuid.UUID
    action: str = Field(description="e.g. member.invited, key.revoked, budget.updated")
    actor_user_id: uuid.UUID | None
    actor_email: str | None
    target: str | None
    details: dict[str, Any]
    created_at: datetime


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None
