"""Safe defaults: the server listens on this machine unless told otherwise, its SQLite file is
private, and the server install brings no development tools."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from typer.testing import CliRunner

from llmlab_app.config import Settings
from llmlab_app.db.engine import make_engine
from llmlab_cli.main import app as cli

REPO_ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_serve_listens_on_this_machine_unless_told(monkeypatch):
    help_text = CliRunner().invoke(cli, ["serve", "--help"], env={"COLUMNS": "200"}).output
    assert re.search(r"--host .*\[default: 127\.0\.0\.1\]", help_text, re.S), help_text
    assert "0.0.0.0]" not in help_text
    server_help = subprocess.run(
        [sys.executable, "-m", "llmlab_app.server", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "default: this machine only" in server_help
    # (tests/reliability/test_served_app.py starts it without --host and tries to reach it.)


def test_the_sqlite_file_is_private_in_a_private_folder(tmp_path):
    database = tmp_path / "fresh" / "data" / "llmlab.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    assert _mode(database.parent) == 0o700
    assert _mode(database) == 0o600
    wal = database.with_name("llmlab.db-wal")
    assert not wal.exists() or _mode(wal) == 0o600
    engine.dispose()


def test_a_database_left_readable_is_tightened_and_a_loose_folder_reported(tmp_path, caplog):
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    database = folder / "llmlab.db"
    database.touch()
    database.chmod(0o644)
    caplog.set_level(logging.WARNING, logger="llmlab.db")
    make_engine(f"sqlite:///{database}").dispose()
    assert _mode(database) == 0o600
    assert _mode(folder) == 0o755  # maybe shared: reported, not changed
    assert "open to other users" in caplog.text


def test_the_data_folder_made_for_the_jwt_secret_is_private(tmp_path):
    data_dir = tmp_path / "new-data"
    Settings(env="development", data_dir=data_dir).resolved_jwt_secret()
    assert _mode(data_dir) == 0o700


def _closure(name: str, extras: tuple[str, ...] = ()) -> set[str]:
    """Every distribution `pip install name[extras]` brings (as installed here)."""
    seen: set[str] = set()
    todo = [(name, extras)]
    while todo:
        current, wanted = todo.pop()
        key = re.sub(r"[-_.]+", "-", current).lower()
        try:
            requires = distribution(current).requires or []
        except PackageNotFoundError:
            continue
        if key in seen and not wanted:
            continue
        seen.add(key)
        for text in requires:
            requirement = Requirement(text)
            environments = [{"extra": extra} for extra in wanted] or [{"extra": ""}]
            if requirement.marker is None or any(
                requirement.marker.evaluate(env) for env in environments
            ):
                todo.append((requirement.name, tuple(requirement.extras)))
    return seen


def test_the_server_install_brings_no_development_tools():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    dev_tools = {
        re.sub(r"[-_.]+", "-", Requirement(text).name).lower()
        for text in project["optional-dependencies"]["dev"]
    }
    assert {"pytest", "ruff", "playwright", "schemathesis"} <= dev_tools
    server = _closure("llmlab", ("server",))
    assert "reflex" in server and "sqlmodel" in server
    assert server.isdisjoint(dev_tools), server & dev_tools
    # scripts/run installs the server alone.
    run = (REPO_ROOT / "scripts" / "run").read_text()
    assert 'setup.sh" --server-only' in run
    setup = (REPO_ROOT / "scripts" / "setup.sh").read_text()
    assert '[[ " $* " == *" --server-only "* ]] && extras="server"' in setup
