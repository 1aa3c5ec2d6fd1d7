"""Secrets are stored only as hashes and never logged."""

from __future__ import annotations

import logging

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


def _dump_every_text_column(engine) -> str:
    tables = ["users", "api_keys", "refresh_tokens", "projects", "cost_events"]
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
