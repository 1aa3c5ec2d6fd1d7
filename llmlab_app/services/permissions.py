"""Who may do what in an organisation: the one permission table that the API, the dashboard
and the CLI all go through (`require`). No other module checks a role.

A request's rights are its role's permissions, intersected, when it comes with an API key,
with what the key's scopes allow (`SCOPE_PERMISSIONS`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from llmlab_app.errors import Forbidden, InvalidInput


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class Permission(StrEnum):
    READ_BUDGETS = "read_budgets"  # budget status (what the SDK's hard-limit guard reads)
    READ = "read"  # spend, events, budgets, alerts, projects, prices, keys, members
    TRACK = "track"  # send events (and create the projects they name)
    CREATE_KEYS = "create_keys"  # create API keys, revoke one's own
    MANAGE_KEYS = "manage_keys"  # revoke anyone's keys in the organisation
    MANAGE_BUDGETS = "manage_budgets"
    MANAGE_PRICES = "manage_prices"
    MANAGE_WEBHOOKS = "manage_webhooks"
    MANAGE_MEMBERS = "manage_members"  # invite, change roles below owner, remove
    READ_AUDIT = "read_audit"
    MANAGE_OWNERS = "manage_owners"  # make or unmake owners
    MANAGE_ORGANISATION = "manage_organisation"  # rename, export its events, delete it


_ADMIN = frozenset(
    {
        Permission.READ_BUDGETS,
        Permission.READ,
        Permission.TRACK,
        Permission.CREATE_KEYS,
        Permission.MANAGE_KEYS,
        Permission.MANAGE_BUDGETS,
        Permission.MANAGE_PRICES,
        Permission.MANAGE_WEBHOOKS,
        Permission.MANAGE_MEMBERS,
        Permission.READ_AUDIT,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: _ADMIN,
    Role.MEMBER: frozenset(
        {Permission.READ_BUDGETS, Permission.READ, Permission.TRACK, Permission.CREATE_KEYS}
    ),
    Role.VIEWER: frozenset({Permission.READ_BUDGETS, Permission.READ}),
}

# API key scopes, in rank order: each includes the ones before it.
Scope = Literal["ingest", "read", "admin"]
SCOPES: tuple[Scope, ...] = ("ingest", "read", "admin")
SCOPE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "ingest": frozenset({Permission.TRACK, Permission.READ_BUDGETS}),
    "read": frozenset({Permission.TRACK, Permission.READ_BUDGETS, Permission.READ}),
    "admin": frozenset(Permission),
}


def scope_for(permission: Permission) -> str:
    """The narrowest scope whose keys may use `permission` (what a route declares)."""
    return next(scope for scope in SCOPES if permission in SCOPE_PERMISSIONS[scope])


def key_permissions(scopes: Iterable[str]) -> frozenset[Permission]:
    """What a key with `scopes` may do, whoever made it."""
    return frozenset().union(*(SCOPE_PERMISSIONS[s] for s in scopes if s in SCOPE_PERMISSIONS))


def role_key_scopes(role: Role) -> tuple[str, ...]:
    """The scopes a key made by (or kept by) someone with `role` may hold, narrowest first:
    `ingest` needs `track`, `read` needs `read`, `admin` needs `manage_keys`."""
    granted = ROLE_PERMISSIONS[role]
    needs = {"ingest": Permission.TRACK, "read": Permission.READ, "admin": Permission.MANAGE_KEYS}
    return tuple(scope for scope in SCOPES if needs[scope] in granted)


@dataclass(frozen=True)
class Actor:
    """A user acting in one organisation: with a login token (`api_key_id` None) or through
    one of the organisation's API keys, which act with their creator's role."""

    user_id: uuid.UUID
    org_id: uuid.UUID
    role: Role
    api_key_id: uuid.UUID | None = None
    email: str | None = None
    # What the API key's scopes allow; None for a login token.
    key_permissions: frozenset[Permission] | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        """The role's permissions, narrowed by the key's scopes when acting through a key."""
        allowed = ROLE_PERMISSIONS[self.role]
        return allowed if self.key_permissions is None else allowed & self.key_permissions

    def may(self, permission: Permission) -> bool:
        """For showing or hiding what the actor may use; enforcement is `require`."""
        return permission in self.permissions


# What each permission lets someone do, as the dashboard says it beside a button that a role
# may not use ("Viewers cannot create budgets").
PERMISSION_ACTIONS: dict[Permission, str] = {
    Permission.READ_BUDGETS: "read budgets",
    Permission.READ: "read this organisation's data",
    Permission.TRACK: "send events or create projects",
    Permission.CREATE_KEYS: "create API keys",
    Permission.MANAGE_KEYS: "revoke other members' API keys",
    Permission.MANAGE_BUDGETS: "create budgets",
    Permission.MANAGE_PRICES: "change prices",
    Permission.MANAGE_WEBHOOKS: "manage webhooks",
    Permission.MANAGE_MEMBERS: "invite or manage members",
    Permission.READ_AUDIT: "read the audit log",
    Permission.MANAGE_OWNERS: "make or unmake owners",
    Permission.MANAGE_ORGANISATION: "rename or delete the organisation",
}


def refusal_reasons(actor: Actor) -> dict[str, str]:
    """Permission name -> why the actor may not use it ("" when they may): what the dashboard
    shows beside a button it disables."""
    plural = f"{actor.role.value.capitalize()}s"
    return {
        permission.value: (
            "" if actor.may(permission) else f"{plural} cannot {PERMISSION_ACTIONS[permission]}"
        )
        for permission in Permission
    }


def require(actor: Actor, permission: Permission) -> None:
    """`Forbidden` (403) naming the missing permission unless the actor has it."""
    if permission in actor.permissions:
        return
    if permission in ROLE_PERMISSIONS[actor.role]:
        raise Forbidden(
            f"missing permission {permission.value!r}: this API key lacks the "
            f"{scope_for(permission)!r} scope it needs"
        )
    raise Forbidden(
        f"missing permission {permission.value!r} in this organisation "
        f"(your role: {actor.role.value})"
    )


def parse_role(value: str) -> Role:
    """The role named `value`; `InvalidInput` naming the choices otherwise."""
    try:
        return Role(value)
    except ValueError:
        choices = ", ".join(role.value for role in Role)
        raise InvalidInput(f"role must be one of {choices}") from None
