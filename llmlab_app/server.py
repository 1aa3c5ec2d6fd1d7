"""Start LLMLab the way the README does: migrate, then serve dashboard + REST API on one port.

`python -m llmlab_app.server [--port 3000] [--host 127.0.0.1] [--workers N]` (also
`llmlab serve`). It listens on this machine only unless `--host` says otherwise (`--host
0.0.0.0` for a server). Runs from an installed package as well as from a clone: Reflex runs in
a folder of the data dir (`<LLMLAB_DATA_DIR>/app`), never in site-packages.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

RUN_DIR_NAME = "app"
METRICS_DIR_NAME = "metrics"
TOOLS_DIR_NAME = "tools"
RXCONFIG = """# Written by `llmlab serve` at every start: Reflex reads its config from the folder it
# runs in.
from llmlab_app.reflex_config import reflex_config

config = reflex_config()
"""


class CannotServe(Exception):
    """A setting or the machine stops the server from starting; the message says why."""


DEFAULT_HOST = "127.0.0.1"


def serve(port: int = 3000, host: str = DEFAULT_HOST, workers: int | None = None) -> int:
    """Migrate, then run the app in the foreground until interrupted; returns Reflex's exit
    code, or 1 after one line on stderr when the server cannot start."""
    try:
        command, run_dir, env = _prepare(port=port, host=host, workers=workers)
    except CannotServe as exc:
        print(f"llmlab: {exc}", file=sys.stderr)
        return 1
    return run_until_stopped(command, cwd=run_dir, env=env)


def _prepare(
    *, port: int, host: str, workers: int | None
) -> tuple[list[str], Path, dict[str, str]]:
    from pydantic import ValidationError
    from sqlalchemy.exc import OperationalError

    from llmlab_app.bun import BunUnavailable, install_bun
    from llmlab_app.config import get_settings
    from llmlab_app.db.engine import migrate
    from llmlab_app.logs import database_url_for_display

    try:
        settings = get_settings()
    except ValidationError as exc:
        raise CannotServe(exc.errors()[0]["msg"].removeprefix("Value error, ")) from exc
    workers = backend_workers(workers, redis_url=settings.redis_url)
    database_url = absolute_database_url(settings.resolved_database_url)
    data_dir = settings.data_dir.resolve()
    try:
        migrate()
    except OperationalError as exc:
        raise CannotServe(f"cannot reach the database: {exc.orig}") from exc
    try:
        bun = os.environ.get("REFLEX_BUN_PATH") or str(install_bun(data_dir / TOOLS_DIR_NAME))
    except BunUnavailable as exc:
        raise CannotServe(str(exc)) from exc
    run_dir = prepare_run_dir(data_dir)
    env = (
        os.environ
        | _code_path()
        | {
            "LLMLAB_DATA_DIR": str(data_dir),
            "LLMLAB_DATABASE_URL": database_url,
            "REFLEX_BUN_PATH": bun,
            "REFLEX_CHECK_LATEST_VERSION": "false",
            # Reflex's backend server reads it; without it, Redis alone means 2 x cores + 1.
            "GRANIAN_WORKERS": str(workers),
            "PROMETHEUS_MULTIPROC_DIR": str(fresh_metrics_dir(data_dir)),
        }
    )
    print(
        f"LLMLab: dashboard and REST API at http://localhost:{port}  "
        f"(database: {database_url_for_display(settings.resolved_database_url)}; "
        f"{workers} worker{'s' if workers > 1 else ''})",
        flush=True,
    )
    command = [
        sys.executable,
        "-m",
        "reflex",
        "run",
        "--env",
        "prod",
        "--frontend-port",
        str(port),
        "--backend-port",
        str(port),
        "--backend-host",
        host,
    ]
    return command, run_dir, env


def backend_workers(requested: int | None, *, redis_url: str | None) -> int:
    """`--workers`, else GRANIAN_WORKERS (which Reflex reads), else 1. Several workers share
    dashboard sessions and rate limits through Redis, so more than one needs a Redis URL."""
    if requested is None:
        raw = os.environ.get("GRANIAN_WORKERS", "1")
        try:
            requested = int(raw)
        except ValueError:
            raise CannotServe(f"GRANIAN_WORKERS must be a whole number, not {raw!r}") from None
    if requested < 1:
        raise CannotServe(f"--workers must be at least 1, not {requested}")
    if requested > 1 and not redis_url:
        raise CannotServe(
            f"--workers {requested} needs LLMLAB_REDIS_URL: several workers share dashboard "
            "sessions and rate limits through Redis (see docs/deploy.md)"
        )
    return requested


def _code_path() -> dict[str, str]:
    """PYTHONPATH naming the folder that holds `llmlab_app`, unless that is site-packages.

    Reflex looks for the app module by walking the folders of `sys.path` (not through the
    import system), so in a clone it misses a package found by an editable install's import
    hook, or through the working directory, which the child does not share."""
    import site

    from llmlab_app.package_files import PACKAGE_DIR

    code_root = PACKAGE_DIR.parent
    site_dirs = [*site.getsitepackages(), site.getusersitepackages()]
    if any(Path(folder).resolve() == code_root for folder in site_dirs):
        return {}
    inherited = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": os.pathsep.join([str(code_root), *([inherited] if inherited else [])])}


def absolute_database_url(url: str) -> str:
    """The URL with a relative SQLite path made absolute: Reflex runs in another folder."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database
    if not parsed.drivername.startswith("sqlite") or not database or database == ":memory:":
        return url
    if database.startswith("file:") or Path(database).is_absolute():
        return url
    return parsed.set(database=str(Path(database).resolve())).render_as_string(hide_password=False)


def prepare_run_dir(data_dir: Path) -> Path:
    """The folder Reflex runs in: `rxconfig.py` and the frontend lock files, written afresh
    from the package at every start (an upgrade brings its own), beside Reflex's own `.web/`
    (the frontend build) and `.states/`."""
    from llmlab_app.package_files import frontend_lock_dir

    # Made here first, the data folder (database, JWT secret, states) would get the umask's
    # 0755 and the database's own check would warn about it.
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    run_dir = data_dir / RUN_DIR_NAME
    run_dir.mkdir(exist_ok=True)
    (run_dir / "rxconfig.py").write_text(RXCONFIG)
    lock_dir = run_dir / "reflex.lock"
    shutil.rmtree(lock_dir, ignore_errors=True)
    shutil.copytree(
        frontend_lock_dir(), lock_dir, ignore=shutil.ignore_patterns("__pycache__", "*.py*")
    )
    return run_dir


def fresh_metrics_dir(data_dir: Path) -> Path:
    """PROMETHEUS_MULTIPROC_DIR for this run: emptied, because prometheus-client would add
    the counters of an earlier run's processes to this one's."""
    path = data_dir / METRICS_DIR_NAME
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STOP_GRACE_SECONDS = 6.0


def run_until_stopped(command: list[str], *, cwd: Path, env: dict[str, str]) -> int:
    """Run `command` in its own process group and stop the whole group when this process is
    asked to stop: `reflex run` starts servers of its own, which a signal to it alone left
    serving the port. They get SIGTERM, then SIGKILL after a grace period."""
    child = subprocess.Popen(
        command,
        cwd=cwd,
        env=env | REFLEX_OUTPUT_ENV,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    threading.Thread(target=_relay_output, args=(child.stdout,), daemon=True).start()
    stopping: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.append(signum)
        _signal_group(child.pid, signal.SIGTERM)

    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    deadline: float | None = None
    try:
        while (code := child.poll()) is None:
            if stopping and deadline is None:
                deadline = time.monotonic() + STOP_GRACE_SECONDS
            if deadline is not None and time.monotonic() > deadline:
                _signal_group(child.pid, signal.SIGKILL)
            time.sleep(0.1)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _signal_group(child.pid, signal.SIGTERM)  # what the child left behind, if anything
    return 0 if stopping else code


# Reflex's advice is for Reflex projects, not for this product: it runs its build with bun
# (`--bun`) whatever Node.js is installed, and `reflex init`'s next steps do not apply.
UNTRUE_FOR_LLMLAB = (
    "of Node.js is out of date",
    "uv run reflex",
    "uv pip install",
    # Reflex's advice after writing requirements.txt into the run folder.
    "Install dependencies from `requirements.txt`",
)
# The Node.js warning's tail when the terminal wraps it.
UNTRUE_LINES = ("higher.",)
REFLEX_OUTPUT_ENV = {"COLUMNS": str(shutil.get_terminal_size().columns)}


def _relay_output(stream: IO[bytes] | None) -> None:
    """Copy the child's output to ours, less the lines that are not true of LLMLab."""
    if stream is None:
        return
    out = sys.stdout.buffer
    for line in stream:
        text = line.decode(errors="replace")
        untrue = text.strip() in UNTRUE_LINES or any(m in text for m in UNTRUE_FOR_LLMLAB)
        if not untrue:
            out.write(line)
            out.flush()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="interface to listen on (default: this machine only; 0.0.0.0 for every one)",
    )
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    raise SystemExit(serve(port=args.port, host=args.host, workers=args.workers))


if __name__ == "__main__":
    main()
