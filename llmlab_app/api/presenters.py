"""Turning service results into the API's response models."""

from __future__ import annotations

from datetime import timedelta

from llmlab_app.api.schemas import (
    AuditEntryOut,
    BudgetBrief,
    BudgetOut,
    CreatedInvitationOut,
    CreatedKeyOut,
    ForecastOut,
    InvitationOut,
    KeyOut,
    KeySpend,
    MemberOut,
    MemberRefOut,
    OrgOut,
    TokensOut,
    Totals,
    UserOut,
)
from llmlab_app.db.models import ApiKey, AuditEvent, Invitation, User
from llmlab_app.services.auth import TokenPair
from llmlab_app.services.budgets import BudgetStatus
from llmlab_app.services.invitations import CreatedInvitation
from llmlab_app.services.keys import CreatedKey
from llmlab_app.services.members import Member
from llmlab_app.services.orgs import OrgMembership
from llmlab_app.services.spend import KeyOwner, MemberRef, SpendTotals
from llmlab_core import Forecast


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, email=user.email, created_at=user.created_at)


def tokens_out(pair: TokenPair) -> TokensOut:
    return TokensOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        user=user_out(pair.user),
    )


def key_out(key: ApiKey, created_by_email: str | None = None) -> KeyOut:
    return KeyOut(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        org_id=key.org_id,
        created_by=key.user_id,
        created_by_email=created_by_email,
        scopes=key.scopes,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
    )


def created_key_out(created: CreatedKey) -> CreatedKeyOut:
    return CreatedKeyOut(**key_out(created.key).model_dump(), key=created.secret)


def totals_fields(totals: SpendTotals) -> dict[str, object]:
    return Totals(
        cost_usd=totals.cost_usd,
        calls=totals.calls,
        error_calls=totals.error_calls,
        unpriced_calls=totals.unpriced_calls,
        input_tokens=totals.input_tokens,
        output_tokens=totals.output_tokens,
        cache_read_tokens=totals.cache_read_tokens,
        cache_write_tokens=totals.cache_write_tokens,
        cache_write_1h_tokens=totals.cache_write_1h_tokens,
        reasoning_tokens=totals.reasoning_tokens,
    ).model_dump()


def budget_out(status: BudgetStatus, *, show_webhook_url: bool = True) -> BudgetOut:
    """`show_webhook_url=False` for keys below `admin`: a webhook URL is a secret (Slack's
    carry their token in the path)."""
    budget, forecast = status.budget, status.forecast
    return BudgetOut(
        id=budget.id,
        name=budget.name,
        amount_usd=budget.amount_usd,
        period=budget.period,
        project=status.project,
        alert_thresholds=budget.alert_thresholds,
        webhook_url=budget.webhook_url if show_webhook_url else None,
        hard_limit=budget.hard_limit,
        created_at=budget.created_at,
        period_start=status.period_start,
        period_end=status.period_end - timedelta(days=1),
        spent_usd=status.spent_usd,
        remaining_usd=status.remaining_usd,
        percent=status.percent,
        exceeded=status.exceeded,
        forecast=forecast_out(forecast),
    )


def forecast_out(forecast: Forecast) -> ForecastOut:
    return ForecastOut(
        projected_usd=forecast.projected,
        low_usd=forecast.low,
        high_usd=forecast.high,
        runs_out_on=forecast.runs_out_on,
        enough_data=forecast.enough_data,
        method=forecast.method,
    )


def budget_brief(status: BudgetStatus) -> BudgetBrief:
    return BudgetBrief(
        id=status.budget.id,
        name=status.budget.name,
        project=status.project,
        period=status.budget.period,
        amount_usd=status.budget.amount_usd,
        spent_usd=status.spent_usd,
        exceeded=status.exceeded,
        hard_limit=status.budget.hard_limit,
    )


def org_out(membership: OrgMembership) -> OrgOut:
    organisation = membership.organisation
    return OrgOut(
        id=organisation.id,
        name=organisation.name,
        personal=organisation.personal_user_id is not None,
        role=membership.role.value,
        created_at=organisation.created_at,
    )


def member_out(member: Member) -> MemberOut:
    return MemberOut(
        user_id=member.user_id,
        email=member.email,
        role=member.role.value,
        joined_at=member.joined_at,
    )


def invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        email=invitation.email,
        role=invitation.role,  # type: ignore[arg-type]
        invited_by=invitation.invited_by_user_id,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
    )


def created_invitation_out(created: CreatedInvitation) -> CreatedInvitationOut:
    return CreatedInvitationOut(
        **invitation_out(created.invitation).model_dump(), token=created.token, url=created.url
    )


def audit_entry_out(entry: AuditEvent) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        action=entry.action,
        actor_user_id=entry.actor_user_id,
        actor_email=entry.actor_email,
        target=entry.target,
        details=entry.details,
        created_at=entry.created_at,
    )


def member_ref_out(member: MemberRef | None) -> MemberRefOut | None:
    return None if member is None else MemberRefOut(user_id=member.user_id, email=member.email)


def key_spend_out(owner: KeyOwner | None, totals: SpendTotals) -> KeySpend:
    return KeySpend(
        key_id=owner.key_id if owner else None,
        name=owner.name if owner else None,
        prefix=owner.prefix if owner else None,
        revoked=owner.revoked if owner else False,
        created_by=member_ref_out(owner.created_by) if owner else None,
        **totals_fields(totals),
    )
