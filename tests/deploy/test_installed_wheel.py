"""The wheel as a user gets it: built from this checkout, installed with pip into a fresh
virtualenv outside the repository, and `llmlab serve` run in an empty folder: it migrates,
installs bun, builds the dashboard and serves it with the API. With PostgreSQL and Redis
(CI sets LLMLAB_TEST_DATABASE_URL and LLMLAB_TEST_REDIS_URL) it also runs several workers.

~1.5 min: pip takes the dependencies from its wheel cache (and PIP_FIND_LINKS), the first
build of the dashboard ~10-20 s.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.live_server import free_port

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 300
METRICS_TOKEN = "deploy-test-" + "m" * 30
PASSWORD = "correct horse 1"
# What the served process must not inherit from the test run or this checkout.
FOREIGN_PREFIXES = ("LLMLAB_", "REFLEX_", "GRANIAN_", "PROMETHEUS_")
FOREIGN_NAMES = {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}


def _checkout_files() -> list[str]:
    """The files git would commit (tracked or new, not ignored, not deleted)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (REPO_ROOT / name).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy: a build in the checkout leaves build/ behind, and setuptools puts
    # what it finds there (a module deleted since, say) into later wheels.
    source = tmp_path_factory.mktemp("source")
    for name in _checkout_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(out), str(source)], check=True)
    [built] = out.glob("llmlab-*.whl")
    return built


@pytest.fixture(scope="module")
def venv_bin(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with `pip install 'llmlab[server]'` from the wheel (dependencies
    pinned by requirements.lock, as setup.sh installs them)."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            "-c",
            str(REPO_ROOT / "requirements.lock"),
            f"{wheel}[server]",
        ],
        check=True,
        cwd=venv,
        env=_clean_env(),
    )
    return venv / "bin"


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(FOREIGN_PREFIXES) and name not in FOREIGN_NAMES
    }
    return env | extra


@contextmanager
def serving(venv_bin: Path, folder: Path, env: dict[str, str], *args: str) -> Iterator[str]:
    """`llmlab serve` run in `folder` on a free port; yields the base URL once /health
    answers 200, then stops it as Ctrl-C would (SIGTERM to `llmlab` alone)."""
    port = free_port()
    log = folder.parent / f"serve-{port}.log"
    command = [str(venv_bin / "llmlab"), "serve", "--port", str(port), "--host", "127.0.0.1"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, *args],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base_url, process, log)
        yield base_url
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()[-3000:]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"llmlab serve exited {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"not healthy after {STARTUP_TIMEOUT_S} s:\n{log.read_text()[-4000:]}")


def _get(url: str, **kwargs: Any) -> httpx.Response:
    # A new connection each time, so that any worker may answer.
    with httpx.Client(timeout=30) as client:
        return client.get(url, **kwargs)


def _metric(base_url: str, name: str, **labels: str) -> float:
    scraped = _get(f"{base_url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraped.status_code == 200, scraped.text
    for family in text_string_to_metric_families(scraped.text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def _ingested(base_url: str) -> float:
    return _metric(base_url, "llmlab_events_ingested_total", source="api")


def _dashboard_sessions_while_a_socket_is_open(base_url: str) -> float:
    """Open the dashboard's websocket (engine.io, as the page does) and read the sessions
    metric once every worker has sampled it (every 5 s)."""
    from websockets.sync.client import connect

    url = base_url.replace("http://", "ws://") + "/_event/?EIO=4&transport=websocket"
    with connect(url, open_timeout=30) as socket:
        assert str(socket.recv(timeout=30)).startswith("0{")  # engine.io's open packet
        time.sleep(6)
        return _metric(base_url, "llmlab_dashboard_sessions")


def _sign_up_and_track(base_url: str, events: int) -> str:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        signup = client.post(
            "/api/auth/signup",
            json={"email": f"ops-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD},
        )
        assert signup.status_code == 201, signup.text
        key = signup.json()["data"]["api_key"]["key"]
    for index in range(events):
        with httpx.Client(base_url=base_url, timeout=30) as client:
            tracked = client.post(
                "/api/events/track",
                json={"model": "gpt-4o", "input_tokens": 1_000 + index, "output_tokens": 50},
                headers={"X-API-Key": key},
            )
            assert tracked.status_code == 200, tracked.text
    return key


def test_the_wheel_ships_the_migrations_and_the_frontend_lock(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    revisions = {p.name for p in (REPO_ROOT / "alembic" / "versions").glob("*.py")}
    assert {"llmlab_app/migrations/env.py", "llmlab_app/migrations/script.py.mako"} <= names
    assert {f"llmlab_app/migrations/versions/{name}" for name in revisions} <= names
    assert {"llmlab_app/frontend_lock/package.json", "llmlab_app/frontend_lock/bun.lock"} <= names
    assert "llmlab_core/pricing/corrections.json" in names
    # A top-level alembic/ in site-packages would hide the alembic library itself.
    assert not any(name.startswith(("alembic/", "tests/", "reflex.lock/")) for name in names)


def test_llmlab_serve_from_an_empty_folder_migrates_and_serves(venv_bin, tmp_path):
    where = subprocess.run(
        [str(venv_bin / "python"), "-c", "import llmlab_app; print(llmlab_app.__file__)"],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv_bin.parent), where  # not this checkout

    folder, data_dir = tmp_path / "empty", tmp_path / "data"
    folder.mkdir()
    env = _clean_env(LLMLAB_DATA_DIR=str(data_dir), LLMLAB_METRICS_TOKEN=METRICS_TOKEN)
    with serving(venv_bin, folder, env) as base_url:
        ready = _get(f"{base_url}/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["data"]["migrations"] == "ok"
        for page in ("/", "/signin"):
            dashboard = _get(f"{base_url}{page}", follow_redirects=True)
            assert dashboard.status_code == 200
            assert "text/html" in dashboard.headers["content-type"]
            assert "<html" in dashboard.text.lower()
        _sign_up_and_track(base_url, events=2)
        assert _ingested(base_url) == 2
        assert _dashboard_sessions_while_a_socket_is_open(base_url) == 1
    assert list(folder.iterdir()) == []  # everything went to the data dir
    assert (data_dir / "llmlab.db").is_file()
    assert list((data_dir / "tools").glob("node_modules/@oven/*/bin/bun"))  # installed by serve


def test_llmlab_serve_refuses_several_workers_without_redis(venv_bin, tmp_path):
    env = _clean_env(LLMLAB_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run(
        [str(venv_bin / "llmlab"), "serve", "--workers", "2"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("llmlab: --workers 2 needs LLMLAB_REDIS_URL")
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.fixture
def scratch_postgres_url() -> Iterator[str]:
    """A database of its own on the test server, dropped afterwards."""
    base = make_url(os.environ["LLMLAB_TEST_DATABASE_URL"])
    name = f"llmlab_deploy_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.skipif(
    not (os.environ.get("LLMLAB_TEST_DATABASE_URL") and os.environ.get("LLMLAB_TEST_REDIS_URL")),
    reason="needs LLMLAB_TEST_DATABASE_URL and LLMLAB_TEST_REDIS_URL (CI sets both)",
)
def test_llmlab_serve_runs_several_workers_on_postgresql_and_redis(
    venv_bin, tmp_path, scratch_postgres_url
):
    import redis

    redis_url = os.environ["LLMLAB_TEST_REDIS_URL"]
    redis.Redis.from_url(redis_url).flushdb()  # sessions and counters of earlier runs
    folder = tmp_path / "empty"
    folder.mkdir()
    env = _clean_env(
        LLMLAB_DATA_DIR=str(tmp_path / "data"),
        LLMLAB_DATABASE_URL=scratch_postgres_url,
        LLMLAB_REDIS_URL=redis_url,
        LLMLAB_METRICS_TOKEN=METRICS_TOKEN,
    )
    with serving(venv_bin, folder, env, "--workers", "2") as base_url:
        pids = {_get(f"{base_url}/health").json()["data"]["worker_pid"] for _ in range(60)}
        assert len(pids) == 2
        ready = _get(f"{base_url}/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["data"]["redis"] == "ok"
        _sign_up_and_track(base_url, events=10)
        # Whichever worker answers the scrape, it adds up both workers' counts.
        assert {_ingested(base_url) for _ in range(6)} == {10.0}
