"""The error contract: one clear line on stderr, exit 1 (2 for usage errors), no traceback."""

from __future__ import annotations

import pytest

from llmlab_cli.config import CLIConfig, save_config

SERVER_COMMANDS = [
    ["status"],
    ["costs"],
    ["events"],
    ["export", "--out", "-"],
    ["budgets", "list"],
    ["budgets", "set", "10"],
    ["budgets", "delete", "abc"],
    ["recommendations"],
    ["whatif", "--from", "gpt-4o", "--to", "gpt-4o-mini"],
    ["track", "--model", "gpt-4o"],
    ["demo", "--days", "1"],
]


@pytest.mark.parametrize("args", SERVER_COMMANDS, ids=lambda a: " ".join(a))
def test_without_a_config_every_server_command_says_to_run_init(cli, args):
    cli.one_line_error(cli.run(*args), mentions="llmlab init")


@pytest.mark.parametrize("args", SERVER_COMMANDS, ids=lambda a: " ".join(a))
def test_a_rejected_key_is_one_line(cli, server_url, args):
    save_config(CLIConfig(base_url=server_url, api_key="llmlab_revoked-or-wrong"))
    cli.one_line_error(cli.run(*args), mentions="rejected the credentials")


@pytest.mark.parametrize("args", SERVER_COMMANDS, ids=lambda a: " ".join(a))
def test_a_server_that_is_down_is_one_line(cli, dead_url, args):
    save_config(CLIConfig(base_url=dead_url, api_key="llmlab_x"))
    cli.one_line_error(cli.run(*args), mentions="cannot reach")


def test_init_against_a_server_that_is_down_is_one_line(cli, dead_url):
    result = cli.run("init", "--url", dead_url, "--api-key", "llmlab_x")
    cli.one_line_error(result, mentions="cannot reach")


@pytest.mark.parametrize(
    "args",
    [
        ["costs", "--bogus"],
        ["costs", "--by", "color"],
        ["costs", "--start", "2026-13-01"],
        ["costs", "--days", "7", "--start", "2026-01-01"],
        ["costs", "--days", "0"],
        ["costs", "--start", "2026-02-01", "--end", "2026-01-01"],
        ["nonsense"],
        ["budgets", "set", "-5"],
        ["budgets", "set", "ten"],
        ["whatif", "--from", "gpt-4o", "--to", "gpt-4o-mini", "--share", "1.5"],
        ["track", "--model", "gpt-4o", "--metadata", "[1]"],
        ["track", "--model", "gpt-4o", "--input", "-1"],
        ["prices", "calc", "gpt-4o", "--input", "ten"],
        ["export", "--out", "x", "--format", "xml"],
    ],
    ids=lambda a: " ".join(a),
)
def test_usage_errors_exit_2_with_one_line(cli, args):
    line = cli.one_line_error(cli.run(*args), code=2)
    assert "--help" in line


def test_an_unknown_model_price_is_one_line(cli):
    cli.one_line_error(cli.run("prices", "no-such-model-xyz"), mentions="unknown model")
    cli.one_line_error(
        cli.run("prices", "calc", "no-such-model-xyz", "--input", "10"), mentions="no price"
    )


def test_a_server_side_validation_error_is_one_line(cli, configured):
    result = cli.run("track", "--model", "gpt-4o", "--timestamp", "2999-01-01T00:00:00Z")
    cli.one_line_error(result, mentions="future")


def test_deleting_an_unknown_budget_is_one_line(cli, configured):
    cli.one_line_error(cli.run("budgets", "delete", "ffffffff"), mentions="no budget")


def test_no_arguments_shows_help(cli):
    result = cli.run()
    assert "Commands" in result.output
