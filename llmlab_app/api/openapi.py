"""The credentials each route takes, declared in the OpenAPI schema.

The auth dependencies (`deps.rate_limited_caller`, `deps.rate_limited_token_caller`) read the
headers themselves instead of through FastAPI's security dependencies, which would be
resolved on every request; this puts in the schema what those would have declared."""

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
    rate_limited_caller,
    rate_limited_token_caller,
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
_ACCEPTS = {
    rate_limited_caller: (BEARER_SCHEME, API_KEY_SCHEME),
    rate_limited_token_caller: (BEARER_SCHEME,),
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
            accepted = (BEARER_SCHEME,) if acting.token_only else (BEARER_SCHEME, API_KEY_SCHEME)
        if accepted is None:
            continue
        for method in route.methods:
            operation = schema["paths"][route.path_format].get(method.lower())
            if operation is None:
                continue
            operation["security"] = [{scheme.scheme_name: []} for scheme in accepted]
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
