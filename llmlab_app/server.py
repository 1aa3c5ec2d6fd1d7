"""Start LLMLab the way the README does: migrate, then serve dashboard + REST API on one port.

`python -m llmlab_app.server [--port 3000] [--host 0.0.0.0]` (also `llmlab serve`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

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


def serve(port: int = 3000, host: str = "0.0.0.0") -> int:
    """Run the app in the foreground until interrupted; returns Reflex's exit code."""
    from pydantic import ValidationError

    from llmlab_app.config import get_settings
    from llmlab_app.db.engine import migrate
    from llmlab_app.logs import database_url_for_display

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
        f"(database: {database_url_for_display(settings.resolved_database_url)})",
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
    try:
        return subprocess.call(command, cwd=REPO_ROOT, env=env)
    except KeyboardInterrupt:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--host", default="0.0.0.0")
    args = parser.parse_args()
    raise SystemExit(serve(port=args.port, host=args.host))


if __name__ == "__main__":
    main()
