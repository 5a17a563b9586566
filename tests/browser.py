"""What the browser tests share: Debian's Chromium driven by Playwright, a live server over
plain HTTP sending real mail to the harness's SMTP server, and `Visit`, one tab that screenshots
every page it checks into artifacts/screenshots/ and runs axe-core on it.

A test module uses the fixtures by importing them: `from tests.browser import browser, server,
visit`.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests import plugin

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(django_settings.BASE_DIR) / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does it)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread for as long as it runs; the ORM
    # calls of the tests (and pytest-django's flush after each) are still plain synchronous code.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def server(transactional_db, settings):
    """A live server on 127.0.0.1 over plain HTTP (so without production's HTTPS redirect and
    secure-only cookies), sending real mail to the test SMTP server."""
    from pytest_django.live_server_helper import LiveServer

    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    plugin.smtp_server.clear()
    live = LiveServer("127.0.0.1:0")
    live._live_server_modified_settings.enable()
    yield live
    # Let the server's request threads finish closing the browser's keep-alive connections:
    # on SQLite they share the test's in-memory connection, which stop() takes back.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
        "process_request_thread" in thread.name for thread in threading.enumerate()
    ):
        time.sleep(0.05)
    live._live_server_modified_settings.disable()
    live.stop()


class Visit:
    """One browser tab: takes a screenshot and runs axe on every page it is asked to check,
    and remembers every URL the browser requested."""

    def __init__(self, page, base_url: str, screenshots: Path = SCREENSHOTS):
        from axe_playwright_python.sync_playwright import Axe

        self.page = page
        self.base_url = base_url
        self.screenshots = screenshots
        self.axe = Axe()
        self.requested: list[str] = []
        self.violations: dict[str, list[str]] = {}
        self.count = 0
        page.on("request", lambda request: self.requested.append(request.url))

    def open(self, path: str):
        self.page.goto(self.base_url + path)

    def check(self, name: str) -> None:
        self.page.wait_for_load_state("load")
        self.count += 1
        self.page.screenshot(path=str(self.screenshots / f"{self.count:02d}-{name}.png"), full_page=True)
        results = self.axe.run(self.page)
        serious = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if serious:
            self.violations[name] = serious


def new_visit(browser, server, screenshots: Path):
    """A fresh tab in a German browser (de-DE, Berlin time) whose screenshots go to
    `screenshots`, emptied of the previous run's first. The caller closes `visit.page.context`."""
    screenshots.mkdir(parents=True, exist_ok=True)
    for old in screenshots.glob("*.png"):
        old.unlink()
    context = browser.new_context(locale="de-DE", timezone_id="Europe/Berlin", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    return Visit(context.new_page(), server.url, screenshots)


@pytest.fixture
def visit(browser, server):
    """A tab for the patient's journey; its screenshots go straight into artifacts/screenshots/."""
    tab = new_visit(browser, server, SCREENSHOTS)
    yield tab
    tab.page.context.close()
