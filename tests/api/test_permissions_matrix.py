"""The isolation matrix, organisations x roles, driven by the permission table.

Every operation of the OpenAPI schema has a row here (a new route without one fails
`test_every_route_has_a_row`). For each row that acts in an organisation, someone outside it
gets 404, and each role gets exactly what `ROLE_PERMISSIONS` gives it: the call goes through
when the role has the permission the row needs, and is a 403 naming it when not.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pytest

from llmlab_app.services.permissions import ROLE_PERMISSIONS, Permission, Role
from tests.conftest import Account

P = Permission
EVENT = {"model": "gpt-4o-mini", "provider": "openai", "input_tokens": 1000, "output_tokens": 10}


@dataclass(frozen=True)
class Row:
    """What a call needs (None: it does not act in an organisation), and how to make it."""

    needs: Permission | None
    body: dict[str, Any] | None = None
    params: dict[str, str] = field(default_factory=dict)
    # The permission the route declares (`x-llmlab-permission`), when the call as made here
    # needs more (revoking someone else's key, removing someone else).
    declared: Permission | None = None


ROUTES: dict[tuple[str, str], Row] = {
    ("GET", "/health"): Row(None),
    ("GET", "/ready"): Row(None),
    ("POST", "/api/auth/signup"): Row(None),
    ("POST", "/api/auth/login"): Row(None),
    ("POST", "/api/auth/refresh"): Row(None),
    ("POST", "/api/auth/logout"): Row(None),
    ("GET", "/api/auth/me"): Row(None),
    ("PUT", "/api/auth/password"): Row(None),
    ("DELETE", "/api/auth/me"): Row(None),
    ("GET", "/api/prices"): Row(None),
    ("GET", "/api/orgs"): Row(None),
    ("POST", "/api/orgs"): Row(None),
    ("POST", "/api/invitations/accept"): Row(None),
    ("POST", "/api/events/track"): Row(P.TRACK, body=EVENT),
    ("GET", "/api/events"): Row(P.READ),
    ("GET", "/api/keys"): Row(P.READ),
    ("POST", "/api/keys"): Row(P.CREATE_KEYS, body={"name": "k"}),
    ("DELETE", "/api/keys/{key_id}"): Row(P.MANAGE_KEYS, declared=P.CREATE_KEYS),
    ("GET", "/api/costs/summary"): Row(P.READ, params={"group_by": "key"}),
    ("GET", "/api/costs/forecast"): Row(P.READ),
    ("GET", "/api/budgets"): Row(P.READ_BUDGETS),
    ("POST", "/api/budgets"): Row(P.MANAGE_BUDGETS, body={"amount_usd": "5"}),
    ("PUT", "/api/budgets/{budget_id}"): Row(P.MANAGE_BUDGETS, body={"amount_usd": "6"}),
    ("DELETE", "/api/budgets/{budget_id}"): Row(P.MANAGE_BUDGETS),
    ("GET", "/api/budgets/{budget_id}/alerts"): Row(P.READ),
    ("GET", "/api/budgets/{budget_id}/deliveries"): Row(P.MANAGE_WEBHOOKS),
    ("GET", "/api/alerts"): Row(P.READ),
    ("GET", "/api/webhooks/signing-secret"): Row(P.MANAGE_WEBHOOKS),
    ("POST", "/api/webhooks/signing-secret/rotate"): Row(P.MANAGE_WEBHOOKS),
    ("GET", "/api/projects"): Row(P.READ),
    ("POST", "/api/projects"): Row(P.TRACK, body={"name": "web"}),
    ("POST", "/api/prices/reprice"): Row(P.MANAGE_PRICES, body={}),
    ("GET", "/api/prices/overrides"): Row(P.READ),
    ("POST", "/api/prices/overrides"): Row(
        P.MANAGE_PRICES,
        body={
            "provider": "openai",
            "model": "gpt-4o",
            "input_per_mtok": "1",
            "output_per_mtok": "2",
        },
    ),
    ("DELETE", "/api/prices/overrides/{override_id}"): Row(P.MANAGE_PRICES),
    ("GET", "/api/recommendations"): Row(P.READ),
    ("POST", "/api/whatif"): Row(P.READ, body={"from_model": "gpt-4o-mini", "to_model": "gpt-4o"}),
    ("PATCH", "/api/orgs/{org_id}"): Row(P.MANAGE_ORGANISATION, body={"name": "Renamed"}),
    ("DELETE", "/api/orgs/{org_id}"): Row(P.MANAGE_ORGANISATION),
    ("GET", "/api/orgs/{org_id}/export"): Row(P.MANAGE_ORGANISATION),
    ("GET", "/api/orgs/{org_id}/members"): Row(P.READ),
    ("PUT", "/api/orgs/{org_id}/members/{target_id}"): Row(
        P.MANAGE_MEMBERS, body={"role": "member"}
    ),
    ("DELETE", "/api/orgs/{org_id}/members/{target_id}"): Row(P.MANAGE_MEMBERS, declared=P.READ),
    ("POST", "/api/orgs/{org_id}/invitations"): Row(
        P.MANAGE_MEMBERS, body={"email": "new@example.com", "role": "member"}
    ),
    ("GET", "/api/orgs/{org_id}/invitations"): Row(P.MANAGE_MEMBERS),
    ("DELETE", "/api/orgs/{org_id}/invitations/{invitation_id}"): Row(P.MANAGE_MEMBERS),
    ("GET", "/api/orgs/{org_id}/audit"): Row(P.READ_AUDIT),
}
ORG_ROUTES = {route: row for route, row in ROUTES.items() if row.needs is not None}


def _schema_routes(client: Any) -> dict[tuple[str, str], dict[str, Any]]:
    schema = client.get("/openapi.json").json()
    return {
        # The schema names the member `user_id`; the table says whose: the target's.
        (method.upper(), path.replace("{user_id}", "{target_id}")): operation
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }


def test_every_route_has_a_row(client):
    in_schema = set(_schema_routes(client))
    assert in_schema - set(ROUTES) == set(), "add a row to ROUTES for each new route"
    assert set(ROUTES) - in_schema == set(), "a row for a route that no longer exists"


def test_every_route_declares_the_permission_of_its_row(client):
    for route, operation in _schema_routes(client).items():
        row = ROUTES[route]
        declared = row.declared or row.needs
        assert operation.get("x-llmlab-permission") == (declared and declared.value), route


class World:
    """A fresh shared organisation owned by `owner`, with `subject` in it as `role` (or
    outside it), a `target` viewer, and the objects the routes' paths name, made on demand."""

    def __init__(self, owner: Account, subject: Account, target: Account, role: str) -> None:
        self.owner, self.client = owner, owner.client
        self.org_id = owner.create_org(f"Org {uuid.uuid4().hex[:6]}")
        if role not in ("owner", "outsider"):
            owner.add_member(self.org_id, subject, role)
        owner.add_member(self.org_id, target, "viewer")
        self.target_id = target.user_id

    def _post(self, path: str, body: dict[str, Any]) -> str:
        response = self.client.post(path, json=body, headers=self.owner.in_org(self.org_id))
        assert response.status_code == 201, response.text
        return response.json()["data"]["id"]

    @cached_property
    def budget_id(self) -> str:
        return self._post("/api/budgets", {"amount_usd": "10"})

    @cached_property
    def key_id(self) -> str:
        return self._post("/api/keys", {"name": "owners-key"})

    @cached_property
    def override_id(self) -> str:
        return self._post(
            "/api/prices/overrides",
            {"provider": "openai", "model": "o3", "input_per_mtok": "1", "output_per_mtok": "2"},
        )

    @cached_property
    def invitation_id(self) -> str:
        return self._post(
            f"/api/orgs/{self.org_id}/invitations", {"email": "later@example.com", "role": "viewer"}
        )

    def path(self, template: str) -> str:
        return re.sub(r"{(\w+)}", lambda m: str(getattr(self, m.group(1))), template)


@pytest.fixture
def people(client: Any) -> dict[str, Account]:
    return {name: Account(client, f"{name}@example.com") for name in ("owner", "subject", "target")}


def _call(world: World, subject: Account, route: tuple[str, str], row: Row) -> Any:
    method, template = route
    return subject.client.request(
        method,
        world.path(template),
        json=row.body,
        params=row.params,
        headers=subject.in_org(world.org_id),
    )


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_each_role_gets_exactly_the_rights_of_the_permission_table(people, role):
    wrong: list[str] = []
    for route, row in ORG_ROUTES.items():
        world = World(people["owner"], people["subject"], people["target"], role)
        subject = people["owner"] if role == "owner" else people["subject"]
        response = _call(world, subject, route, row)
        granted = ROLE_PERMISSIONS[Role(role)]
        # The permissions the role lacks for this call (the route's own check comes first).
        missing = [p.value for p in (row.declared, row.needs) if p and p not in granted]
        if not missing:
            if response.status_code in (401, 403, 404) or response.status_code >= 500:
                wrong.append(f"{route}: {response.status_code} {response.text[:120]}")
        elif response.status_code != 403 or not any(
            f"'{name}'" in response.json()["error"] for name in missing
        ):
            wrong.append(f"{route}: expected 403 naming {missing}, got {response.text}")
    assert wrong == [], "\n".join(wrong)


def test_someone_outside_the_organisation_gets_404_on_every_route(people):
    wrong: list[str] = []
    for route, row in ORG_ROUTES.items():
        world = World(people["owner"], people["subject"], people["target"], "outsider")
        response = _call(world, people["subject"], route, row)
        if response.status_code != 404:
            wrong.append(f"{route}: {response.status_code} {response.text[:120]}")
    assert wrong == [], "\n".join(wrong)
