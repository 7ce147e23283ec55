"""Browser tests: the app runs as a subprocess on a free port; Debian's Chromium is driven by Playwright.

Without Chromium these tests skip locally, but under CI=true they fail instead: CI must run them.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from dashboard.headless import CHROMIUM_ARGS
from hipline.demo_data.accounts import DEMO_USERS
from tests.conftest import chromium_path, in_ci

expect.set_options(timeout=20_000)
SCREENSHOTS = Path(__file__).parents[1] / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(db: Path, *extra: str, log: Path | None = None, env: dict[str, str] | None = None) -> Iterator[str]:
    """`hipline serve` on a free port until the block ends. What it prints goes to `log` (a file: a pipe
    nobody reads would fill up and stop the server), or to a temporary file; `env` adds settings. "Today"
    is the warehouse's newest session, as in the demo (its data end on a fixed day), unless `env` or
    `extra` say otherwise."""
    port = free_port()
    with contextlib.ExitStack() as stack:
        if log is None:
            log = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "server.log"
        with open(log, "wb") as out:  # the server keeps its own copy of the file's handle
            process = subprocess.Popen(
                [sys.executable, "-m", "hipline.cli", "serve", "--db", str(db), "--port", str(port), *extra],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "HIPLINE_TODAY": "newest", **(env or {})},
            )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/login", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the app did not start:\n" + log.read_text(errors="replace")) from None
                    time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        if in_ci():
            pytest.fail("CI=true but Chromium is not installed: browser tests must run in CI")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def sign_in(page, url: str, username: str = "admin", password: str | None = None) -> None:
    """Sign in through the sign-in page as one of the demo's users (or with `password`), and wait for the
    page it leads to."""
    page.goto(f"{url}/login")
    page.fill("#username", username)
    page.fill("#password", password if password is not None else DEMO_USERS[username][1])
    with page.expect_navigation():
        page.click("#signin-submit")


_SESSIONS: dict[tuple[str, str], list[dict]] = {}  # (server, username) -> the cookies of a sign-in there


def signing_in_as_needed(page, username: str = "admin") -> None:
    """Make `page.goto` sign in as `username` whenever it lands on the sign-in page, and go on to where it
    was going: for the tests of what pages show, which are not about signing in (those sign in
    themselves, with `sign_in`). A server's session is signed in through the form once per test worker
    and its cookies given to later tests and contexts on the same server (they are valid there until
    that user signs out, and the form is used again if not)."""
    go = page.goto

    def goto(target: str, **options):
        server = "{0.scheme}://{0.netloc}".format(urlsplit(target))
        kept = _SESSIONS.get((server, username))
        if page.signs_in_as_needed and kept and not page.context.cookies(server):
            page.context.add_cookies(kept)
        response = go(target, **options)
        landed = urlsplit(page.url).path == "/login" and urlsplit(target).path != "/login"
        if landed and page.signs_in_as_needed:
            page.fill("#username", username)
            page.fill("#password", DEMO_USERS[username][1])
            with page.expect_navigation():
                page.click("#signin-submit")
            _SESSIONS[(server, username)] = page.context.cookies(server)
        return response

    page.goto = goto
    page.signs_in_as_needed = True  # a test of signing in itself turns it off


VIEWPORT = {"width": 1280, "height": 900}


class KeptTab:
    """One tab per test worker for the `page` of every test, as a clinician keeps a browser open: what it
    keeps of the app's scripts spares each test's first page view parsing 3.5 MB of them again (about
    1.3 s of Chromium's time a test). What one test could leave for the next is undone after each test
    (`forget`); tests about a first visit, or about two users at once, make a context of their own. A
    tab that could not be cleaned up is closed, and the next test gets a new one."""

    def __init__(self, browser) -> None:
        self.browser, self.tab = browser, None

    def get(self):
        if self.tab is None:
            tab = self.browser.new_context(viewport=VIEWPORT).new_page()
            tab.on("request", lambda r: tab.requests.append(r.url))
            tab.on("console", lambda m: tab.console_errors.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: tab.console_errors.append(str(e)))
            tab.requests, tab.console_errors = [], []
            self.tab = tab
        return self.tab

    def forget(self) -> None:
        """Undo what a test left in the tab: its routes, its size, its cookies and every origin's local
        and session storage (Dash keeps the caseload's filters there). Session storage belongs to the tab
        and its origin, so each origin the test reached is visited once more, on a page the tab's own
        route answers (its server may be gone), and emptied there."""
        tab = self.tab
        try:
            tab.unroute_all(behavior="ignoreErrors")
            origins = {"{0.scheme}://{0.netloc}".format(urlsplit(u)) for u in tab.requests if u.startswith("http")}
            tab.route(f"**{_RESET}", lambda route: route.fulfill(body="", content_type="text/html"))
            for origin in sorted(origins):
                tab.goto(origin + _RESET)
                tab.evaluate("() => { sessionStorage.clear(); localStorage.clear(); }")
            tab.unroute_all(behavior="ignoreErrors")
            tab.goto("about:blank")
            tab.context.clear_cookies()
            tab.set_viewport_size(VIEWPORT)
            tab.requests, tab.console_errors = [], []  # the next test's own
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self.tab is not None:
            self.tab.context.close()
            self.tab = None


_RESET = "/__hipline_tests_reset__"  # answered by the tab's own route, never by a server


@pytest.fixture(scope="session")
def kept_tab(browser) -> Iterator[KeptTab]:
    kept = KeptTab(browser)
    yield kept
    kept.close()


@pytest.fixture
def page(kept_tab):
    page = kept_tab.get()
    signing_in_as_needed(page)
    # Generous waits: CI machines are shared, and a first page view builds the day's analytics.
    page.set_default_timeout(20_000)
    yield page
    page.__dict__.pop("goto", None)  # signing_in_as_needed's wrapper
    kept_tab.forget()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
