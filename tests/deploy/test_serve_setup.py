"""What `llmlab serve` prepares before Reflex starts: the worker count (several only with
Redis), the run folder in the data dir, the metrics folder, bun, and the shipped files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from llmlab_app import bun
from llmlab_app.db.engine import make_private_sqlite_file
from llmlab_app.package_files import frontend_lock_dir, migrations_dir
from llmlab_app.server import (
    CannotServe,
    absolute_database_url,
    backend_workers,
    fresh_metrics_dir,
    prepare_run_dir,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
REDIS = "redis://127.0.0.1:6379/6"


def test_one_worker_by_default(monkeypatch):
    monkeypatch.delenv("GRANIAN_WORKERS", raising=False)
    assert backend_workers(None, redis_url=None) == 1
    assert backend_workers(None, redis_url=REDIS) == 1


def test_workers_come_from_the_option_else_granian_workers(monkeypatch):
    monkeypatch.setenv("GRANIAN_WORKERS", "3")
    assert backend_workers(None, redis_url=REDIS) == 3
    assert backend_workers(2, redis_url=REDIS) == 2


def test_several_workers_need_redis(monkeypatch):
    monkeypatch.delenv("GRANIAN_WORKERS", raising=False)
    with pytest.raises(CannotServe, match=r"^--workers 4 needs LLMLAB_REDIS_URL: "):
        backend_workers(4, redis_url=None)
    monkeypatch.setenv("GRANIAN_WORKERS", "3")
    with pytest.raises(CannotServe, match="needs LLMLAB_REDIS_URL"):
        backend_workers(None, redis_url=None)
    monkeypatch.setenv("GRANIAN_WORKERS", "many")
    with pytest.raises(CannotServe, match="GRANIAN_WORKERS must be a whole number"):
        backend_workers(None, redis_url=REDIS)


def test_the_console_script_refuses_several_workers_without_redis_in_one_line(tmp_path):
    llmlab = Path(sys.executable).with_name("llmlab")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LLMLAB_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [str(llmlab), "serve", "--workers", "2"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("llmlab: --workers 2 needs LLMLAB_REDIS_URL")


def test_a_relative_sqlite_path_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert absolute_database_url("sqlite:///here.db") == f"sqlite:///{tmp_path / 'here.db'}"
    for unchanged in (
        "sqlite:////var/lib/llmlab.db",
        "sqlite:///:memory:",
        "postgresql+psycopg2://u:p@db:5432/llmlab",
    ):
        assert absolute_database_url(unchanged) == unchanged


def test_the_run_folder_holds_rxconfig_and_a_fresh_copy_of_the_lock_files(tmp_path):
    run_dir = prepare_run_dir(tmp_path)
    assert run_dir == tmp_path / "app"
    assert "reflex_config()" in (run_dir / "rxconfig.py").read_text()
    shipped = frontend_lock_dir()
    assert (run_dir / "reflex.lock" / "bun.lock").read_bytes() == (
        shipped / "bun.lock"
    ).read_bytes()
    # What Reflex wrote back into it last time does not outlive a restart (or an upgrade).
    (run_dir / "reflex.lock" / "bun.lock").write_text("stale")
    (run_dir / "reflex.lock" / "package-lock.json").write_text("{}")
    prepare_run_dir(tmp_path)
    assert sorted(p.name for p in (run_dir / "reflex.lock").iterdir()) == sorted(
        p.name for p in shipped.iterdir() if p.suffix in {".json", ".lock"}
    )
    assert (run_dir / "reflex.lock" / "bun.lock").read_text() != "stale"


def test_the_metrics_folder_is_emptied_at_every_start(tmp_path):
    first = fresh_metrics_dir(tmp_path)
    (first / "counter_123.db").write_bytes(b"old")
    assert list(fresh_metrics_dir(tmp_path).iterdir()) == []


def test_a_clone_reads_the_migrations_and_lock_files_where_the_repository_keeps_them():
    assert migrations_dir() == REPO_ROOT / "alembic"
    assert frontend_lock_dir() == REPO_ROOT / "reflex.lock"


def test_bun_comes_from_the_npm_package_for_this_machine():
    assert bun.bun_package("Linux", "x86_64") == "@oven/bun-linux-x64"
    assert bun.bun_package("Linux", "aarch64") == "@oven/bun-linux-aarch64"
    assert bun.bun_package("Darwin", "arm64") == "@oven/bun-darwin-aarch64"
    with pytest.raises(bun.BunUnavailable, match="set REFLEX_BUN_PATH"):
        bun.bun_package("Windows", "AMD64")


def test_bun_of_another_version_is_not_taken(tmp_path):
    fake = bun.bun_binary(tmp_path)
    fake.parent.mkdir(parents=True)
    fake.write_text("#!/bin/sh\necho 0.9.0\n")
    fake.chmod(0o755)
    assert bun.installed_bun(tmp_path) is None
    fake.write_text(f"#!/bin/sh\necho {bun.BUN_VERSION}\n")
    assert bun.installed_bun(tmp_path) == fake


def test_without_npm_installing_bun_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(bun.BunUnavailable, match=r"npm is needed .* or set REFLEX_BUN_PATH"):
        bun.install_bun(tmp_path / "tools")


def test_a_clone_names_its_code_to_reflex_which_runs_in_another_folder():
    from llmlab_app.server import _code_path

    assert _code_path()["PYTHONPATH"].split(":")[0] == str(REPO_ROOT)


def test_a_new_data_folder_is_private_so_the_database_check_stays_quiet(tmp_path, caplog):
    data_dir = tmp_path / "home" / ".llmlab" / "data"
    prepare_run_dir(data_dir)
    assert data_dir.stat().st_mode & 0o777 == 0o700
    make_private_sqlite_file(data_dir / "llmlab.db")
    assert "open to other users" not in caplog.text
