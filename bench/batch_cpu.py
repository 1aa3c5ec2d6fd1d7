"""P2 in CPU instructions (callgrind): what a 1,000-event batch costs the app against the raw
insert of the same rows, counted rather than timed, for a machine too busy to time.

    .venv/bin/python bench/batch_cpu.py [--batches 4] [--app-root DIR]

Each figure is one child process under `valgrind --tool=callgrind --instr-atstart=no` that
sets up first (imports, migrations, sign-up, one warm-up batch; not counted) and switches
counting on (`callgrind_control -i on`) only around the measured work:
- app: `POST /api/events/track` with 1,000 events through the real ASGI app in-process (the
  event loop and the ingest writer thread, SQLite; no HTTP server, the client is starlette's
  TestClient, ~0.3 us per event);
- bare: the same requests to `bare_app.py` (FastAPI validating the batch, storing nothing);
- raw: `sqlite3` executemany of the same priced rows, 1,000 per transaction, WAL,
  synchronous=NORMAL, on the same migrated schema (as `batch_ingest.py`).
Instructions are not time (a cache miss or an fsync costs no instructions), but on a machine
whose wall clock moves by 2x between runs they compare two versions of the code reliably.
`ratio` is raw / app, the instruction analogue of P2's same-run ratio.

Writes bench/results/batch_cpu.json (batch_cpu.before.json with --app-root).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import harness
from harness import BENCH_DIR, add_app_root_option, app_env, use_app_root, write_results

MODES = ("app", "bare", "raw")


def count(mode: str, batches: int) -> int:
    """Instructions of `batches` batches in `mode`, from a child under callgrind."""
    with tempfile.TemporaryDirectory(prefix="llmlab-cpu-") as tmp:
        out = Path(tmp) / "callgrind.out"
        env = os.environ | {"PYTHONPATH": f"{harness.APP_ROOT}:{BENCH_DIR}"}
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                "--child",
                mode,
                str(batches),
                tmp,
            ],
            env=env,
            cwd=harness.APP_ROOT,
            check=True,
            capture_output=True,
        )
        totals = [line for line in out.read_text().splitlines() if line.startswith("totals:")]
        return int(totals[0].split()[1])


def _counting(on: bool) -> None:
    subprocess.run(
        ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
        check=True,
        capture_output=True,
    )


def child(mode: str, batches: int, tmp: Path) -> None:
    from batch_ingest import BATCH, COLUMNS, _sqlite_value, make_batches, migrated, stored_rows

    events = make_batches(batches + 1)
    if mode == "raw":
        import sqlite3

        path = tmp / "raw.db"
        org_id = migrated(f"sqlite:///{path}")
        rows = [
            [tuple(_sqlite_value(name, row[name]) for name in COLUMNS) for row in batch]
            for batch in stored_rows(events, org_id)
        ]
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        names = ", ".join(COLUMNS)
        sql = f"INSERT INTO cost_events ({names}) VALUES ({', '.join('?' for _ in COLUMNS)})"
        for index, batch in enumerate(rows):
            if index == 1:
                _counting(True)
            connection.execute("BEGIN")
            connection.executemany(sql, batch)
            connection.execute("COMMIT")
        _counting(False)
        stored = connection.execute("SELECT count(*) FROM cost_events").fetchone()[0]
        assert stored == len(rows) * BATCH
        return

    os.environ.update(app_env(tmp, f"sqlite:///{tmp / 'llmlab.db'}"))
    from starlette.testclient import TestClient

    if mode == "app":
        from llmlab_app.api.main import create_app

        app: Any = create_app()
    else:
        from bare_app import app
    bodies = [json.dumps({"events": batch}).encode() for batch in events]
    with TestClient(app) as client:
        headers = {"Content-Type": "application/json"}
        if mode == "app":
            signed_up = client.post(
                "/api/auth/signup",
                json={"email": "cpu@example.com", "password": "bench password 1"},
            )
            key = signed_up.json()["data"]["api_key"]["key"]
            headers["Authorization"] = f"Bearer {key}"
        for index, body in enumerate(bodies):
            if index == 1:
                _counting(True)
            response = client.post("/api/events/track", content=body, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(response.text)
        _counting(False)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=4)
    add_app_root_option(parser)
    args = parser.parse_args()
    use_app_root(args.app_root)
    per_event = {mode: count(mode, args.batches) / (args.batches * 1_000) for mode in MODES}
    result = {
        "batches": args.batches,
        "instructions_per_event": {mode: round(value) for mode, value in per_event.items()},
        "ratio": round(per_event["raw"] / per_event["app"], 3),
        "ratio_to_bare_plus_raw": round(
            (per_event["bare"] + per_event["raw"]) / per_event["app"], 3
        ),
    }
    print(json.dumps(result, indent=2))
    write_results("batch_cpu", result)


if __name__ == "__main__":
    main()
