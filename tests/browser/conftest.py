"""Playwright driving Debian's Chromium against a real gunicorn on the test database."""

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.processes import REPO, free_port, wait_http
from tests.helpers.worker import service_env

SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(scope="module", autouse=True)
def _sync_playwright_beside_the_orm():
    """Playwright's sync API keeps an event loop in this thread for the whole module; Django's
    ORM would refuse to run "inside" it, tests' calls and database teardowns alike. Those calls
    are ordinary blocking calls, so allow them for this module only."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    """gunicorn (2 workers) serving the test database, static files through whitenoise."""
    port = free_port()
    with django_db_blocker.unblock():
        env = service_env(DJANGO_ALLOWED_HOSTS="127.0.0.1", DJANGO_DEBUG="0")
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    log = (SCREENSHOTS.parent / "gunicorn.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "musicrec.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--timeout", "60"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/api/health/", process=process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("MUSICREC_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    """A page that records every Content-Security-Policy violation Chromium reports in
    `page.csp_violations` (docs/reliability.md, row 17)."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations: list[str] = []

    def note(message) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"{page.url}: {message.text[:70]} at {message.location}")

    page.on("console", note)
    page.csp_violations = violations
    yield page
    from playwright.sync_api import Error as PlaywrightError

    with contextlib.suppress(PlaywrightError):  # a page that is gone has nothing in flight
        page.evaluate(LAST_LISTEN_SENT)
    context.close()


# Closing the page while a track plays would send its listen (a keepalive POST) while the test
# database is being flushed: a deadlock in the flush. Finish that listen first and wait for it.
LAST_LISTEN_SENT = """() => new Promise((resolve) => {
  const player = window.musicrecPlayer;
  if (!player || !player.listening()) return resolve(false);
  document.addEventListener("musicrec:listen", () => resolve(true), { once: true });
  player.clear();
})"""


# A full-page capture draws a fixed element where the first screen has it, over the rows below;
# in the picture of a page longer than the screen, the player bar sits where a listener who
# scrolled to the end sees it. Set through the CSSOM (the Content-Security-Policy refuses
# injected <style> and style attributes).
PLAYER_AT_THE_END = """(on) => {
  const bar = document.getElementById("player");
  if (!bar) return;
  if (on && document.documentElement.scrollHeight <= window.innerHeight) return;  // one screen
  if (on) {
    bar.style.setProperty("position", "relative", "important");
    document.body.style.setProperty("padding-bottom", "0", "important");
  } else {
    bar.style.removeProperty("position");
    document.body.style.removeProperty("padding-bottom");
  }
}"""


@pytest.fixture
def screenshot(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.evaluate(PLAYER_AT_THE_END, True)
        try:
            page.screenshot(path=str(path), full_page=True)
        finally:
            page.evaluate(PLAYER_AT_THE_END, False)
        return path

    return take


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"musicrec: browser screenshots in {SCREENSHOTS}")
