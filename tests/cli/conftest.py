"""CLI tests drive `llmlab` through Typer's CliRunner against a real API server process."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from llmlab_cli.config import CLIConfig, save_config
from llmlab_cli.main import app

PASSWORD = "correct horse 1"
SERVER_START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def server_settings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Where the test server keeps its data: what `llmlab admin` needs to work on it."""
    data_dir = tmp_path_factory.mktemp("cli-server")
    return {
        "LLMLAB_DATABASE_URL": f"sqlite:///{data_dir / 'cli.db'}",
        "LLMLAB_DATA_DIR": str(data_dir),
    }


@pytest.fixture(scope="session")
def server_url(server_settings: dict[str, str]) -> Iterator[str]:
    """`uvicorn llmlab_app.api:app` on a free port, with its own SQLite database."""
    data_dir = Path(server_settings["LLMLAB_DATA_DIR"])
    port = free_port()
    env = (
        os.environ
        | server_settings
        | {
            "LLMLAB_ENV": "development",
            "LLMLAB_RATE_LIMIT": "100000/minute",
            "LLMLAB_AUTH_RATE_LIMIT": "1000/minute",
        }
    )
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "llmlab_app.api:app"),
                *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(url, process, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_health(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"API server exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"API server did not answer /health in time:\n{log_path.read_text()}")


@pytest.fixture
def dead_url() -> str:
    """A URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(autouse=True)
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty LLMLAB_HOME and no LLMLAB_* overrides."""
    home = tmp_path / "llmlab-home"
    monkeypatch.setenv("LLMLAB_HOME", str(home))
    monkeypatch.delenv("LLMLAB_BASE_URL", raising=False)
    monkeypatch.delenv("LLMLAB_API_KEY", raising=False)
    return home


@dataclass
class Account:
    """A signed-up user: credentials as the API handed them out."""

    email: str
    password: str
    api_key: str
    access_token: str
    refresh_token: str


def sign_up(server_url: str) -> Account:
    from llmlab_sdk.http import LLMLabClient

    email = f"cli-{uuid.uuid4().hex[:12]}@example.com"
    with LLMLabClient(server_url) as client:
        data = client.signup(email, PASSWORD)
    return Account(
        email=email,
        password=PASSWORD,
        api_key=data["api_key"]["key"],
        access_token=data["access_token"],
        refresh_token=data["refresh_token"],
    )


@pytest.fixture
def account(server_url: str) -> Account:
    """A fresh account, so tests never see each other's events."""
    return sign_up(server_url)


@pytest.fixture
def configured(server_url: str, account: Account, cli_home: Path) -> Account:
    """The CLI configured with `account`'s API key, as `llmlab init --api-key` leaves it."""
    save_config(CLIConfig(base_url=server_url, api_key=account.api_key))
    return account


class CLI:
    """Runs `llmlab` in-process with Typer's CliRunner."""

    def run(self, *args: str, input: str | None = None) -> Result:
        """`llmlab ARGS...`; an exception escaping a command (a bug) fails the test loudly."""
        result = CliRunner().invoke(app, list(args), input=input, catch_exceptions=True)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    def json(self, *args: str) -> Any:
        """`llmlab ARGS... --json`, checked for success, parsed."""
        result = self.run(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def ok(self, *args: str, input: str | None = None) -> str:
        """`llmlab ARGS...` checked for success; its standard output."""
        result = self.run(*args, input=input)
        assert result.exit_code == 0, result.output
        return result.stdout

    @staticmethod
    def one_line_error(result: Result, code: int = 1, *, mentions: str = "") -> str:
        """The failure contract: exit `code`, one `Error:` line on stderr, no traceback."""
        assert result.exit_code == code, result.output
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("Error: "), lines[0]
        assert "Traceback" not in result.output
        assert mentions.lower() in lines[0].lower(), lines[0]
        assert result.stdout == ""
        return lines[0]


@pytest.fixture
def cli() -> CLI:
    return CLI()


@pytest.fixture
def new_account(server_url: str) -> Callable[[], Account]:
    """Sign up one more account."""
    return lambda: sign_up(server_url)


@contextlib.contextmanager
def home_for(server_url: str, account: Account, home: Path) -> Iterator[None]:
    """Outside a test's own LLMLAB_HOME (e.g. in a shared fixture): the CLI set up for
    `account` in `home` for the duration of the block."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LLMLAB_HOME", str(home))
        patch.delenv("LLMLAB_BASE_URL", raising=False)
        patch.delenv("LLMLAB_API_KEY", raising=False)
        save_config(CLIConfig(base_url=server_url, api_key=account.api_key))
        yield


@pytest.fixture(scope="session")
def demo_account(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Account:
    """One account filled by a small `llmlab demo` (20 days at half volume), shared by the
    tests that only read it."""
    account = sign_up(server_url)
    with home_for(server_url, account, tmp_path_factory.mktemp("demo-home")):
        CLI().json("demo", "--days", "20", "--scale", "0.5", "--seed", "7")
    return account


@pytest.fixture
def with_demo_data(server_url: str, demo_account: Account, cli_home: Path) -> Account:
    """The CLI configured for the demo-filled account."""
    save_config(CLIConfig(base_url=server_url, api_key=demo_account.api_key))
    return demo_account


# What `tracked` sends: (model, project, options of `llmlab track`).
TRACKED_CALLS = [
    ("gpt-4o", "support", ["--input", "12000", "--cached", "4096", "--output", "300"]),
    ("gpt-4o", "support", ["--input", "800", "--output", "40"]),
    (
        "claude-sonnet-4-20250514",
        "search",
        ["--input", "9000", "--cached", "6000", "--output", "500"],
    ),
    ("gemini-2.5-flash", "search", ["--input", "5000", "--output", "250"]),
    ("o4-mini", None, ["--input", "3000", "--output", "2000", "--reasoning", "1500"]),
    ("my-local-llm", "internal", ["--provider", "self-hosted", "--input", "100", "--output", "10"]),
]


@pytest.fixture(scope="session")
def tracked_account(
    server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Account, list[dict[str, Any]]]:
    """An account that received TRACKED_CALLS through `llmlab track --json`, with the server's
    answer for each; shared by tests that only read it."""
    account = sign_up(server_url)
    answers = []
    with home_for(server_url, account, tmp_path_factory.mktemp("tracked-home")):
        for model, project, options in TRACKED_CALLS:
            args = [
                "track",
                "--model",
                model,
                *options,
                *(["--project", project] if project else []),
            ]
            answers.append(CLI().json(*args)["events"][0])
    return account, answers


@pytest.fixture
def tracked(
    server_url: str, tracked_account: tuple[Account, list[dict[str, Any]]], cli_home: Path
) -> list[dict[str, Any]]:
    """The CLI configured for `tracked_account`; returns the server's answers to `track`."""
    account, answers = tracked_account
    save_config(CLIConfig(base_url=server_url, api_key=account.api_key))
    return answers


@pytest.fixture
def on_the_server(
    server_settings: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The environment `llmlab admin` runs in: the server's own settings."""
    from llmlab_app.config import get_settings

    for name, value in server_settings.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
