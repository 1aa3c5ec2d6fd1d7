"""Secrets are stored only as hashes and never logged; the dashboard's state files are
private to the server's user."""

from __future__ import annotations

import logging
import os
import stat

from sqlalchemy import text


def _column(engine, sql: str) -> list[str]:
    with engine.connect() as connection:
        return [row[0] for row in connection.execute(text(sql))]


def test_passwords_keys_and_refresh_tokens_are_stored_only_as_hashes(client, account, engine):
    created = client.post("/api/keys", json={"name": "extra"}, headers=account.token_headers)
    second_key = created.json()["data"]["key"]
    password_hashes = _column(engine, "SELECT password_hash FROM users")
    key_hashes = _column(engine, "SELECT key_hash FROM api_keys")
    token_hashes = _column(engine, "SELECT token_hash FROM refresh_tokens")
    assert all(h.startswith("$argon2id$") for h in password_hashes)
    assert account.password not in "".join(password_hashes)
    every_column = _dump_every_text_column(engine)
    for secret in (account.api_key, second_key, account.refresh_token, account.password):
        assert secret not in every_column
    assert all(len(h) == 64 for h in key_hashes + token_hashes)


def test_a_dashboard_session_is_stored_only_as_a_hash(client, app, account, session, engine):
    from llmlab_app.services import auth

    signed_in = auth.dashboard_login(
        session,
        email=account.email,
        password=account.password,
        settings=app.state.settings,
        limits=app.state.sign_in_limits,
        address="203.0.113.9",
    )
    reference = signed_in.session_token
    assert auth.dashboard_session(session, session_token=reference, settings=app.state.settings)
    hashes = _column(engine, "SELECT token_hash FROM auth_sessions WHERE kind = 'dashboard'")
    assert len(hashes) == 1 and len(hashes[0]) == 64
    assert reference.split(".", 1)[1] not in _dump_every_text_column(engine)


def _dump_every_text_column(engine) -> str:
    tables = ["users", "api_keys", "auth_sessions", "refresh_tokens", "projects", "cost_events"]
    with engine.connect() as connection:
        return "\n".join(
            repr(row)
            for table in tables
            for row in connection.execute(text(f"SELECT * FROM {table}"))
        )


def test_logs_never_contain_keys_tokens_or_passwords(client, caplog):
    from tests.conftest import Account

    caplog.set_level(logging.DEBUG)
    account = Account(client, "logged@example.com", password="super secret pw 1")
    account.track({"model": "gpt-4o", "input_tokens": 10})
    client.post("/api/auth/login", json={"email": account.email, "password": "wrong password!"})
    client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    client.get("/api/costs/summary", headers={"X-API-Key": account.api_key + "x"})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (account.api_key, account.refresh_token, account.access_token, account.password):
        assert secret not in logged


def test_reflex_event_payloads_and_exceptions_are_logged_without_the_password(app, caplog):
    """`app` installs the redaction; Reflex logs an event it cannot route with its payload
    (the sign-in form), and a handler's failure with the exception's text."""
    caplog.set_level(logging.DEBUG)
    payload = {"form_data": {"email": "a@example.com", "password": "hunter2 but longer"}}
    reflex = logging.getLogger("reflex.app")
    reflex.warning(
        "Received event from session %s with no associated token. Event data: %s", "sid1", payload
    )
    try:
        raise ValueError(f"1 validation error, input_value={payload['form_data']!r}")
    except ValueError:
        logging.getLogger("reflex_base.event").exception(
            "Error transforming event payload for handler AuthState.sign_in: boom"
        )
    logging.getLogger("llmlab.test").info(
        "connecting to %s", "postgresql+psycopg2://llmlab:db-password-9@db.internal/llmlab"
    )
    assert "Event data: [payload not logged]" in caplog.text
    for secret in ("hunter2 but longer", "db-password-9"):
        assert secret not in caplog.text


def test_the_start_up_line_masks_the_database_password(monkeypatch, capsys, tmp_path):
    from llmlab_app import config, server

    monkeypatch.setenv("LLMLAB_DATABASE_URL", "postgresql+psycopg2://llmlab:pw-in-url-7@db/llmlab")
    monkeypatch.setenv("LLMLAB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REFLEX_BUN_PATH", "/bin/true")
    monkeypatch.setattr("llmlab_app.db.engine.migrate", lambda *args, **kwargs: None)
    monkeypatch.setattr(server, "run_until_stopped", lambda *args, **kwargs: 0)
    config.get_settings.cache_clear()
    try:
        assert server.serve(port=3999) == 0
    finally:
        config.get_settings.cache_clear()
    printed = capsys.readouterr().out
    assert "pw-in-url-7" not in printed
    assert "postgresql+psycopg2://llmlab:***@db/llmlab" in printed


def test_dashboard_state_files_are_private(tmp_path):
    from llmlab_app.state_files import protect_state_files

    states = tmp_path / "states"
    states.mkdir(mode=0o755)
    earlier = states / "earlier.pkl"
    earlier.write_bytes(b"state")
    earlier.chmod(0o644)
    previous_umask = os.umask(0o022)
    try:
        protect_state_files(states)
        # What Reflex's disk state manager does: Path.write_bytes with the process umask.
        (states / "new.pkl").write_bytes(b"state")
    finally:
        os.umask(previous_umask)
    assert stat.S_IMODE(states.stat().st_mode) == 0o700
    for name in ("earlier.pkl", "new.pkl"):
        assert stat.S_IMODE((states / name).stat().st_mode) == 0o600, name
