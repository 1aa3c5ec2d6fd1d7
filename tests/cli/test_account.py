"""`llmlab init`, `login`, `logout`, `status` and the config file they keep."""

from __future__ import annotations

import stat
import tomllib
from decimal import Decimal

import httpx

from llmlab_cli.config import CLIConfig, config_path, dump_toml, load_config, save_config


def _config_file() -> dict[str, str]:
    return tomllib.loads(config_path().read_text())


def test_init_with_an_api_key_checks_it_and_saves_a_private_config(cli, server_url, account):
    out = cli.ok("init", "--url", server_url, "--api-key", account.api_key)
    assert "Connected to" in out
    assert _config_file() == {"base_url": server_url, "api_key": account.api_key}
    assert stat.S_IMODE(config_path().stat().st_mode) == 0o600


def test_init_with_a_bad_key_fails_and_saves_nothing(cli, server_url):
    result = cli.run("init", "--url", server_url, "--api-key", "llmlab_not-a-real-key")
    cli.one_line_error(result, mentions="llmlab init")
    assert not config_path().exists()


def test_init_signs_up_with_email_and_password(cli, server_url):
    email = "newcomer@example.com"
    cli.ok(
        "init", "--url", server_url, "--email", email, "--password", "a long password", "--signup"
    )
    saved = _config_file()
    assert saved["email"] == email
    assert saved["api_key"].startswith("llmlab_")
    assert {"access_token", "refresh_token"} <= saved.keys()
    # The account's first key is the user's: logout must never revoke it.
    assert "api_key_id" not in saved
    assert cli.json("status")["user"]["email"] == email


def test_init_asks_for_what_is_missing(cli, server_url):
    answers = f"{server_url}\n\nasker@example.com\ny\nsecret password\n"
    out = cli.ok("init", input=answers)
    assert "asker@example.com" in out
    assert load_config().email == "asker@example.com"


def test_init_logs_in_to_an_existing_account_with_a_key_of_its_own(cli, server_url, account):
    cli.ok("init", "--url", server_url, "--email", account.email, "--password", account.password)
    saved = _config_file()
    assert saved["api_key"] != account.api_key
    assert saved["api_key_id"]


def test_login_logout_revokes_the_cli_key_and_keeps_the_server_url(cli, server_url, account):
    save_config(CLIConfig(base_url=server_url))
    assert "Logged in" in cli.ok("login", "--email", account.email, "--password", account.password)
    cli_key = load_config().api_key
    assert cli_key and cli_key != account.api_key
    assert cli.json("status")["user"]["email"] == account.email

    assert "Logged out" in cli.ok("logout")
    assert _config_file() == {"base_url": server_url}
    rejected = httpx.get(
        f"{server_url}/api/budgets", headers={"Authorization": f"Bearer {cli_key}"}
    )
    assert rejected.status_code == 401
    # The user's own key still works.
    kept = httpx.get(
        f"{server_url}/api/budgets", headers={"Authorization": f"Bearer {account.api_key}"}
    )
    assert kept.status_code == 200


def test_login_with_a_wrong_password_is_one_line(cli, server_url, account):
    save_config(CLIConfig(base_url=server_url))
    result = cli.run("login", "--email", account.email, "--password", "wrong password")
    cli.one_line_error(result)


def test_logout_without_credentials_says_so(cli):
    assert "Not logged in" in cli.ok("logout")


def test_status_reports_health_spend_and_budgets(cli, configured):
    cli.ok("track", "--model", "gpt-4o", "--input", "1000", "--output", "100")
    cli.ok("budgets", "set", "25")
    status = cli.json("status")
    assert status["health"]["status"] == "ok"
    assert status["user"] is None  # an API key alone cannot say who it belongs to
    assert Decimal(status["month"]["total_cost_usd"]) == Decimal("0.0035")
    assert status["month"]["calls"] == 1
    assert [b["amount_usd"] for b in status["budgets"]] == ["25"]
    text = cli.ok("status")
    assert "$0.0035" in text and "Monthly budget" in text


def test_environment_variables_override_the_config_file(cli, server_url, account, monkeypatch):
    save_config(CLIConfig(base_url="http://127.0.0.1:9", api_key="llmlab_stale"))
    monkeypatch.setenv("LLMLAB_BASE_URL", server_url)
    monkeypatch.setenv("LLMLAB_API_KEY", account.api_key)
    assert cli.json("costs")["calls"] == 0


def test_llmlab_home_moves_the_config_folder(cli_home):
    assert config_path() == cli_home / "config.toml"


def test_config_writer_round_trips_awkward_strings(tmp_path):
    values = {"base_url": 'http://x/"quoted"\\path', "api_key": "llmlab_\tkey\u00e9"}
    assert tomllib.loads(dump_toml(values)) == values


def test_logging_in_as_someone_else_replaces_the_key(cli, server_url, account, new_account):
    other = new_account()
    cli.ok("init", "--url", server_url, "--email", account.email, "--password", account.password)
    first_key = load_config().api_key
    cli.ok("login", "--email", other.email, "--password", other.password)
    assert load_config().api_key != first_key
    assert cli.json("status")["user"]["email"] == other.email
