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
    and its cookies given to the later browser contexts of the same server (they are valid there until
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


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    signing_in_as_needed(page)
    # Generous waits: CI machines are shared, and a first page view builds the day's analytics.
    page.set_default_timeout(20_000)
    page.console_errors = []
    page.requests = []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
