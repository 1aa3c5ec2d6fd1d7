"""One production build of the app per test session, driven by headless Chromium."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

# pytest runs with --import-mode=importlib: make the shared app_server helper importable.
sys.path.insert(0, str(Path(__file__).parent))
from app_server import multi_worker_environment, running_app

from tests.sdk.fake_provider import FakeProvider

CHROMIUM = Path(os.environ.get("LLMLAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def app_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app's data folder: its SQLite file and, without Redis, its `states/` folder."""
    return tmp_path_factory.mktemp("llmlab-app")


@pytest.fixture(scope="session")
def gateway_provider() -> Iterator[FakeProvider]:
    """The fake OpenAI/Anthropic provider behind the app's gateway."""
    provider = FakeProvider()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def app_url(app_data_dir: Path, gateway_provider: FakeProvider) -> Iterator[str]:
    """Base URL of the app, started the way the README runs it, on a temp SQLite database,
    its gateway pointed at the fake provider."""
    gateway = {
        "LLMLAB_GATEWAY_OPENAI_URL": f"{gateway_provider.url}/v1",
        "LLMLAB_GATEWAY_ANTHROPIC_URL": f"{gateway_provider.url}/v1",
    }
    with running_app(app_data_dir, multi_worker_environment() | gateway) as base_url:
        yield base_url


# Module scope, not session: while Playwright's sync API runs it holds an asyncio loop on the
# main thread, and every later test that calls asyncio.run() would fail.
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    browser = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
