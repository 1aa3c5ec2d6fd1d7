"""`llmlab orgs`, `llmlab members` and `llmlab costs --by key` against a real server."""

from __future__ import annotations

import re

import httpx

from llmlab_cli.config import read_config_file
from llmlab_sdk.http import LLMLabClient
from tests.cli.conftest import PASSWORD


def _logged_in(cli, server_url, account) -> None:
    cli.ok("login", "--url", server_url, "--email", account.email, "--password", PASSWORD)


def test_orgs_list_marks_the_personal_organisation_in_use(cli, configured):
    orgs = cli.json("orgs", "list")
    assert [(o["personal"], o["role"], o["current"]) for o in orgs] == [(True, "owner", True)]
    out = cli.ok("orgs")
    assert "* " in out and "(personal)" in out and "owner" in out


def test_orgs_use_moves_the_cli_key_into_the_chosen_organisation(cli, server_url, account):
    _logged_in(cli, server_url, account)
    first_key = read_config_file().api_key
    assert "Created Acme" in cli.ok("orgs", "create", "Acme")
    assert "Using Acme (your role: owner)" in cli.ok("orgs", "use", "acme")
    config = read_config_file()
    assert config.org == "Acme" and config.org_id and config.api_key != first_key
    cli.ok("track", "--model", "gpt-4o", "--input", "1000", "--output", "10")

    with LLMLabClient(server_url, access_token=account.access_token) as client:
        client.org_id = config.org_id
        in_acme = client.request("GET", "/api/costs/summary", auth="token")
        client.org_id = None
        personal = client.request("GET", "/api/costs/summary", auth="token")
        # The key `login` made for the personal organisation was revoked on the way.
        names = [k["name"] for k in client.list_keys()]
    assert (in_acme["calls"], personal["calls"]) == (1, 0)
    assert names == ["default"]
    assert "Already using Acme" in cli.ok("orgs", "use", "Acme")
    assert "*" in next(line for line in cli.ok("orgs").splitlines() if "Acme" in line)
    cli.ok("orgs", "use", account.email)  # back to the personal organisation, by its name
    assert read_config_file().org_id is None


def test_orgs_use_of_an_unknown_organisation_is_one_line(cli, server_url, account):
    _logged_in(cli, server_url, account)
    result = cli.run("orgs", "use", "Nope")
    cli.one_line_error(result, mentions="not a member of an organisation named 'Nope'")


def test_members_invite_list_and_remove(cli, server_url, account, new_account):
    _logged_in(cli, server_url, account)
    cli.ok("orgs", "create", "Team")
    cli.ok("orgs", "use", "Team")
    grace = new_account()
    out = cli.ok("members", "invite", grace.email, "--role", "viewer")
    assert f"Invited {grace.email} to Team as viewer" in out
    token = re.search(r"#token=(\S+)", out).group(1)
    with LLMLabClient(server_url, access_token=grace.access_token) as client:
        assert client.accept_invitation(token)["role"] == "viewer"
    members = cli.json("members", "list")
    assert [(m["email"], m["role"]) for m in members] == [
        (account.email, "owner"),
        (grace.email, "viewer"),
    ]
    assert "Removed" in cli.ok("members", "remove", grace.email.upper())
    assert [m["email"] for m in cli.json("members")] == [account.email]
    cli.one_line_error(cli.run("members", "remove", grace.email), mentions="not a member")


def test_costs_by_key_names_each_key_and_who_created_it(cli, server_url, account, new_account):
    _logged_in(cli, server_url, account)
    cli.ok("orgs", "create", "Shop")
    cli.ok("orgs", "use", "Shop")
    cli.ok("track", "--model", "gpt-4o", "--input", "100000", "--output", "100")
    org_id = read_config_file().org_id
    member = new_account()
    invitation = cli.ok("members", "invite", member.email, "--role", "member")
    token = re.search(r"#token=(\S+)", invitation).group(1)
    with LLMLabClient(server_url, access_token=member.access_token) as client:
        client.accept_invitation(token)
        client.org_id = org_id
        key = client.create_key("batch-jobs")["key"]
    with LLMLabClient(server_url, api_key=key) as client:
        client.track_event({"model": "gpt-4o-mini", "input_tokens": 1000, "output_tokens": 10})

    out = cli.ok("costs", "--by", "key")
    assert f"batch-jobs ({member.email})" in out
    assert f"({account.email})" in out
    by_member = cli.ok("costs", "--by", "member")
    assert member.email in by_member and account.email in by_member
    by_key = {row["name"]: row for row in cli.json("costs", "--by", "key")["by_key"]}
    (cli_key,) = set(by_key) - {"batch-jobs"}
    assert cli_key.startswith("llmlab CLI on")  # the key `orgs use` made
    assert by_key["batch-jobs"]["created_by"]["email"] == member.email


def test_admin_create_user_makes_an_account_whatever_the_sign_up_policy(
    cli, server_url, on_the_server
):
    email = "First@Example.com"
    out = cli.ok("admin", "create-user", email, "--password", "correct horse 9")
    assert "Created first@example.com with a personal organisation" in out
    login = httpx.post(
        f"{server_url}/api/auth/login",
        json={"email": "first@example.com", "password": "correct horse 9"},
    )
    assert login.status_code == 200
    token = login.json()["data"]["access_token"]
    orgs = httpx.get(f"{server_url}/api/orgs", headers={"Authorization": f"Bearer {token}"})
    assert [(o["personal"], o["role"]) for o in orgs.json()["data"]] == [(True, "owner")]
    again = cli.run("admin", "create-user", email, "--password", "correct horse 9")
    cli.one_line_error(again, mentions="already exists")
