"""P7 live dashboard sessions: N signed-in overview pages kept open over the app's own websocket
protocol while events are tracked; how long until each page shows each new event.

    .venv/bin/python bench/sessions.py [--sessions 1000] [--orgs 100] [--seconds 60]
                                       [--rate 1] [--workers 2] [--app-root DIR] [--quick]
                                       [--default-serve]

The server: `llmlab serve --workers 2` (the installed `llmlab` command) on PostgreSQL
(`LLMLAB_BENCH_SESSIONS_DATABASE_URL`, default the `bench_sessions` database on 127.0.0.1, its
schema dropped and migrated again) with Reflex state, rate limits and sessions in Redis
(`LLMLAB_BENCH_REDIS_URL`, default db 3 on 127.0.0.1, flushed). `--app-root` serves another
checkout (a "before"; results go to `sessions.before.json`).

The protocol is not written from memory: the run starts by driving headless Chromium through
the sign-in form and a reload of the overview, listening to the websocket frames it sends
(Playwright), and replays those frames: the socket.io connect carrying the boot
`hydrate_and_load` event with the browser's local storage (the session restore, with the
frontend's state hashes and schema), the sign-in form's event, and the page's live tick at the
page's own interval (the served app's `HEARTBEAT_S`; `LIVE_INTERVAL_S` in a checkout from
before the push, when the page polled). Each simulated session answers engine.io pings as a
browser does.

Data: `--orgs` accounts signed up through the REST API, each with its own organisation and 40
events over the last 20 days. Each account signs in once through the sign-in event (its
password checked like a browser's); its `sessions / orgs` pages then restore that session
(tabs sharing local storage), ramped in at `--ramp` pages/s (default 5: opening a page reads
the overview and the what-if panel). A page counts as open once it has shown its
organisation's "Calls" card; one not open within sessions/ramp + 120 s counts as dropped.

Measured for `--seconds`: events tracked through `POST /api/events/track` at `--rate` per
second, each to the next organisation in turn. An event is committed when its 2xx arrives; for
every open page of its organisation, event-to-screen = the arrival of the first state delta
whose Calls card counts it, minus that moment (p50/p95/p99 over all page x event pairs). After
the last event, `--grace` seconds for late deltas; a pair never shown counts as missed. A
session dropped = its websocket closed or failed, or it never opened. Server: RSS and CPU of
the whole process group (`/proc`), sampled each second; Redis `used_memory`; per session =
(with sessions - before sessions) / sessions. This client's own CPU is reported too: it shares
the machine's cores with the server.

`--default-serve`: what a user gets from plain `llmlab serve` with no settings, as the issue
measured it from outside: one backend, SQLite in the data folder, no Redis (Reflex state and
the change feed in the worker's memory). Results go to `sessions.default.json`.

Target (issue 20 §2): 1,000 sessions, p95 <= 5 s, none dropped, memory per session stated.
Writes bench/results/sessions.json (`sessions.quick.json` for --quick: 50 sessions, 20 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import harness
import httpx
import redis
import websockets
from harness import REPO_ROOT, free_port, percentile, write_results
from sqlalchemy import create_engine, make_url, text

sys.path.insert(0, str(REPO_ROOT / "tests" / "browser"))
from app_server import bun_path

TARGET_P95_S = 5.0
PASSWORD = "bench password 1"
DATABASE_URL = os.environ.get(
    "LLMLAB_BENCH_SESSIONS_DATABASE_URL",
    "postgresql+psycopg2://postgres@127.0.0.1:5432/bench_sessions",
)
REDIS_URL = os.environ.get("LLMLAB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
CHROMIUM = Path(os.environ.get("LLMLAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-sync"]
NAMESPACE = "/_event"
SEED_EVENTS = 40
OPEN_TIMEOUT_S = 120.0


# --- the server ---------------------------------------------------------------------------


def progress(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def reset_database() -> None:
    """An empty schema in the run's own database (created when missing), and Redis empty
    (not for `--default-serve`: its SQLite database is new in the run's data folder)."""
    url = make_url(DATABASE_URL)
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    server.dispose()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    redis.Redis.from_url(REDIS_URL).flushdb()


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str
    log: Path

    def processes(self) -> list[int]:
        """The server and every process under it (`llmlab serve` runs Reflex in a process
        group of its own, and Reflex its workers)."""
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += children.get(pid, [])
        return found

    def usage(self) -> tuple[float, float]:
        """(RSS MiB, CPU seconds) summed over the group."""
        rss_kib, ticks = 0, 0
        for pid in self.processes():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        rss_kib += int(line.split()[1])
            except OSError:
                continue
        return rss_kib / 1024, ticks / os.sysconf("SC_CLK_TCK")


def start_server(workers: int, data_dir: Path, *, default_serve: bool = False) -> Server:
    port = free_port()
    llmlab = Path(sys.executable).parent / "llmlab"
    services = (
        {}
        if default_serve
        else {
            "LLMLAB_DATABASE_URL": DATABASE_URL,
            "LLMLAB_REDIS_URL": REDIS_URL,
        }
    )
    inherited = {
        name: value
        for name, value in os.environ.items()
        if name not in ("LLMLAB_DATABASE_URL", "LLMLAB_REDIS_URL")
    }
    env = (
        inherited
        | services
        | {
            "PYTHONPATH": str(harness.APP_ROOT),
            "LLMLAB_DATA_DIR": str(data_dir),
            "LLMLAB_ENV": "development",
            # One machine plays every user: per-address limits would refuse most of them.
            "LLMLAB_AUTH_RATE_LIMIT": "100000/minute",
            "LLMLAB_RATE_LIMIT": "1000000/minute",
            "REFLEX_BUN_PATH": bun_path(),
            "REFLEX_CHECK_LATEST_VERSION": "false",
        }
    )
    log = data_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(llmlab), "serve", "--workers", str(workers), "--port", str(port)],
            cwd=harness.APP_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            # /health answers before the frontend is served: wait for the page too.
            healthy = httpx.get(f"{server.base_url}/health", timeout=2).status_code == 200
            page = httpx.get(f"{server.base_url}/signin", timeout=5, follow_redirects=True)
            if healthy and page.status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_server(server)
    raise TimeoutError(f"server not up:\n{log.read_text()[-3000:]}")


def stop_server(server: Server) -> None:
    """SIGTERM to `llmlab serve` (it stops Reflex's group), SIGKILL to whatever is left."""
    left = server.processes()
    try:
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server.process.wait()


def live_interval_s() -> float:
    """The served app's overview tick interval (its `rx.moment`): `HEARTBEAT_S` since the
    overview is pushed, `LIVE_INTERVAL_S` before (when it polled)."""
    code = (
        "from llmlab_app.ui.states import live; "
        "print(getattr(live, 'HEARTBEAT_S', None) or live.LIVE_INTERVAL_S)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=os.environ | {"PYTHONPATH": str(harness.APP_ROOT)},
        # `-c` puts the working folder first on the path: run it in the served checkout.
        cwd=harness.APP_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


# --- what a real browser sends ------------------------------------------------------------


@dataclass
class Protocol:
    """Frames captured from Chromium, with the session-specific parts made parameters."""

    restore_auth: dict[str, Any]  # the socket.io CONNECT payload of a reload of "/"
    session_var: str  # the local-storage var holding the session reference
    sign_in_event: str
    tick_event: str
    overview_state: str


def capture_protocol(base_url: str, email: str) -> Protocol:
    from playwright.sync_api import sync_playwright

    sent: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on(
            "websocket",
            lambda ws: ws.on(
                "framesent",
                lambda payload: sent.append(payload if isinstance(payload, str) else ""),
            ),
        )
        page.goto(f"{base_url}/signin")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base_url}/", timeout=60_000)
        page.locator("#card-calls").wait_for(timeout=60_000)
        page.reload()
        page.locator("#card-calls").wait_for(timeout=60_000)
        deadline = time.monotonic() + 60
        while not any(".poll" in frame for frame in sent) and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        browser.close()
    connects = [json.loads(f.split(",", 1)[1]) for f in sent if f.startswith(f"40{NAMESPACE},")]
    restore = next(c for c in connects if c["event"]["payload"].get("vars"))
    events = [json.loads(f.split(",", 1)[1])[1] for f in sent if f.startswith(f"42{NAMESPACE},")]
    sign_in = next(e["name"] for e in events if e["name"].endswith(".sign_in"))
    tick = next(e["name"] for e in events if e["name"].endswith(".poll"))
    session_var = next(name for name in restore["event"]["payload"]["vars"] if "session" in name)
    return Protocol(restore, session_var, sign_in, tick, tick.rsplit(".", 1)[0])


# --- the accounts and their data -----------------------------------------------------------


@dataclass
class Account:
    email: str
    api_key: str
    calls: int = 0  # what its Calls card shows once every event tracked so far is committed
    session_token: str = ""


def seed_accounts(base_url: str, count: int) -> list[Account]:
    accounts = []
    now = datetime.now(UTC)
    with httpx.Client(base_url=base_url, timeout=60) as client:
        for number in range(count):
            email = f"p7-{number}-{uuid.uuid4().hex[:6]}@bench.example"
            answer = client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
            answer.raise_for_status()
            key = answer.json()["data"]["api_key"]["key"]
            events = [
                {
                    "provider": "openai",
                    "model": random.choice(["gpt-4o", "gpt-4o-mini"]),
                    "input_tokens": random.randint(500, 5000),
                    "output_tokens": random.randint(50, 800),
                    "timestamp": (now - timedelta(hours=12 * i)).isoformat(),
                    "project": random.choice(["search", "support"]),
                }
                for i in range(SEED_EVENTS)
            ]
            client.post(
                "/api/events/track", json={"events": events}, headers={"X-API-Key": key}
            ).raise_for_status()
            accounts.append(Account(email, key))
    return accounts


# --- simulated pages ------------------------------------------------------------------------


def event_frame(name: str, payload: dict[str, Any], path: str = "/") -> str:
    body = {"name": name, "payload": payload, "router_data": {"pathname": path, "asPath": path}}
    return f"42{NAMESPACE}," + json.dumps(["event", body])


def ws_url(base_url: str) -> str:
    host = base_url.removeprefix("http://")
    return f"ws://{host}{NAMESPACE}/?token={uuid.uuid4()}&EIO=4&transport=websocket"


async def sign_in(base_url: str, protocol: Protocol, account: Account) -> None:
    """The sign-in form's event on a fresh /signin/ page: the session reference it returns."""
    boot = json.loads(json.dumps(protocol.restore_auth))
    boot["event"]["payload"] = {"hashes": boot["event"]["payload"].get("hashes", [])}
    boot["event"]["router_data"] = {"pathname": "/signin/", "asPath": "/signin/"}
    var = protocol.session_var.rsplit(".", 1)[1]
    async with websockets.connect(ws_url(base_url), max_size=None) as ws:
        await ws.recv()
        await ws.send(f"40{NAMESPACE}," + json.dumps(boot))
        form = {"__reflex_form_data__": [["email", account.email], ["password", PASSWORD]]}
        await ws.send(event_frame(protocol.sign_in_event, {"form_data": form}, "/signin/"))
        while not account.session_token:
            message = await asyncio.wait_for(ws.recv(), 60)
            if message == "2":
                await ws.send("3")
            elif var in message:
                for state in json.loads(message.split(",", 1)[1])[1].get("delta", {}).values():
                    account.session_token = state.get(var, "") or account.session_token


@dataclass
class Page:
    account: Account
    seen: list[tuple[float, int]] = field(default_factory=list)  # (when, calls shown)
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: str = ""
    messages: int = 0


def calls_shown(message: str, state_key: str) -> int | None:
    if "cards_rx_state_" not in message:
        return None
    body = json.loads(message.split(",", 1)[1])[1]
    cards = body.get("delta", {}).get(state_key, {}).get("cards_rx_state_")
    for card in cards or []:
        if card.get("key") == "calls":
            return int(card["value"].replace(",", ""))
    return None


async def keep_page_open(
    base_url: str, protocol: Protocol, page: Page, interval_s: float, stop: asyncio.Event
) -> None:
    boot = json.loads(json.dumps(protocol.restore_auth))
    boot["event"]["payload"]["vars"][protocol.session_var] = page.account.session_token
    try:
        # No WebSocket-level pings: a browser sends none (engine.io's own ping, answered
        # below, is what the server checks, with its 120 s timeout).
        connecting = websockets.connect(
            ws_url(base_url), max_size=None, open_timeout=60, ping_interval=None
        )
        async with connecting as ws:
            await ws.recv()  # engine.io open
            await ws.send(f"40{NAMESPACE}," + json.dumps(boot))
            ticker = asyncio.create_task(tick(ws, protocol, interval_s))
            try:
                while not stop.is_set():
                    try:
                        message = await asyncio.wait_for(ws.recv(), 1.0)
                    except TimeoutError:
                        continue
                    page.messages += 1
                    if message == "2":
                        await ws.send("3")
                        continue
                    shown = calls_shown(message, protocol.overview_state)
                    if shown is not None:
                        page.seen.append((time.monotonic(), shown))
                        page.opened.set()
            finally:
                ticker.cancel()
    except Exception as exc:  # websockets.ConnectionClosed, OSError, timeouts
        page.dropped = f"{type(exc).__name__}: {exc}"[:200]
        page.opened.set()


async def tick(ws: Any, protocol: Protocol, interval_s: float) -> None:
    """The page's `rx.moment` tick: every interval, from a random phase."""
    await asyncio.sleep(random.uniform(0, interval_s))
    while True:
        now = datetime.now().strftime("%H:%M:%S")
        await ws.send(event_frame(protocol.tick_event, {"_now": now}))
        await asyncio.sleep(interval_s)


# --- the run --------------------------------------------------------------------------------


@dataclass
class Tracked:
    account: Account
    calls: int  # the Calls card once this event is in
    committed_at: float


async def track_steadily(
    base_url: str,
    accounts: list[Account],
    rate: float,
    seconds: float,
    tracked: list[Tracked],
    failed: list[str],
) -> None:
    """One event every 1/rate s, each sent on time whatever the previous one's latency;
    each organisation's events are sent in order (its Calls count is what pages must show)."""
    locks = {id(account): asyncio.Lock() for account in accounts}

    async def track_one(client: httpx.AsyncClient, account: Account) -> None:
        async with locks[id(account)]:
            event = {"provider": "openai", "model": "gpt-4o-mini", "input_tokens": 1000}
            try:
                answer = await client.post(
                    "/api/events/track", json=event, headers={"X-API-Key": account.api_key}
                )
                answer.raise_for_status()
            except httpx.HTTPError as exc:
                # Not committed as far as this client knows (a timeout may still commit:
                # its pages then show a count one higher than expected, which counts too).
                failed.append(f"{type(exc).__name__}: {exc}"[:200])
                return
            account.calls += 1
            tracked.append(Tracked(account, account.calls, time.monotonic()))

    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        start, sending = time.monotonic(), []
        for number in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, start + number / rate - time.monotonic()))
            account = accounts[number % len(accounts)]
            sending.append(asyncio.create_task(track_one(client, account)))
        await asyncio.gather(*sending)


async def run_sessions(args: argparse.Namespace, server: Server, data: dict[str, Any]) -> None:
    base_url = server.base_url
    accounts = data["accounts"]
    protocol: Protocol = data["protocol"]
    interval_s = data["interval_s"]
    gate = asyncio.Semaphore(8)

    async def signed_in(account: Account) -> None:
        async with gate:
            await sign_in(base_url, protocol, account)

    started = time.monotonic()
    await asyncio.gather(*(signed_in(account) for account in accounts))
    data["sign_in_s"] = time.monotonic() - started
    progress(f"{len(accounts)} accounts signed in; opening pages")

    per_account = args.sessions // len(accounts)
    pages = [Page(accounts[i % len(accounts)]) for i in range(per_account * len(accounts))]
    stop = asyncio.Event()
    rss_before, _ = server.usage()
    redis_before = redis_memory(args)
    tasks = []
    started = time.monotonic()
    for number, page in enumerate(pages):
        await asyncio.sleep(max(0.0, started + number / args.ramp - time.monotonic()))
        tasks.append(
            asyncio.create_task(keep_page_open(base_url, protocol, page, interval_s, stop))
        )
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(
            asyncio.gather(*(page.opened.wait() for page in pages)),
            len(pages) / args.ramp + OPEN_TIMEOUT_S,
        )
    data["open_s"] = time.monotonic() - started
    never_opened = [page for page in pages if not page.seen and not page.dropped]
    progress(
        f"pages open: {len(pages) - len(never_opened)} of {len(pages)} (messages received by"
        f" the others: {sorted(page.messages for page in never_opened)[:20]}); tracking"
    )
    await asyncio.sleep(min(interval_s, 5))  # the ramp's last reads settle
    # The Calls card counts this month's calls: the seed spans 20 days, so start from what
    # the pages show.
    for page in pages:
        if page.seen:
            page.account.calls = max(page.account.calls, page.seen[-1][1])

    samples: list[tuple[float, float]] = []
    cpu_start = server.usage()[1]
    client_cpu_start, wall_start = time.process_time(), time.monotonic()

    async def sample() -> None:
        while True:
            samples.append(server.usage())
            await asyncio.sleep(1.0)

    sampler = asyncio.create_task(sample())
    tracked: list[Tracked] = []
    failed: list[str] = []
    await track_steadily(base_url, accounts, args.rate, args.seconds, tracked, failed)
    progress(f"{len(tracked)} events tracked; waiting {args.grace} s for late deltas")
    await asyncio.sleep(args.grace)
    wall = time.monotonic() - wall_start
    cpu_used = server.usage()[1] - cpu_start
    client_cpu = time.process_time() - client_cpu_start
    sampler.cancel()
    redis_after = redis_memory(args)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)

    latencies, missed = [], 0
    by_account: dict[int, list[Page]] = {}
    for page in pages:
        by_account.setdefault(id(page.account), []).append(page)
    for event in tracked:
        for page in by_account[id(event.account)]:
            if page.dropped or not page.seen:
                continue
            shown = next((when for when, calls in page.seen if calls >= event.calls), None)
            if shown is None:
                missed += 1
            else:
                latencies.append(max(0.0, shown - event.committed_at))
    rss = [rss for rss, _ in samples] or [rss_before]
    data["result"] = {
        "sessions": len(pages),
        "organisations": len(accounts),
        # Closed or failed, or never shown its data (each page counted once).
        "dropped": sum(1 for page in pages if page.dropped or page in never_opened),
        "drop_reasons": sorted({page.dropped for page in pages if page.dropped})[:5],
        "events_tracked": len(tracked),
        "events_failed": len(failed),
        "track_errors": sorted(set(failed))[:3],
        "pairs_measured": len(latencies),
        "pairs_missed": missed,
        "p50_s": percentile(latencies, 50),
        "p95_s": percentile(latencies, 95),
        "p99_s": percentile(latencies, 99),
        "max_s": max(latencies, default=float("nan")),
        "mean_s": statistics.fmean(latencies) if latencies else float("nan"),
        "server_rss_before_sessions_mib": rss_before,
        "server_rss_peak_mib": max(rss),
        "server_rss_per_session_kib": (statistics.fmean(rss) - rss_before) * 1024 / len(pages),
        "redis_per_session_kib": (redis_after - redis_before) / 1024 / len(pages),
        "server_cpu_cores": cpu_used / wall,
        "server_cpu_ms_per_session_s": cpu_used / wall / len(pages) * 1000,
        "client_cpu_cores": client_cpu / wall,
    }


def redis_memory(args: argparse.Namespace) -> int:
    if args.default_serve:
        return 0
    return redis.Redis.from_url(REDIS_URL).info("memory")["used_memory"]


def run(args: argparse.Namespace) -> dict[str, Any]:
    if not args.default_serve:
        reset_database()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="llmlab-p7-") as tmp:
        server = start_server(args.workers, Path(tmp), default_serve=args.default_serve)
        try:
            progress(f"server up at {server.base_url}; signing up {args.orgs} accounts")
            accounts = seed_accounts(server.base_url, args.orgs + 1)
            capture = accounts.pop()
            progress("capturing the protocol from Chromium")
            data: dict[str, Any] = {
                "accounts": accounts,
                "protocol": capture_protocol(server.base_url, capture.email),
                "interval_s": live_interval_s(),
            }
            progress(f"captured: tick {data['protocol'].tick_event} every {data['interval_s']} s")
            asyncio.run(run_sessions(args, server, data))
        finally:
            stop_server(server)
            kept = Path(tempfile.gettempdir()) / "llmlab-p7-server.log"
            kept.write_bytes(server.log.read_bytes())
            progress(f"server log kept in {kept}")
    result = data["result"] | {
        "quick": args.quick,
        "workers": args.workers,
        "setup": "default: SQLite, no Redis" if args.default_serve else "PostgreSQL + Redis",
        "rate_per_s": args.rate,
        "seconds": args.seconds,
        "tick_interval_s": data["interval_s"],
        "sign_in_s": data["sign_in_s"],
        "open_s": data["open_s"],
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "target_p95_s": TARGET_P95_S,
    }
    return result


def report(result: dict[str, Any]) -> None:
    r = result
    print(
        f"P7 {r['sessions']} sessions over {r['organisations']} organisations, "
        f"{r['workers']} workers ({r['setup']}), tick every {r['tick_interval_s']:g} s, "
        f"{r['events_tracked']} events at {r['rate_per_s']:g}/s "
        f"({r['events_failed']} track requests failed {r['track_errors']})"
    )
    print(
        f"  event-to-screen p50 {r['p50_s']:.2f} s  p95 {r['p95_s']:.2f} s  "
        f"p99 {r['p99_s']:.2f} s  max {r['max_s']:.2f} s  ({r['pairs_measured']} page x event "
        f"pairs, {r['pairs_missed']} missed)  target p95 <= {r['target_p95_s']:g} s"
    )
    print(f"  dropped sessions {r['dropped']}  {r['drop_reasons']}")
    print(
        f"  server rss {r['server_rss_before_sessions_mib']:.0f} MiB before sessions, peak "
        f"{r['server_rss_peak_mib']:.0f} MiB; per session {r['server_rss_per_session_kib']:.0f} "
        f"KiB + redis {r['redis_per_session_kib']:.1f} KiB"
    )
    print(
        f"  server cpu {r['server_cpu_cores']:.2f} cores ({r['server_cpu_ms_per_session_s']:.3f} "
        f"ms per session-second); this client {r['client_cpu_cores']:.2f} cores"
    )
    print(
        f"  sign-in of {r['organisations']} accounts {r['sign_in_s']:.1f} s, pages open in "
        f"{r['open_s']:.1f} s; load {r['load_before'][0]:.2f} before, "
        f"{r['load_after'][0]:.2f} after"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 sessions, 5 orgs, 20 s")
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--orgs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=1.0, help="tracked events per second")
    parser.add_argument("--ramp", type=float, default=5.0, help="pages opened per second")
    parser.add_argument("--grace", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--default-serve",
        action="store_true",
        help="plain `llmlab serve`: one worker, SQLite, no Redis",
    )
    harness.add_app_root_option(parser)
    args = parser.parse_args()
    harness.use_app_root(args.app_root)
    if args.quick:
        args.sessions, args.orgs, args.seconds, args.grace = 50, 5, 20, 10
    if args.default_serve:
        args.workers = 1
    result = run(args)
    report(result)
    name = "sessions.default" if args.default_serve else "sessions"
    print(f"  -> {write_results(name, result)}")


if __name__ == "__main__":
    main()
