"""P6 dashboard time to charts: open `/` until both overview charts are drawn, 1M events.

    .venv/bin/python bench/dashboard.py [--quick] [--events 1000000] [--navigations 15]

Data: a SQLite database in a temp data dir, migrated, then filled by the P3 generator
(bench/summary.py `seed_accounts` + `grow_events`, daily_spend derived from the events and
checked against them) with every event in the heavy user's account (`HEAVY_SHARE = 1`): 7
models, 3 projects, timestamps over the last 90 days (~29% of them in the current month, the
page's default range). The heavy user (user0@bench.example) gets a real password. Then the app
runs the way the README starts it (`tests/browser/app_server.running_app`: production build,
one port, one worker) and two more accounts are signed up through its REST API: "small" with a
month of demo traffic (tracked through the API, ~800 events) and "empty" with none. The heavy
and small accounts get one monthly budget each, so the budget bars are drawn too.

Measured: headless Chromium (Debian's, flags as the browser tests), each account signed in
through the sign-in form in its own browser context, one warm-up visit, then K visits to `/`,
the accounts taking turns. Every visit is a new tab (a new Reflex client token, so the server
reads the data again: a reload in the same tab would redraw the previous visit's state before
the new read arrives). Time = the Performance API clock of the new document (0 = navigation
start) when, for the first time, the cost-by-model bars
(`#cost-by-model-chart .barlayer .point`), the daily trend line (`#daily-trend-chart
.scatterlayer .trace`) and the range card showing the month's total (`#card-range
.card-value`, the text the services compute) are all in the DOM; a MutationObserver installed
before the page's own scripts records it. For the empty account: the "No LLM calls recorded
yet" hint. The wall time of the same visit (`time.perf_counter` around goto + wait) is kept
too, and so is each visit's timeline on the same clock: HTML received, DOMContentLoaded, load,
websocket open, arrival of the biggest websocket message (the state delta carrying the data),
the cards, the plotly chunk's download, each chart, and the main thread's long tasks.

Baselines of the same run: the small account (same page, same charts, ~1/1000 of the data)
for the ratio, and the empty account (same page shell and state load, no charts). Target:
p50 <= 2 s with 1M events.

Also timed, in this process on the same database file: each service call of the overview's
read (`llmlab_app/services/pages.read_overview`) and building + serialising the two plotly
figures the way Reflex does, per account: where the server's part of the time goes.

Writes bench/results/dashboard.json (`dashboard.quick.json` for --quick: ~20k events, 3
visits, ~30 s, mostly the app's production build).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import summary as generator
from harness import REPO_ROOT, percentile, write_results
from sqlalchemy import Engine, text

from llmlab_app.db.engine import get_session, make_engine, migrate
from llmlab_app.security import hash_password
from llmlab_app.services.permissions import Actor
from llmlab_app.ui.format import format_usd

sys.path.insert(0, str(REPO_ROOT / "tests" / "browser"))
from app_server import Api, demo_events, running_app

TARGET_P50_MS = 2_000.0
PASSWORD = "bench password 1"
HEAVY_EMAIL = "user0@bench.example"  # the generator's heavy user (summary.user_hex(0))
CHROMIUM = Path(os.environ.get("LLMLAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [  # the browser tests' flags (tests/browser/conftest.py)
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EMPTY_HINT = "No LLM calls recorded yet"

# Installed in every new document before the app's scripts: records, on the document's own
# clock (performance.now(), 0 = navigation start), when each part first appears.
OBSERVER_JS = """
(() => {
  const want = %s;
  const marks = (window.__p6 = {});
  const stamp = (name, present) => {
    if (!(name in marks) && present) marks[name] = performance.now();
  };
  const check = () => {
    const card = document.querySelector("#card-range .card-value");
    stamp("shell", document.querySelector("#apply-range"));
    if (want.empty) {
      const hint = document.body && document.body.textContent.includes(want.hint);
      stamp("data", hint);
      stamp("ready", hint);
      return;
    }
    stamp("data", card);
    stamp("total", card && card.textContent.trim() === want.total);
    stamp("bars", document.querySelector("#cost-by-model-chart .barlayer .point"));
    stamp("trend", document.querySelector("#daily-trend-chart .scatterlayer .trace"));
    stamp("ready", "total" in marks && "bars" in marks && "trend" in marks);
  };
  // The websocket's messages (Reflex's state deltas) and the main thread's long tasks.
  const messages = (window.__p6_messages = []);
  const Socket = window.WebSocket;
  window.WebSocket = class extends Socket {
    constructor(...args) {
      super(...args);
      this.addEventListener("open", () => stamp("ws_open", true));
      this.addEventListener("message", (event) => {
        const size = typeof event.data === "string" ? event.data.length : event.data.size;
        messages.push([performance.now(), size || 0]);
      });
    }
  };
  const tasks = (window.__p6_tasks = []);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) tasks.push([e.startTime, e.duration]);
  }).observe({type: "longtask", buffered: true});
  new MutationObserver(check).observe(document, {childList: true, subtree: true,
                                                 characterData: true});
})();
"""


# --- data -----------------------------------------------------------------------------------


def build_database(url: str, events: int, now: datetime) -> dict[str, Any]:
    """Migrated database with `events` events, all the generator's heavy user's."""
    engine = make_engine(url)
    migrate(engine)
    generator.seed_accounts(engine, now)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE users SET password_hash = :hash WHERE id = :id"),
            {"hash": hash_password(PASSWORD), "id": generator.user_hex(0)},
        )
    generator.HEAVY_SHARE = 1  # every generated event is the heavy user's
    began = time.perf_counter()
    generator.grow_events(engine, 0, events, now)
    generate_s = time.perf_counter() - began
    total, rollup_rows = generator.check_consistent(engine)
    engine.dispose()
    assert total == events, (total, events)
    return {"events": total, "daily_spend_rows": rollup_rows, "generate_s": round(generate_s, 1)}


def owner_actor(engine: Engine, email: str) -> Actor:
    """The user with this email acting in their personal organisation."""
    from llmlab_app.services.orgs import actor_for_user_id

    with engine.connect() as connection:
        found = connection.execute(text("SELECT id FROM users WHERE email = :e"), {"e": email})
        user_id = uuid.UUID(str(found.scalar_one()))
    with get_session(engine) as session:
        return actor_for_user_id(session, user_id=user_id)


def add_budget(engine: Engine, owner: Actor) -> None:
    from llmlab_app.services import budgets

    with get_session(engine) as session:
        budgets.create_budget(
            session, actor=owner, name="Monthly", amount_usd=Decimal(100), period="monthly"
        )


def month_total(engine: Engine, owner: Actor) -> tuple[str, int]:
    """The range card's text for the default range (this month) and the calls in it."""
    from llmlab_app.services import spend

    with get_session(engine) as session:
        totals = spend.summarize_spend(session, org_id=owner.org_id).totals
    return format_usd(totals.cost_usd), totals.calls


# --- browser --------------------------------------------------------------------------------


def sign_in(browser: Any, base_url: str, email: str, want: dict[str, Any]) -> Any:
    """A browser context signed in through the form, like the browser tests do."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=base_url)
    context.set_default_timeout(120_000)
    context.add_init_script(OBSERVER_JS % json.dumps(want))
    page = context.new_page()
    page.goto("/signin")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_url(f"{base_url}/")
    page.wait_for_function("() => window.__p6 && 'ready' in window.__p6")
    page.close()
    return context


def visit(context: Any) -> dict[str, float]:
    """One new tab opening `/`: the page's own marks (ms) and the wall time around it."""
    page = context.new_page()
    began = time.perf_counter()
    page.goto("/", wait_until="commit")
    page.wait_for_function("() => window.__p6 && 'ready' in window.__p6")
    wall_ms = (time.perf_counter() - began) * 1000
    found = page.evaluate(
        """() => {
          const nav = performance.getEntriesByType("navigation")[0];
          const plotly = performance.getEntriesByType("resource")
            .filter((e) => e.name.includes("plotly"));
          return {marks: Object.assign({html: nav.responseEnd, dom_content_loaded:
                    nav.domContentLoadedEventEnd, load: nav.loadEventEnd}, window.__p6),
                  messages: window.__p6_messages, tasks: window.__p6_tasks,
                  plotly: plotly.map((e) => [e.startTime, e.responseEnd])};
        }"""
    )
    marks = found["marks"]
    if found["messages"]:  # the biggest message is the state delta carrying the data
        marks["delta"], marks["delta_bytes"] = max(found["messages"], key=lambda m: m[1])
    if found["plotly"]:
        marks["plotly_js_start"], marks["plotly_js_end"] = found["plotly"][0]
    tasks = found["tasks"]
    marks["long_tasks_ms"] = sum(duration for _, duration in tasks)
    marks["long_tasks_after_data_ms"] = sum(
        duration for start, duration in tasks if start >= marks.get("data", 0)
    )
    page.close()
    return {**{k: round(v, 1) for k, v in marks.items()}, "wall": round(wall_ms, 1)}


def measure_pages(
    base_url: str, accounts: dict[str, dict[str, Any]], navigations: int
) -> dict[str, list[dict[str, float]]]:
    from playwright.sync_api import sync_playwright

    visits: dict[str, list[dict[str, float]]] = {name: [] for name in accounts}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        contexts = {
            name: sign_in(browser, base_url, account["email"], account["want"])
            for name, account in accounts.items()
        }
        for context in contexts.values():
            visit(context)  # warm-up: server caches, Chromium's HTTP cache, SQLite pages
        for _ in range(navigations):
            for name, context in contexts.items():  # taking turns: drift hits every case
                visits[name].append(visit(context))
        browser.close()
    return visits


def page_figures(runs: list[dict[str, float]]) -> dict[str, Any]:
    ready = [run["ready"] for run in runs]
    names = [name for name in runs[0] if name != "wall" and all(name in run for run in runs)]
    marks = {name: round(statistics.median(run[name] for run in runs), 1) for name in names}
    return {
        "p50_ms": round(percentile(ready, 50), 1),
        "max_ms": round(max(ready), 1),
        "wall_p50_ms": round(percentile([run["wall"] for run in runs], 50), 1),
        "wall_max_ms": round(max(run["wall"] for run in runs), 1),
        "median_marks_ms": marks,
        "visits": runs,
    }


# --- server-side breakdown ------------------------------------------------------------------


def overview_breakdown(engine: Engine, owner: Actor, reps: int) -> dict[str, float]:
    """Median ms of each service call of the overview's read, of the whole read in one session,
    and of building + serialising its two figures (Reflex: plotly `to_json`, `json.loads`)."""
    from plotly.io import to_json

    from llmlab_app.services import budgets, projects, savings, spend
    from llmlab_app.services.pages import read_overview
    from llmlab_app.ui.figures import cost_by_model_figure, daily_trend_figure
    from llmlab_app.ui.states.overview import chart_inputs

    today = datetime.now(UTC).date()

    def figures(session: Any) -> None:
        data = read_overview(
            session, org_id=owner.org_id, start=None, end=None, project=None, today=today
        )
        models, days, forecast = chart_inputs(data, datetime.now(UTC))
        began = time.perf_counter()
        for figure in (cost_by_model_figure(models), daily_trend_figure(days, forecast)):
            json.loads(str(to_json(figure)))
        timings.setdefault("figures: build + serialise both", []).append(
            (time.perf_counter() - began) * 1000
        )

    steps: dict[str, Callable[[Any], Any]] = {
        "summarize_spend (month)": lambda s: spend.summarize_spend(s, org_id=owner.org_id),
        "summarize_spend (today)": lambda s: spend.summarize_spend(
            s, org_id=owner.org_id, start=today, end=today
        ),
        "forecast_period": lambda s: spend.forecast_period(
            s, org_id=owner.org_id, period="monthly", today=today
        ),
        "budget_statuses": lambda s: budgets.budget_statuses(s, org_id=owner.org_id),
        "list_recommendations": lambda s: savings.list_recommendations(s, org_id=owner.org_id),
        "list_projects": lambda s: projects.list_projects(s, org_id=owner.org_id),
        "read_overview (all of it, one session)": lambda s: read_overview(
            s, org_id=owner.org_id, start=None, end=None, project=None, today=today
        ),
    }
    timings: dict[str, list[float]] = {}
    for rep in range(reps + 1):
        for name, step in steps.items():
            with get_session(engine) as session:
                began = time.perf_counter()
                step(session)
                elapsed = (time.perf_counter() - began) * 1000
            if rep:  # the first round warms caches (prebuilt statements, SQLite pages)
                timings.setdefault(name, []).append(elapsed)
        with get_session(engine) as session:
            figures(session)
    timings["figures: build + serialise both"].pop(0)
    return {name: round(statistics.median(values), 2) for name, values in timings.items()}


# --- run ------------------------------------------------------------------------------------


def reflex_already_running() -> bool:
    """Another Reflex app of this checkout would share `.web/` with ours."""
    found = subprocess.run(
        ["pgrep", "-f", "llmlab_app.server|reflex run"], capture_output=True, text=True
    )
    for pid in found.stdout.split():
        try:
            if Path(os.readlink(f"/proc/{pid}/cwd")) == REPO_ROOT:
                return True
        except OSError:
            continue
    return False


def run(events: int, navigations: int, reps: int) -> dict[str, Any]:
    # The app's last workers can still be writing Reflex states under data/ as it stops.
    with tempfile.TemporaryDirectory(prefix="llmlab-bench-", ignore_cleanup_errors=True) as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        url = f"sqlite:///{data_dir / 'llmlab.db'}"  # the file running_app points the app at
        now = datetime.now(UTC).replace(microsecond=0)
        data = build_database(url, events, now)
        engine = make_engine(url)
        with running_app(data_dir) as base_url:
            api = Api(base_url)
            emails = {"small": "small@example.com", "empty": "empty@example.com"}
            keys = {
                name: api.signup(email, PASSWORD)["api_key"]["key"]
                for name, email in emails.items()
            }
            small_events = api.track(keys["small"], demo_events(now))["events"]
            owners = {
                "heavy": owner_actor(engine, HEAVY_EMAIL),
                **{name: owner_actor(engine, email) for name, email in emails.items()},
            }
            add_budget(engine, owners["heavy"])
            add_budget(engine, owners["small"])
            accounts: dict[str, dict[str, Any]] = {}
            for name, email in (("heavy", HEAVY_EMAIL), ("small", emails["small"])):
                total, calls = month_total(engine, owners[name])
                accounts[name] = {"email": email, "want": {"total": total}, "month_calls": calls}
            accounts["empty"] = {
                "email": emails["empty"],
                "want": {"empty": True, "hint": EMPTY_HINT},
                "month_calls": 0,
            }
            visits = measure_pages(base_url, accounts, navigations)
            breakdown = {
                name: overview_breakdown(engine, owners[name], reps) for name in ("heavy", "small")
            }
        engine.dispose()
    pages = {name: page_figures(runs) for name, runs in visits.items()}
    for name, account in accounts.items():
        pages[name] |= {
            "month_calls": account["month_calls"],
            "card_total": account["want"].get("total"),
        }
    heavy, small, empty = pages["heavy"], pages["small"], pages["empty"]
    return {
        "data": data | {"small_account_events": len(small_events)},
        "pages": pages,
        "ratio_to_small": round(heavy["p50_ms"] / small["p50_ms"], 2),
        "ratio_to_empty": round(heavy["p50_ms"] / empty["p50_ms"], 2),
        "small_ratio_to_empty": round(small["p50_ms"] / empty["p50_ms"], 2),
        "server_breakdown_ms": breakdown,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="~20k events, 3 visits (~30 s)")
    parser.add_argument("--events", type=int, default=None, help="default 1,000,000")
    parser.add_argument("--navigations", type=int, default=None, help="timed visits per account")
    args = parser.parse_args()
    if reflex_already_running():
        raise SystemExit("another Reflex app is running in this checkout (they share .web/)")
    events = args.events or (20_000 if args.quick else 1_000_000)
    navigations = args.navigations or (3 if args.quick else 15)
    reps = 5 if args.quick else 20

    result = run(events, navigations, reps)
    pages = result["pages"]
    print(
        f"P6 dashboard: new tab -> `/` until both charts and the month total are drawn, "
        f"headless Chromium, {navigations} visits per account after a warm-up"
    )
    labels = {
        "heavy": f"heavy ({result['data']['events']:,} events)",
        "small": f"small ({result['data']['small_account_events']:,} events, baseline)",
        "empty": "empty (no events, floor)",
    }
    for name, figures in pages.items():
        marks = figures["median_marks_ms"]
        print(
            f"{labels[name]:<34} p50 {figures['p50_ms']:7.1f} ms  max {figures['max_ms']:7.1f} ms"
            f"   wall p50 {figures['wall_p50_ms']:7.1f} ms   "
            f"(html {marks['html']:.0f}, shell {marks['shell']:.0f}, data {marks['data']:.0f})"
        )
    met = pages["heavy"]["p50_ms"] <= TARGET_P50_MS
    print(
        f"heavy / small = {result['ratio_to_small']:.2f}   heavy / empty = "
        f"{result['ratio_to_empty']:.2f}   small / empty = {result['small_ratio_to_empty']:.2f}"
        f"   target: p50 <= {TARGET_P50_MS:,.0f} ms -> {'met' if met else 'MISSED'}"
    )
    print("server side, median ms in this process (heavy / small):")
    heavy, small = result["server_breakdown_ms"]["heavy"], result["server_breakdown_ms"]["small"]
    for step, ms in heavy.items():
        print(f"  {step:<40} {ms:8.2f} / {small[step]:8.2f}")
    write_results(
        "dashboard",
        {
            "benchmark": "P6 dashboard time to charts",
            "quick": args.quick,
            "navigations": navigations,
            "target_p50_ms": TARGET_P50_MS,
            "target_met": met,
            "today": datetime.now(UTC).date().isoformat(),
            "results": result,
        },
    )


if __name__ == "__main__":
    main()
