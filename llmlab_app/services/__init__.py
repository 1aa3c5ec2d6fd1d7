"""What a route or a dashboard page asks for. Every function takes a `Session` and commits
what it changes; every query is scoped by the organisation it is given, and every change made
for someone takes their `Actor` and checks it against the permission table (`permissions`)."""

# The rule that keeps the ingest writer's cache correct (a change to budgets or price
# overrides moves the organisation's settings version) must hold whichever service, or
# none, makes the change: it is loaded with the first service anyone imports.
from llmlab_app.services.ingest import accounts as _ingest_accounts  # noqa: F401
