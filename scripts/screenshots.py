"""Take a PNG of every dashboard page with demo data, into docs/screenshots/.

Rerunnable: starts its own app on a temp database (or uses --base-url), signs up a demo user
through the REST API, sends a month of demo events, a few budgets (two with webhooks: one
to a local receiver that accepts, one to a closed port) and a price override, and a shared
organisation with two teammates who joined by invitation and one invitation pending; signs in
through the sign-in page and photographs each page: on a desktop window (`<page>.png`, 1440 px
wide unless --width says) and on a phone (`phone-<page>.png`, 390 x 844, plus the open menu).
The Members and Audit pages are taken in the shared organisation, chosen with the switcher.

    .venv/bin/python scripts/screenshots.py [--base-url http://127.0.0.1:3000] [--dark]
        [--width 1024 --out /tmp/shots-1024] [--no-phone]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "browser"))

from app_server import Api, demo_events, free_port, running_app, utc_now  # noqa: E402
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

OUT_DIR = REPO_ROOT / "docs" / "screenshots"
PAGES = [
    ("overview", "/"),
    ("events", "/events"),
    ("budgets", "/budgets"),
    ("keys", "/keys"),
    ("settings", "/settings"),
]
# Taken after switching to the shared organisation.
TEAM_PAGES = [("members", "/members"), ("audit", "/audit")]
TEAM_NAME = "Acme AI"
PHONE_VIEWPORT = {"width": 390, "height": 844}
PASSWORD = "demo-password-1"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-sync"]


class _AcceptingReceiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def webhook_receiver() -> Iterator[str]:
    """A local endpoint that accepts every webhook POST; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AcceptingReceiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/slack"
    finally:
        server.shutdown()


def seed(api: Api, webhook_url: str) -> str:
    """A demo account with three budgets and a month of events; returns its email."""
    email = f"demo-{int(time.time())}@example.com"
    account = api.signup(email, PASSWORD)
    token, key = account["access_token"], account["api_key"]["key"]
    # Budgets first, so tracking the events crosses their thresholds and records alerts.
    for project in ("support-bot", "code-review"):
        api.create_project(token, project)
    budgets = [
        api.create_budget(token, name="All models, monthly", amount_usd="400", period="monthly"),
        # Tight enough that the page shows the warning and the exceeded colours too. Their
        # webhooks: a closed port (the log shows a retry and its error) and the receiver.
        api.create_budget(
            token,
            name="Support bot",
            amount_usd="14",
            period="monthly",
            project="support-bot",
            webhook_url=f"http://127.0.0.1:{free_port()}/hooks/llmlab",
        ),
        api.create_budget(
            token,
            name="Code review, daily",
            amount_usd="1",
            period="daily",
            project="code-review",
            webhook_url=webhook_url,
        ),
    ]
    api.track(key, demo_events(utc_now()))
    api.create_price_override(
        token,
        provider="openai",
        model="ft:gpt-4o-mini:acme:support",
        input_per_mtok="0.30",
        output_per_mtok="1.20",
        cache_read_per_mtok="0.15",
    )
    wait_for_first_webhook_attempts(api, key, [b["id"] for b in budgets])
    seed_team(api, token, email)
    return email


def seed_team(api: Api, token: str, owner_email: str) -> None:
    """A shared organisation of the demo user: an admin and a viewer (later a member) who
    joined by invitation, an invitation still pending, a key and a budget of its own."""
    owner = {"Authorization": f"Bearer {token}"}
    org_id = api.client.post("/api/orgs", json={"name": TEAM_NAME}, headers=owner).json()
    org_id = org_id["data"]["id"]
    in_org = owner | {"X-LLMLab-Org": org_id}
    user_ids = {}
    stem = owner_email.split("@")[0]
    for name, role in (("grace", "admin"), ("linus", "viewer")):
        teammate = f"{name}-{stem}@example.com"
        invited = api.client.post(
            f"/api/orgs/{org_id}/invitations", json={"email": teammate, "role": role}, headers=owner
        ).json()["data"]
        joined = api.client.post(
            "/api/auth/signup",
            json={"email": teammate, "password": PASSWORD, "invitation_token": invited["token"]},
        ).json()["data"]
        user_ids[name] = joined["user"]["id"]
    api.client.put(
        f"/api/orgs/{org_id}/members/{user_ids['linus']}", json={"role": "member"}, headers=owner
    )
    api.client.post(
        f"/api/orgs/{org_id}/invitations",
        json={"email": "new-hire@example.com", "role": "viewer"},
        headers=owner,
    )
    key = api.client.post("/api/keys", json={"name": "support-bot prod"}, headers=in_org)
    api.track(key.json()["data"]["key"], demo_events(utc_now(), days=7, seed=11))
    api.client.post(
        "/api/budgets",
        json={"name": "Team, monthly", "amount_usd": "50", "period": "monthly"},
        headers=in_org,
    )


def switch_organisation(page: Page, base_url: str, name: str, *, phone: bool) -> None:
    """Choose `name` in the header's switcher (the phone's menu holds it)."""
    page.goto(f"{base_url}/members")
    page.wait_for_load_state("networkidle")
    page.click("#nav-menu" if phone else "#org-switcher")
    page.locator(".org-choice", has_text=name).click()
    page.wait_for_selector(f"#org-switcher:has-text('{name}')", state="attached")


def wait_for_first_webhook_attempts(api: Api, key: str, budget_ids: list[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        deliveries = [
            d for b in budget_ids for d in api.data(key, "GET", f"/api/budgets/{b}/deliveries")
        ]
        if all(d["attempts"] >= 1 for d in deliveries):
            return
        time.sleep(0.5)


def sign_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/signin")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector("#card-range", timeout=30_000)


def photograph(page: Page, base_url: str, name: str, route: str, out_dir: Path) -> Path:
    page.goto(f"{base_url}{route}")
    page.wait_for_load_state("networkidle")
    if route == "/":
        page.wait_for_selector("#daily-trend-chart .main-svg", timeout=30_000)
        page.wait_for_selector("#whatif-chart .main-svg", timeout=30_000)
    time.sleep(1.0)  # let charts finish their transitions
    path = out_dir / f"{name}.png"
    # The events list is long: its first screen says enough.
    page.screenshot(path=str(path), full_page=route != "/events")
    return path


def photograph_whatif(page: Page, name: str, out_dir: Path) -> Path:
    """The what-if panel alone (the overview is open), as the top recommendation fills it."""
    path = out_dir / f"{name}.png"
    page.locator("#whatif-panel").screenshot(path=str(path))
    return path


def photograph_menu(page: Page, base_url: str, name: str, out_dir: Path) -> Path:
    """The phone's menu, open: every page and the account actions."""
    page.goto(f"{base_url}/events")
    page.wait_for_load_state("networkidle")
    page.click("#nav-menu")
    page.wait_for_selector(".menu-nav-item")
    time.sleep(0.5)  # the menu's opening animation
    path = out_dir / f"{name}.png"
    page.screenshot(path=str(path))
    page.keyboard.press("Escape")
    return path


def photograph_account(
    browser: Browser,
    base_url: str,
    email: str,
    out_dir: Path,
    *,
    viewport: dict,
    prefix: str,
    schemes: list[str],
) -> None:
    """Every page of the demo account in one window size, in each colour scheme."""
    for scheme in schemes:
        context = browser.new_context(viewport=viewport, color_scheme=scheme)
        page = context.new_page()
        sign_in(page, base_url, email)
        suffix = "" if scheme == "light" else "-dark"
        for name, route in PAGES:
            print(photograph(page, base_url, prefix + name + suffix, route, out_dir))
            if route == "/":
                print(photograph_whatif(page, prefix + "whatif" + suffix, out_dir))
        if prefix:
            print(photograph_menu(page, base_url, prefix + "menu" + suffix, out_dir))
        switch_organisation(page, base_url, TEAM_NAME, phone=bool(prefix))
        for name, route in TEAM_PAGES:
            print(photograph(page, base_url, prefix + name + suffix, route, out_dir))
        context.close()
    signup_page = browser.new_page(viewport=viewport)
    signup_page.goto(f"{base_url}/signup")
    signup_page.wait_for_selector("#signup-submit")
    path = out_dir / f"{prefix}signup.png"
    signup_page.screenshot(path=str(path))
    signup_page.close()
    print(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", help="use a running app instead of starting one")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--dark", action="store_true", help="also take dark-mode shots")
    parser.add_argument("--width", type=int, default=1440, help="desktop viewport width in px")
    parser.add_argument("--no-phone", action="store_true", help="skip the 390 x 844 shots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    schemes = ["light", "dark"] if args.dark else ["light"]

    # The app may still write its session files while the folder goes: not worth failing for.
    tmp_dir = tempfile.TemporaryDirectory(prefix="llmlab-shots-", ignore_cleanup_errors=True)
    with tmp_dir as tmp:
        server = nullcontext(args.base_url) if args.base_url else running_app(Path(tmp))
        with server as base_url, webhook_receiver() as hook, sync_playwright() as playwright:
            email = seed(Api(base_url), hook)
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            desktop = {"width": args.width, "height": 900}
            shoot = partial(photograph_account, browser, base_url, email, args.out, schemes=schemes)
            shoot(viewport=desktop, prefix="")
            if not args.no_phone:
                shoot(viewport=PHONE_VIEWPORT, prefix="phone-")
            browser.close()


if __name__ == "__main__":
    main()
