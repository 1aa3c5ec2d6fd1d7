"""The one HTTP client for the LLMLab REST API, shared by the background sender and the CLI.

Every route of the API has one method here. Responses come wrapped in the API's envelope
(``{"success", "data", "error", "timestamp"}``); methods return ``data`` and raise
:class:`LLMLabAPIError` or :class:`LLMLabConnectionError` otherwise.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import httpx

from llmlab_sdk.errors import LLMLabAPIError, LLMLabConnectionError

DEFAULT_BASE_URL = "http://localhost:3000"
DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_EVENTS_PER_REQUEST = 1000

Auth = Literal["key", "token", "any", "none"]
QueryValue = str | int | float | date | datetime | None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def encode_json(body: Any) -> bytes:
    """Compact JSON; values JSON cannot hold (datetimes, decimals, sets in metadata) become
    strings rather than failing the whole batch."""
    return json.dumps(body, separators=(",", ":"), default=str).encode()


def _query(params: Mapping[str, QueryValue]) -> dict[str, str]:
    query: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        query[name] = value.isoformat() if isinstance(value, date | datetime) else str(value)
    return query


class LLMLabClient:
    """A synchronous client for the LLMLab REST API over one keep-alive connection pool.

    ``api_key`` (``llmlab_...``) authenticates event ingestion and reads, as far as its scopes
    allow; ``access_token`` (a JWT from :meth:`login`, valid 15 minutes, renewed with
    :meth:`refresh`) is needed for account routes such as API-key management. Either may be
    set later through the attributes of the same name. An API key acts in the organisation it
    belongs to; requests made with the login token act in ``org_id`` (sent as
    ``X-LLMLab-Org``), or in the user's personal organisation when it is None.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        access_token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        *,
        user_agent: str = "llmlab-sdk",
        org_id: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.access_token = access_token
        self.org_id = org_id
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers={"User-Agent": user_agent, "Accept": "application/json"},
        )

    # -- plumbing -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> LLMLabClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _auth_headers(self, auth: Auth) -> dict[str, str]:
        if auth == "none":
            return {}
        # Account routes want the user's JWT; ingestion wants an API key; reads take either.
        if auth == "token" or (auth == "any" and self.access_token and not self.api_key):
            credential = self.access_token or self.api_key
        else:
            credential = self.api_key or self.access_token
        if not credential:
            return {}
        headers = {"Authorization": f"Bearer {credential}"}
        if self.org_id and credential == self.access_token:
            headers["X-LLMLab-Org"] = self.org_id
        return headers

    def _send(
        self,
        method: str,
        path: str,
        *,
        auth: Auth = "any",
        json: Any = None,
        content: bytes | None = None,
        params: Mapping[str, QueryValue] | None = None,
    ) -> httpx.Response:
        headers = self._auth_headers(auth)
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            return self._http.request(
                method,
                path,
                json=json,
                content=content,
                params=_query(params or {}),
                headers=headers,
            )
        except httpx.TransportError as exc:
            raise LLMLabConnectionError(
                f"cannot reach LLMLab at {self.base_url}: {exc.__class__.__name__}: {exc}"
            ) from exc

    @staticmethod
    def _unwrap(response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        envelope = body if isinstance(body, dict) and "success" in body else None
        if response.is_success and envelope is not None and envelope["success"]:
            return envelope.get("data")
        if envelope is not None and envelope.get("error"):
            message = str(envelope["error"])
        elif isinstance(body, dict) and "detail" in body:
            message = str(body["detail"])
        else:
            message = response.text[:500] or response.reason_phrase
        raise LLMLabAPIError(
            response.status_code,
            message,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            data=envelope.get("data") if envelope is not None else None,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        auth: Auth = "any",
        json: Any = None,
        params: Mapping[str, QueryValue] | None = None,
    ) -> Any:
        """Call any route and return the envelope's ``data``; the escape hatch for new routes."""
        return self._unwrap(self._send(method, path, auth=auth, json=json, params=params))

    # -- auth -----------------------------------------------------------------------------------

    def signup(self, email: str, password: str) -> dict[str, Any]:
        """Create an account; returns the user, tokens and the first API key (shown once)."""
        return self.request(
            "POST", "/api/auth/signup", auth="none", json={"email": email, "password": password}
        )

    def login(self, email: str, password: str) -> dict[str, Any]:
        """Exchange email and password for an access JWT and a refresh token."""
        return self.request(
            "POST", "/api/auth/login", auth="none", json={"email": email, "password": password}
        )

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Rotate a refresh token into a new access/refresh pair."""
        return self.request(
            "POST", "/api/auth/refresh", auth="none", json={"refresh_token": refresh_token}
        )

    def logout(self, refresh_token: str) -> Any:
        """Revoke a refresh token."""
        return self.request(
            "POST", "/api/auth/logout", auth="token", json={"refresh_token": refresh_token}
        )

    def me(self) -> dict[str, Any]:
        """The authenticated user (``{id, email}``)."""
        return self.request("GET", "/api/auth/me", auth="token")

    # -- API keys -------------------------------------------------------------------------------

    def list_keys(self) -> list[dict[str, Any]]:
        """The user's API keys (prefixes only; secrets are never returned again)."""
        return self.request("GET", "/api/keys", auth="token")

    def create_key(self, name: str, scopes: Sequence[str] | None = None) -> dict[str, Any]:
        """Create an API key with ``scopes`` (``ingest``, ``read``, ``admin``; the server's
        default is ``admin``); the returned ``key`` is the only time the secret is shown.
        Needs a login from the last 15 minutes."""
        body: dict[str, Any] = {"name": name}
        if scopes is not None:
            body["scopes"] = list(scopes)
        return self.request("POST", "/api/keys", auth="token", json=body)

    def delete_key(self, key_id: str) -> Any:
        """Revoke an API key."""
        return self.request("DELETE", f"/api/keys/{key_id}", auth="token")

    # -- events ---------------------------------------------------------------------------------

    def track_event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Record one usage event; returns ``{"events": [...], "budgets": [...]}``."""
        return self.track_events_json(encode_json(dict(event)))

    def track_events(self, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Record up to 1,000 events in one request (idempotent by each event's ``event_id``)."""
        if len(events) > MAX_EVENTS_PER_REQUEST:
            raise ValueError(
                f"at most {MAX_EVENTS_PER_REQUEST} events per request, got {len(events)}"
            )
        return self.track_events_json(encode_json({"events": list(events)}))

    def track_events_json(self, body: bytes) -> dict[str, Any]:
        """Send an already-serialised event or ``{"events": [...]}`` body (as the spool keeps)."""
        return self._unwrap(self._send("POST", "/api/events/track", auth="key", content=body))

    def list_events(
        self,
        *,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        project: str | None = None,
        model: str | None = None,
        provider: str | None = None,
        end_user: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """One page of events, newest first: ``{"items": [...], "next_cursor": str | None}``."""
        return self.request(
            "GET",
            "/api/events",
            params={
                "start": start,
                "end": end,
                "project": project,
                "model": model,
                "provider": provider,
                "end_user": end_user,
                "tag": tag,
                "limit": limit,
                "cursor": cursor,
            },
        )

    def iter_events(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every event matching ``filters`` (same names as :meth:`list_events`), page by page."""
        cursor = filters.pop("cursor", None)
        while True:
            page = self.list_events(**filters, cursor=cursor)
            yield from page.get("items") or []
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def export_events_csv(
        self,
        *,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        project: str | None = None,
        model: str | None = None,
        provider: str | None = None,
        end_user: str | None = None,
        tag: str | None = None,
    ) -> Iterator[bytes]:
        """Stream the matching events as CSV, chunk by chunk, without holding them in memory."""
        params = _query(
            {
                "format": "csv",
                "start": start,
                "end": end,
                "project": project,
                "model": model,
                "provider": provider,
                "end_user": end_user,
                "tag": tag,
            }
        )
        try:
            with self._http.stream(
                "GET", "/api/events", params=params, headers=self._auth_headers("any")
            ) as response:
                if not response.is_success:
                    response.read()
                    self._unwrap(response)
                yield from response.iter_bytes()
        except httpx.TransportError as exc:
            raise LLMLabConnectionError(f"cannot reach LLMLab at {self.base_url}: {exc}") from exc

    # -- spend ----------------------------------------------------------------------------------

    def cost_summary(
        self,
        *,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
        project: str | None = None,
        group_by: str | None = None,
    ) -> dict[str, Any]:
        """Totals and breakdowns (by model, provider, project, day) for a date range;
        ``group_by="key"`` adds spend per API key and per member who created it."""
        return self.request(
            "GET",
            "/api/costs/summary",
            params={"start": start, "end": end, "project": project, "group_by": group_by},
        )

    def list_budgets(self) -> list[dict[str, Any]]:
        """Budgets with their current status (spent, remaining, exceeded, forecast)."""
        return self.request("GET", "/api/budgets")

    def create_budget(self, **fields: Any) -> dict[str, Any]:
        """Create a budget (``name``, ``amount_usd``, ``period``, ``hard_limit``, ...)."""
        return self.request("POST", "/api/budgets", json=_jsonable(fields))

    def update_budget(self, budget_id: str, **fields: Any) -> dict[str, Any]:
        """Change a budget's fields."""
        return self.request("PUT", f"/api/budgets/{budget_id}", json=_jsonable(fields))

    def delete_budget(self, budget_id: str) -> Any:
        """Delete a budget."""
        return self.request("DELETE", f"/api/budgets/{budget_id}")

    def list_budget_alerts(self, budget_id: str) -> list[dict[str, Any]]:
        """Alerts a budget has fired, newest first."""
        return self.request("GET", f"/api/budgets/{budget_id}/alerts")

    def list_budget_deliveries(self, budget_id: str) -> list[dict[str, Any]]:
        """Webhook deliveries of a budget's alerts."""
        return self.request("GET", f"/api/budgets/{budget_id}/deliveries")

    def list_alerts(self) -> list[dict[str, Any]]:
        """Alerts of every budget, newest first."""
        return self.request("GET", "/api/alerts")

    def recommendations(
        self, *, days: int | None = None, project: str | None = None
    ) -> list[dict[str, Any]]:
        """Ranked savings (dollars per month) with evidence, over the last ``days`` days."""
        return self.request(
            "GET", "/api/recommendations", params={"days": days, "project": project}
        )

    def reprice(
        self,
        *,
        start: date | str,
        end: date | str | None = None,
        model: str | None = None,
    ) -> dict[str, Any]:
        """Recompute stored costs of a window with the prices in force at each event's time."""
        return self.request(
            "POST",
            "/api/prices/reprice",
            json=_jsonable({"start": start, "end": end, "model": model}),
        )

    def whatif(
        self,
        *,
        from_model: str,
        to_model: str,
        to_provider: str | None = None,
        share: Decimal | float | str | None = None,
        start: date | str | None = None,
        end: date | str | None = None,
        project: str | None = None,
    ) -> dict[str, Any]:
        """What the spend would have been with ``share`` of ``from_model`` calls on ``to_model``."""
        return self.request(
            "POST",
            "/api/whatif",
            json=_jsonable(
                {
                    "from_model": from_model,
                    "to_model": to_model,
                    "to_provider": to_provider,
                    "share": str(share) if isinstance(share, float) else share,
                    "start": start,
                    "end": end,
                    "project": project,
                }
            ),
        )

    def list_projects(self) -> list[dict[str, Any]]:
        """The user's projects."""
        return self.request("GET", "/api/projects")

    def create_project(self, name: str) -> dict[str, Any]:
        """Create a project."""
        return self.request("POST", "/api/projects", json={"name": name})

    def get_prices(
        self, model: str, provider: str | None = None, at: datetime | str | None = None
    ) -> dict[str, Any]:
        """Per-million-token prices of a model (now, or in force at ``at``)."""
        return self.request(
            "GET",
            "/api/prices",
            auth="none",
            params={"model": model, "provider": provider, "at": at},
        )

    def list_price_overrides(self) -> list[dict[str, Any]]:
        """The account's own prices, which win over the dataset."""
        return self.request("GET", "/api/prices/overrides")

    def create_price_override(self, **fields: Any) -> dict[str, Any]:
        """Set per-million prices for a model (``provider``, ``model``, ``input_per_mtok``,
        ``output_per_mtok``, optional cache prices and ``valid_from``)."""
        return self.request("POST", "/api/prices/overrides", json=_jsonable(fields))

    def delete_price_override(self, override_id: str) -> Any:
        """Remove a price override."""
        return self.request("DELETE", f"/api/prices/overrides/{override_id}")

    def health(self) -> Any:
        """Liveness and database check."""
        return self.request("GET", "/health", auth="none")

    # -- organisations --------------------------------------------------------------------------

    def list_orgs(self) -> list[dict[str, Any]]:
        """The user's organisations with their role in each (the personal one first)."""
        return self.request("GET", "/api/orgs")

    def create_org(self, name: str) -> dict[str, Any]:
        """A shared organisation the user owns."""
        return self.request("POST", "/api/orgs", json={"name": name})

    def list_members(self, org_id: str) -> list[dict[str, Any]]:
        """Members of an organisation with their roles."""
        return self.request("GET", f"/api/orgs/{org_id}/members")

    def invite_member(self, org_id: str, email: str, role: str = "member") -> dict[str, Any]:
        """Invite ``email``; the answer's ``url`` (and ``token``) is shown only once."""
        return self.request(
            "POST", f"/api/orgs/{org_id}/invitations", json={"email": email, "role": role}
        )

    def change_member_role(self, org_id: str, user_id: str, role: str) -> dict[str, Any]:
        """Give a member another role."""
        return self.request("PUT", f"/api/orgs/{org_id}/members/{user_id}", json={"role": role})

    def remove_member(self, org_id: str, user_id: str) -> dict[str, Any]:
        """Remove a member (or leave); the keys they created there are revoked."""
        return self.request("DELETE", f"/api/orgs/{org_id}/members/{user_id}")

    def accept_invitation(self, token: str) -> dict[str, Any]:
        """Join the organisation of an invitation sent to the user's email."""
        return self.request("POST", "/api/invitations/accept", json={"token": token})


def _jsonable(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Drop unset fields and turn dates and decimals into the strings the API expects."""
    body: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if isinstance(value, date | datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        body[name] = value
    return body
