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


# Reports each Content-Security-Policy violation with what was refused (the console message
# alone does not say which element or script); an init script is not itself subject to the policy.
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (e) => {
  console.warn(`musicrec-csp: ${e.effectiveDirective} refused ${e.blockedURI || "inline"}` +
    ` at ${e.sourceFile}:${e.lineNumber}:${e.columnNumber} sample=${JSON.stringify(e.sample)}`);
});"""


class PageProblems:
    """What a browser test's page reported that no test expects: Content-Security-Policy
    violations, console errors and uncaught exceptions. The `page` fixture fails the test at
    teardown when any is left (docs/reliability.md, row 17)."""

    def __init__(self, page):
        self.page = page
        self.csp_violations: list[str] = []
        self.errors: list[str] = []
        self.allowed: list = []

    def allow(self, predicate) -> None:
        """Expect console errors that `predicate(text, source_url)` accepts (a 404 page's status,
        a request a test fails on purpose); CSP violations are never allowed this way."""
        self.allowed.append(predicate)

    def console(self, message) -> None:
        where = f"{self.page.url}: {message.text[:400]} at {message.location}"
        if "Content Security Policy" in message.text or message.text.startswith("musicrec-csp:"):
            self.csp_violations.append(where)
        elif message.type == "error" and not any(
            ok(message.text, message.location.get("url", "")) for ok in self.allowed
        ):
            self.errors.append(where)

    def exception(self, error) -> None:
        self.errors.append(f"{self.page.url}: uncaught {error}")

    def left(self) -> list[str]:
        return self.csp_violations + self.errors


@pytest.fixture
def page(browser):
    """A page that fails its test on any Content-Security-Policy violation, console error or
    uncaught exception (checked at teardown; `page.problems.allow` for expected console errors,
    `page.csp_violations` for a test that provokes a violation on purpose and clears it)."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = PageProblems(page)
    page.on("console", problems.console)
    page.on("pageerror", problems.exception)
    page.problems = problems
    page.csp_violations = problems.csp_violations
    yield page
    from playwright.sync_api import Error as PlaywrightError

    with contextlib.suppress(PlaywrightError):  # a page that is gone has nothing in flight
        page.evaluate(LAST_LISTEN_SENT)
    context.close()
    left = problems.left()
    assert not left, "the browser reported:\n" + "\n".join(left)


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
