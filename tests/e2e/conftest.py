"""Browser-test infrastructure: Debian's headless Chromium driven by Playwright against
pytest-django's live_server.

Playwright's sync API keeps an asyncio event loop in the test thread, which trips Django's
async-safety guard on every ORM call of a test; the tests do not share the loop with any async
code, so DJANGO_ALLOW_ASYNC_UNSAFE is set for them.

`APILO_SCREENSHOTS=1` makes the `screenshot` fixture write docs/screenshots/<name>.png (the
README's pictures); otherwise it does nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, sync_playwright

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 10_000
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does).")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Errors the page reported (console errors, CSP violations, uncaught exceptions)."""
    return []


@pytest.fixture
def page(browser: Browser, live_server, console_errors: list[str]) -> Iterator[Page]:
    """A fresh browser context per test, on the live server, asking for English pages."""
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    new_page = context.new_page()
    new_page.on(
        "console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None
    )
    new_page.on("pageerror", lambda error: console_errors.append(str(error)))
    yield new_page
    context.close()


@pytest.fixture
def log_in(page: Page, live_server) -> Callable:
    """`log_in(user)`: give the browser a session of `user` (the login form has its own tests)."""

    def _log_in(user) -> None:
        client = Client()
        client.force_login(user)
        page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )

    return _log_in


@pytest.fixture
def screenshot() -> Callable[[Page, str], None]:
    def _screenshot(page: Page, name: str) -> None:
        if os.environ.get("APILO_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

    return _screenshot
