"""The CLI with 15-minute access tokens: it refreshes them by itself, says plainly when the
login has ended, makes admin keys; `llmlab admin reset-password` works on the server's
database and ends the account's sessions."""

from __future__ import annotations

import time

import httpx

from llmlab_cli.config import CLIConfig, load_config, read_config_file, save_config

ADMIN_SESSION_BOUND_S = 5.0  # services/sessions.py: MEMORY_CACHE_SECONDS, no Redis here


def _me(server_url: str, token: str) -> int:
    return httpx.get(
        f"{server_url}/api/auth/me", headers={"Authorization": f"Bearer {token}"}
    ).status_code


def test_an_expired_access_token_is_refreshed_without_asking(cli, server_url, account):
    save_config(
        CLIConfig(
            base_url=server_url,
            api_key=account.api_key,
            email=account.email,
            access_token="an-access-token-from-long-ago",
            refresh_token=account.refresh_token,
        )
    )
    assert cli.json("status")["user"]["email"] == account.email
    saved = read_config_file()
    assert saved.refresh_token != account.refresh_token  # rotated and saved at once
    assert _me(server_url, saved.access_token or "") == 200
    # The next command uses the saved pair: no second refresh of the old token (which the
    # server would take for a stolen one and end the session).
    assert cli.json("status")["user"]["email"] == account.email
    assert read_config_file().refresh_token == saved.refresh_token


def test_an_ended_login_says_to_log_in_again(cli, server_url, account):
    httpx.post(f"{server_url}/api/auth/logout", json={"refresh_token": account.refresh_token})
    save_config(
        CLIConfig(
            base_url=server_url,
            api_key=account.api_key,
            api_key_id="00000000-0000-0000-0000-000000000000",
            access_token=account.access_token,
            refresh_token=account.refresh_token,
        )
    )
    result = cli.run("logout")
    assert result.exit_code == 0
    assert "the login has expired or was ended" in result.stderr
    assert "run `llmlab login`" in result.stderr


def test_login_makes_an_admin_key_for_the_cli(cli, server_url, account):
    save_config(CLIConfig(base_url=server_url))
    cli.ok("login", "--email", account.email, "--password", account.password)
    config = load_config()
    keys = httpx.get(
        f"{server_url}/api/keys", headers={"Authorization": f"Bearer {config.access_token}"}
    ).json()["data"]
    assert {key["id"]: key["scopes"] for key in keys}[config.api_key_id] == ["admin"]


def test_admin_reset_password_ends_every_session(cli, server_url, account, on_the_server):
    assert _me(server_url, account.access_token) == 200  # the server now caches the session
    out = cli.ok("admin", "reset-password", account.email, "--password", "reset by operator")
    assert f"Password of {account.email} reset; 1 session ended." in out
    started = time.monotonic()
    while _me(server_url, account.access_token) == 200:
        assert time.monotonic() - started < ADMIN_SESSION_BOUND_S + 1
        time.sleep(0.2)
    login = f"{server_url}/api/auth/login"
    old = {"email": account.email, "password": account.password}
    assert httpx.post(login, json=old).status_code == 401
    assert httpx.post(login, json=old | {"password": "reset by operator"}).status_code == 200
    refreshed = httpx.post(
        f"{server_url}/api/auth/refresh", json={"refresh_token": account.refresh_token}
    )
    assert refreshed.status_code == 401


def test_admin_reset_password_asks_twice_and_refuses_unknown_emails(
    cli, server_url, account, on_the_server
):
    asked = cli.run("admin", "reset-password", account.email, input="one password\nanother\n")
    assert asked.exit_code != 0  # the two entries differ: asked again until input runs out
    unknown = cli.run("admin", "reset-password", "nobody@example.com", "--password", "x" * 12)
    cli.one_line_error(unknown, mentions="no account with the email")
    short = cli.run("admin", "reset-password", account.email, "--password", "short")
    cli.one_line_error(short, mentions="at least 8 characters")
