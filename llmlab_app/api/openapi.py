"""The credentials each route takes, declared in the OpenAPI schema.

The auth dependencies (`deps.ingest_caller`, `read_caller`, `admin_caller`,
`rate_limited_token_caller`) read the headers themselves instead of through FastAPI's
security dependencies, which would be resolved on every request; this puts in the schema what
those would have declared. A route that takes API keys lists the scope a key needs as the
role of each security requirement (OpenAPI 3.1), e.g. `[{"HTTPBearer": ["read"]},
{"APIKeyHeader": ["read"]}]`; a signed-in user (access token) has every scope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute

from llmlab_app.api.deps import (
    API_KEY_SCHEME,
    BEARER_SCHEME,
    ORG_HEADER,
    admin_caller,
    ingest_caller,
    rate_limited_token_caller,
    read_caller,
)

_SCHEMES = (BEARER_SCHEME, API_KEY_SCHEME)
_ORG_PARAMETER = {
    "name": ORG_HEADER,
    "in": "header",
    "required": False,
    "description": "The organisation a signed-in request acts in (default: your personal "
    "one). An API key acts in its own organisation.",
    "schema": {"type": "string", "format": "uuid"},
}
# dependency -> (schemes accepted, scope an API key needs or None when keys are refused);
# a route acting in an organisation (`deps.acting`) declares its own.
_ACCEPTS: dict[Any, tuple[tuple[Any, ...], str | None]] = {
    ingest_caller: ((BEARER_SCHEME, API_KEY_SCHEME), "ingest"),
    read_caller: ((BEARER_SCHEME, API_KEY_SCHEME), "read"),
    admin_caller: ((BEARER_SCHEME, API_KEY_SCHEME), "admin"),
    rate_limited_token_caller: ((BEARER_SCHEME,), None),
}


def declare_security(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Make `app.openapi()` list the security schemes, and those of each operation of
    `routers` (the app's)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _add_security(build(), routers)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_security(schema: dict[str, Any], routers: Iterable[APIRouter]) -> None:
    schema.setdefault("components", {})["securitySchemes"] = {
        scheme.scheme_name: jsonable_encoder(scheme.model, by_alias=True, exclude_none=True)
        for scheme in _SCHEMES
    }
    routes = (route for router in routers for route in router.routes)
    for route in routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        calls = _calls(route.dependant)
        accepted = next((_ACCEPTS[call] for call in _ACCEPTS if call in calls), None)
        acting = next((call for call in calls if hasattr(call, "permission")), None)
        if acting is not None:
            accepted = (
                ((BEARER_SCHEME,), None)
                if acting.token_only
                else ((BEARER_SCHEME, API_KEY_SCHEME), acting.scope)
            )
        if accepted is None:
            continue
        schemes, scope = accepted
        roles = [scope] if scope else []
        for method in route.methods:
            operation = schema["paths"][route.path_format].get(method.lower())
            if operation is None:
                continue
            operation["security"] = [{scheme.scheme_name: roles} for scheme in schemes]
            if acting is not None:
                operation["x-llmlab-permission"] = acting.permission.value
                if "{org_id}" not in route.path_format:
                    operation.setdefault("parameters", []).append(_ORG_PARAMETER)


def _calls(dependant: Dependant) -> list[Any]:
    return [
        call
        for dependency in dependant.dependencies
        for call in (dependency.call, *_calls(dependency))
    ]
