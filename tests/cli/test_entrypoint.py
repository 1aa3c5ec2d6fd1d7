"""The installed `llmlab` script, help for every command, light imports, `serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from llmlab_cli.config import CLIConfig, save_config
from llmlab_cli.main import app

SCRIPT = Path(sys.executable).parent / "llmlab"
HEAVY_MODULES = {
    "reflex", "sqlmodel", "sqlalchemy", "fastapi", "starlette", "uvicorn", "alembic",
    "llmlab_app", "genai_prices", "plotly",
}  # fmt: skip


def _all_commands() -> list[list[str]]:
    def walk(command, path):
        yield path
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name])

    return list(walk(typer.main.get_command(app), []))


def test_init_reads_a_piped_password_without_a_getpass_warning(server_url, cli_home):
    env = os.environ | {"LLMLAB_HOME": str(cli_home)}
    command = [str(SCRIPT), "init", "--url", server_url, "--email", "pipe@example.com", "--signup"]
    done = subprocess.run(
        command, input="a long password\n", env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "echoed" not in done.stderr


def test_the_console_script_runs_against_the_server(configured, cli_home):
    env = os.environ | {"LLMLAB_HOME": str(cli_home)}
    done = subprocess.run(
        [str(SCRIPT), "costs", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["calls"] == 0


def test_the_console_script_fails_with_one_line(dead_url, cli_home):
    save_config(CLIConfig(base_url=dead_url, api_key="llmlab_x"))
    env = os.environ | {"LLMLAB_HOME": str(cli_home)}
    done = subprocess.run(
        [str(SCRIPT), "status"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("Error: cannot reach")


def test_importing_the_cli_stays_light():
    code = (
        "import sys, json, llmlab_cli.main; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    assert not loaded & HEAVY_MODULES


@pytest.mark.parametrize("path", _all_commands(), ids=lambda p: " ".join(p) or "llmlab")
def test_every_command_has_help(cli, path):
    out = cli.ok(*path, "--help")
    assert out.startswith("Usage: ")
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    assert command.help and command.help.split("\n")[0].strip()[:30] in " ".join(out.split())


def test_version(cli):
    assert cli.ok("--version").startswith("llmlab ")


def test_serve_starts_the_app_server_with_the_options(cli, monkeypatch):
    import llmlab_app.server

    calls = []
    monkeypatch.setattr(
        llmlab_app.server,
        "serve",
        lambda port, host, workers: calls.append((port, host, workers)) or 0,
    )
    cli.ok("serve", "--port", "4321", "--host", "127.0.0.1", "--workers", "2")
    assert calls == [(4321, "127.0.0.1", 2)]


def test_serve_passes_on_the_server_exit_code(cli, monkeypatch):
    import llmlab_app.server

    monkeypatch.setattr(llmlab_app.server, "serve", lambda port, host, workers: 3)
    assert cli.run("serve").exit_code == 3
