"""Start LLMLab the way the README does: migrate, then serve dashboard + REST API on one port.

`python -m llmlab_app.server [--port 3000] [--host 127.0.0.1]` (also `llmlab serve`). It
listens on this machine only unless `--host` says otherwise (`--host 0.0.0.0` for a server).
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

REPO_ROOT = Path(__file__).resolve().parents[1]


def bun_path() -> str:
    """bun from the npm registry (Reflex's own installer needs the open internet)."""
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "install_bun.sh")],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip().splitlines()[-1]


DEFAULT_HOST = "127.0.0.1"


def serve(port: int = 3000, host: str = DEFAULT_HOST) -> int:
    """Run the app in the foreground until interrupted; returns Reflex's exit code."""
    from pydantic import ValidationError

    from llmlab_app.config import get_settings
    from llmlab_app.db.engine import migrate

    try:
        settings = get_settings()
    except ValidationError as exc:
        print(f"llmlab: {exc.errors()[0]['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return 1
    migrate()
    env = os.environ | {
        "REFLEX_BUN_PATH": os.environ.get("REFLEX_BUN_PATH") or bun_path(),
        "REFLEX_CHECK_LATEST_VERSION": "false",
    }
    print(
        f"LLMLab: dashboard and REST API at http://localhost:{port}  "
        f"(database: {settings.resolved_database_url})",
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
    return run_until_stopped(command, cwd=REPO_ROOT, env=env)


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
UNTRUE_FOR_LLMLAB = ("of Node.js is out of date", "uv run reflex", "uv pip install")
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
    args = parser.parse_args()
    raise SystemExit(serve(port=args.port, host=args.host))


if __name__ == "__main__":
    main()
