"""Page benchmark: server-side time of the page callbacks, over HTTP, against the running app (not a test).

    .venv/bin/python benchmarks/bench_pages.py                 # the 10 000-client warehouse, Dash's server
    .venv/bin/python benchmarks/bench_pages.py --workers 2     # the same behind gunicorn, 2 workers
    .venv/bin/python benchmarks/bench_pages.py --quick         # a 120-client demo warehouse, a smoke run

Every page needs a signed-in user (dashboard.security), so the benchmark signs in as two users of its own,
whom it adds to the warehouse's records (access.users) when they are missing, with fixed bench-only
passwords (BENCH_PASSWORDS: never use them on a clinic's data):
  - `bench-physio-<staff_id>`, a physio, the clinician of the caseload: the caseload and client pages
    (a physio sees only the clients whose clinician they are, and has no cohort pages);
  - `bench-admin`, an admin (the first staff member, by staff_id, whose roster role is admin and who has
    no user yet; if there is none, the first staff member without a user but the clinician): the cohort
    list and the cohorts.
A staff member has at most one user: the clinician is chosen among those who have no user yet (or
already their bench user), so a warehouse whose busiest physio has a user of their own (the demo's
`physio`) is measured on another caseload. A user is never changed: an existing bench user keeps its
password (and must still be enabled, with its role).

What it does:
  1. adds the bench users when missing, then starts `hipline serve --db DB --port P` (or `--workers N`:
     gunicorn) as a subprocess on a free port;
  2. captures the real callback requests: Debian's Chromium, driven by Playwright, signs in through
     `/login` as the physio (one browser context) and opens the caseload of the clinician whose active
     clients are closest to 300 (`/?clinician=<id>`) and several of that clinician's clients
     (`/clients/<id>`), then signs in as the admin (another context) and opens the cohort list
     (`/cohorts`) and several cohorts (`/cohorts/<id>`); every POST to `/_dash-update-component` sent
     after the sign-in page has led on is recorded (its JSON body, and which user sent it), grouped by
     page and by the callback's output (the body's "output");
  3. restarts the app, so the measured process is fresh, and signs in over HTTP as the same two users
     (GET `/login` for the form's CSRF token, POST `/login`, then GET of the page it leads to, as a
     browser does; the `_csrf_token` cookie comes with the sign-in's response or this one), with a fixed
     User-Agent (the session is tied to the address and the User-Agent); the sign-in's round trips are
     reported. On Dash's server the first GET `/login` is the app's first request, which runs Dash's
     first-request setup (the shell it renders then has nobody signed in and reads no analytics);
     gunicorn's workers have done that, and built the analytics, at boot, and the first request waits for
     them. Then it reports the app's first two callback requests apart (the empty callback, then the
     caseload's data): one of them builds the day's analytics (docs/metrics.md and docs/recommendations.md for
     every client,
     dashboard.clinic_data); then one warm-up round;
  4. replays the captured requests sequentially on one connection (kept alive when the server allows:
     gunicorn does, Dash's development server closes each, so there a new one is opened inside the timed
     round trip, as the browser must), ROUNDS times, cycling over the different clients and cohorts
     (round r sends variant r mod n of each callback), and before each page's block an empty callback:
     the hidden `ping` div of dashboard/app.py, the FLOOR (HTTP, the session check, Dash's dispatch,
     JSON, no work), sent as the physio. Each request carries its user's cookies (`hipline_session`,
     `_csrf_token`, as they were after the sign-in), the `X-CSRFToken` header the renderer sends and the
     same User-Agent; a response with status >= 400 is an error, reported with the app's log. Each
     response's `Server-Timing` header (dashboard/timing.py) gives the server's total and its named parts
     (session: the sign-in check of dashboard.security - flask-login reloads the user from the records
     and checks the session's address and User-Agent -; query, figures, layout); "Dash + JSON" is the
     total minus the named parts: decoding the request, serialising the outputs, whatever a callback does
     not wrap in `timed()`, and the other request hooks (the CSRF check, the check of the callback's
     right (dashboard.rights), the rate limiter, the security headers, the response's new `_csrf_token`
     cookie); "HTTP" is the round trip minus the total, which includes reading and signing again the
     session cookie (Flask does both outside the hooks). The app's CPU time (/proc, its processes) is
     read around each request: its mean per callback says how much of the time is work rather than
     waiting on a shared machine.

A page's time is its slowest callback (the browser sends a page's callbacks at once), after the pages
routing callback that renders its layout; both the slowest callback and the sum are reported. Targets
(the issue): each page's p95 <= 20x the floor's p95 and <= 300 ms, on the round trip.

The captured `endId` query parameter (a token the renderer echoes, signed by the capturing process and
used only by background callbacks) is left off the replayed requests.

The warehouses are those of bench_metrics.py (benchmarks/results/work/metrics-<clients>.duckdb, made
when absent; their records, with the bench users, beside them). Results go to benchmarks/results/pages.json
(one entry per warehouse size and server, replaced when run again; --quick: pages-quick.json) and are
printed as tables.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from dashboard.headless import CHROMIUM_ARGS  # as the browser tests start it

HERE = Path(__file__).parent
RESULTS = HERE / "results"
OUT = RESULTS / "pages.json"
QUICK_OUT = RESULTS / "pages-quick.json"

CHROMIUM = "/usr/bin/chromium"
UPDATE = "/_dash-update-component"
SESSION_COOKIE, CSRF_COOKIE = "hipline_session", "_csrf_token"  # dashboard.security's cookies
LOGIN = "/login"  # dashboard.security's sign-in page

CASELOAD_SIZE = 300  # the clinician whose active clients are closest to this
ROUNDS, CLIENTS, COHORTS = 100, 20, 8
QUICK_ROUNDS, QUICK_CLIENTS, QUICK_COHORTS = 8, 3, 2
QUICK_DEMO = (120, 11)  # clients, seed: the size of the tests' demo_warehouse

TIMES_FLOOR, CEILING_MS = 20, 300  # the targets, on the p95 of the round trip
PAGES = ("caseload", "client", "cohort list", "cohort")
SHELL = "shell"  # the navigation's callbacks, sent on every page
SHELL_OUTPUTS = ("today-note.children",)
ROUTING = "_pages_content.children"  # Dash pages: renders a page's layout for the URL
NAMED_PARTS = ("session", "query", "figures", "layout")  # the Server-Timing parts, in that order
REPLAYED_HEADERS = ("content-type", "accept")

# Who opens which page (step 2), and as whom the floor is sent.
PHYSIO, ADMIN = "physio", "admin"
PAGE_USERS = {"caseload": PHYSIO, "client": PHYSIO, "cohort list": ADMIN, "cohort": ADMIN}
FLOOR_USER = PHYSIO
BENCH_ADMIN = "bench-admin"
BENCH_PHYSIO = "bench-physio-{staff_id}"
# FOR THE BENCHMARK ONLY: public, like its users; its warehouses are generated demo data.
BENCH_PASSWORDS = {PHYSIO: "bench-physio-password", ADMIN: "bench-admin-password"}
USER_AGENT = "hipline-bench-pages/1 (replay)"  # the replay's, fixed: a session is tied to its User-Agent
FLOOR_BODY = {
    "output": "ping.children",
    "outputs": {"id": "ping", "property": "children"},
    "inputs": [{"id": "ping", "property": "n_clicks", "value": 1}],
    "changedPropIds": ["ping.n_clicks"],
    "parsedChangedPropsIds": ["ping.n_clicks"],
    "state": [],
}


# --- Server-Timing ------------------------------------------------------------------------------------


def parse_server_timing(header: str | None) -> dict[str, float]:
    """`query;dur=4.1, figures;dur=12.0, total;dur=19.3` -> {"query": 4.1, "figures": 12.0, "total": 19.3}
    (milliseconds). A metric without `dur` counts 0; a name given twice adds up."""
    parts: dict[str, float] = {}
    for entry in (header or "").split(","):
        name, *params = (p.strip() for p in entry.split(";"))
        if not name:
            continue
        duration = 0.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "dur":
                duration = float(value.strip().strip('"'))
        parts[name] = parts.get(name, 0.0) + duration
    return parts


# --- the app --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    url: str
    pid: int
    log: IO[bytes]

    def log_tail(self, size: int = 4000) -> str:
        """The end of what the app has printed so far."""
        self.log.flush()
        self.log.seek(0, os.SEEK_END)
        end = self.log.tell()
        self.log.seek(max(0, end - size))
        return self.log.read().decode(errors="replace")

    def cpu_ms(self) -> float:
        """CPU time used so far by the app's processes (gunicorn: the arbiter and its workers), in ms."""
        pids, total = [self.pid], 0
        while pids:
            pid = pids.pop()
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
                for task in Path(f"/proc/{pid}/task").iterdir():
                    pids += [int(c) for c in (task / "children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
        return 1000 * total / TICK


@contextlib.contextmanager
def serve(db: Path, workers: int = 0, timeout: float = 120, env: dict[str, str] | None = None) -> Iterator[Server]:
    """`hipline serve` on a free port, until the block ends; its output goes to a temporary file (a pipe
    nobody reads would fill up and block it), shown when it fails to start. `env`: the app's environment
    (default: this process's), e.g. a clinic network's settings (benchmarks/bench_cluster.py).

    Ready means listening: no HTTP request is sent, since Dash's first request of any kind renders the
    layout (`Dash._setup_server`), which may read the analytics; the caller's first request is the first.
    (Gunicorn listens before its workers have started: a first request there also waits for a worker.)"""
    port = _free_port()
    command = [sys.executable, "-m", "hipline.cli", "serve", "--db", str(db), "--port", str(port), "--today", "newest"]
    if workers:
        command += ["--workers", str(workers)]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=5).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError("the app did not start:\n" + log.read().decode(errors="replace")) from None
                    time.sleep(0.2)
            yield Server(url, process.pid, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- what to open ---------------------------------------------------------------------------------------


@dataclass
class Sample:
    """What the browser opens: a caseload, some of its clients, cohorts; and who signs in to open them."""

    today: str
    clinician: str
    caseload: int  # active clients of the clinician
    clients: list[str]
    cohorts: list[str]
    admin: str = ""  # the staff_id of the bench admin

    def visits(self) -> list[tuple[str, str]]:
        """(page, path), in the order opened; PAGE_USERS says who opens each page."""
        return [
            ("caseload", f"/?clinician={self.clinician}"),
            *(("client", f"/clients/{c}") for c in self.clients),
            ("cohort list", "/cohorts"),
            *(("cohort", f"/cohorts/{c}") for c in self.cohorts),
        ]


def _spread(items: list, n: int) -> list:
    """n items evenly spread over the list (all of them when it is shorter)."""
    if len(items) <= n:
        return list(items)
    return [items[i * len(items) // n] for i in range(n)]


def choose(db: Path, clients: int, cohorts: int) -> Sample:
    """The clinician whose active clients (Analytics.client_metrics) are closest to CASELOAD_SIZE, `clients`
    of their active clients and `cohorts` cohorts with members, spread over the small to the large; and
    the staff member who is the bench admin. A staff member has at most one user: the clinician and the
    admin are chosen among those without a user, or whose user is already the bench's."""
    from access import users
    from analytics import NEWEST, Analytics, Scope
    from etl.warehouse import connect_read_only

    con = connect_read_only(db)
    try:
        con.execute("SET enable_progress_bar = false")
        analytics = Analytics(con, Scope.everyone(), NEWEST)  # as the served pages (--today newest)
        metrics = analytics.client_metrics()
        roster = analytics.cohorts()
        today = analytics.today
        staff = con.execute("SELECT staff_id, role FROM staff ORDER BY staff_id").fetchall()
    finally:
        con.close()
    taken = {u.staff_id: u.username.lower() for u in users.list_users(db)}

    def free(staff_id: str, username: str) -> bool:
        return taken.get(staff_id, username.lower()) == username.lower()

    active = metrics[metrics["active"] & metrics["clinician_id"].notna()]
    if active.empty:
        raise SystemExit(f"{db} has no active client with a clinician")
    sizes = active.groupby("clinician_id").size()
    candidates = [c for c in sizes.index if free(str(c), BENCH_PHYSIO.format(staff_id=c))]
    if not candidates:
        raise SystemExit(f"every clinician of {db} already has a user other than the benchmark's")
    clinician = min(candidates, key=lambda c: (abs(sizes[c] - CASELOAD_SIZE), -sizes[c], c))
    admin = users.find(db, BENCH_ADMIN)
    if admin is None:
        others = [(s, role) for s, role in staff if s != clinician and s not in taken]
        chosen = [s for s, role in others if role == ADMIN] or [s for s, _ in others]
        if not chosen:
            raise SystemExit(f"every staff member of {db} but the clinician already has a user: none to be the admin")
        admin_id = chosen[0]
    else:
        admin_id = admin.staff_id
    theirs = sorted(active.loc[active["clinician_id"] == clinician, "client_id"])
    with_members = roster[roster["members"] > 0].sort_values(["members", "cohort_id"])
    return Sample(
        today=today.isoformat(),
        clinician=str(clinician),
        caseload=int(sizes[clinician]),
        clients=_spread(theirs, clients),
        cohorts=_spread(list(with_members["cohort_id"]), cohorts),
        admin=admin_id,
    )


@dataclass(frozen=True)
class Account:
    """A bench user, signed in as for the pages PAGE_USERS gives `role`."""

    role: str
    username: str
    password: str
    staff_id: str


def ensure_users(db: Path, sample: Sample) -> tuple[dict[str, Account], list[str]]:
    """The bench users (the clinician as a physio, the admin), added to the warehouse's records when
    missing; an existing one is used as it is, and must be enabled with its role. Returns them by role,
    and the usernames added."""
    from access import users
    from access.audit import Actor

    wanted = {
        PHYSIO: (sample.clinician, BENCH_PHYSIO.format(staff_id=sample.clinician)),
        ADMIN: (sample.admin, BENCH_ADMIN),
    }
    accounts: dict[str, Account] = {}
    added: list[str] = []
    for role, (staff_id, username) in wanted.items():
        user = users.find(db, username)
        if user is None:
            name, _roster_role = users.roster_member(db, staff_id)
            user = users.add_user(db, staff_id, name, role, BENCH_PASSWORDS[role], by=Actor.command_line(),
                                  username=username)  # fmt: skip
            added.append(user.username)
        if user.role != role or not user.enabled or user.staff_id != staff_id:
            raise SystemExit(
                f"the bench user {user.username} is {'' if user.enabled else 'disabled, '}{user.role} of "
                f"{user.staff_id}: the benchmark needs an enabled {role} of {staff_id}"
            )
        accounts[role] = Account(role, user.username, BENCH_PASSWORDS[role], staff_id)
    return accounts, added


# --- capture --------------------------------------------------------------------------------------------


@dataclass
class Call:
    """One captured callback request."""

    page: str
    key: str  # the body's "output": one key per callback
    label: str
    body: dict
    headers: dict[str, str]
    user: str = PHYSIO  # who sent it: a key of the accounts (PAGE_USERS)


def label(body: dict) -> str:
    """A callback's name in the tables: its first output, and how many more it has."""
    outputs = body["outputs"] if isinstance(body["outputs"], list) else [body["outputs"]]
    names = [
        f"{json.dumps(o['id'], sort_keys=True) if isinstance(o['id'], dict) else o['id']}.{o['property']}"
        for o in outputs
    ]
    if names[0] == ROUTING:
        return "layout (pages routing)"
    first = names[0].split("@", 1)[0]  # "nav.href@<hash>": an output shared by callbacks (allow_duplicate)
    return first + (f" +{len(names) - 1}" if len(names) > 1 else "")


def capture(
    url: str, visits: list[tuple[str, str]], accounts: dict[str, Account], timeout_ms: float = 120_000, browser=None
) -> list[Call]:
    """Open each (page, path) in Chromium, signed in as the page's user (PAGE_USERS: one browser context
    each), and record every callback request the page sends. `browser`: one already open in this process
    (Playwright's sync API cannot be started twice in one process)."""
    if browser is not None:
        return _record(browser, url, visits, accounts, timeout_ms)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return _record(launched, url, visits, accounts, timeout_ms)
        finally:
            launched.close()


def _record(
    browser, url: str, visits: list[tuple[str, str]], accounts: dict[str, Account], timeout_ms: float
) -> list[Call]:
    calls: list[Call] = []
    for role in dict.fromkeys(PAGE_USERS[page] for page, _ in visits):
        theirs = [(page, path) for page, path in visits if PAGE_USERS[page] == role]
        calls += _record_as(browser, url, accounts[role], theirs, timeout_ms)
    return calls


def _record_as(browser, url: str, account: Account, visits: list[tuple[str, str]], timeout_ms: float) -> list[Call]:
    """Sign in through the sign-in page in a new browser context, let the page it leads to settle (its
    callbacks are not recorded), then open the visits, recording their callbacks."""
    calls: list[Call] = []
    pending: set = set()
    current: dict[str, str | None] = {"page": None}  # None: not recording (the sign-in and where it leads)

    def on_request(request) -> None:
        if request.method != "POST" or urlsplit(request.url).path != UPDATE:
            return
        pending.add(request)
        if current["page"] is None:
            return
        body = request.post_data_json
        page = SHELL if body["output"] in SHELL_OUTPUTS else current["page"]
        headers = {k: v for k, v in request.headers.items() if k.lower() in REPLAYED_HEADERS}
        calls.append(Call(page, body["output"], label(body), body, headers, account.role))

    def settle(tab) -> None:
        deadline = time.monotonic() + timeout_ms / 1000
        while pending and time.monotonic() < deadline:
            tab.wait_for_timeout(50)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        tab = context.new_page()
        tab.on("request", on_request)
        tab.on("requestfinished", lambda request: pending.discard(request))
        tab.on("requestfailed", lambda request: pending.discard(request))
        tab.goto(url + LOGIN, timeout=timeout_ms)
        tab.fill("#username", account.username)
        tab.fill("#password", account.password)
        with tab.expect_navigation(timeout=timeout_ms):
            tab.click("#signin-submit")
        if urlsplit(tab.url).path == LOGIN:
            raise RuntimeError(f"Chromium could not sign in as {account.username}: {tab.inner_text('body')[:300]}")
        tab.wait_for_load_state("networkidle", timeout=timeout_ms)
        settle(tab)
        for page, path in visits:
            current["page"] = page
            tab.goto(url + path, wait_until="networkidle", timeout=timeout_ms)
            settle(tab)
    finally:
        context.close()
    return calls


def floor_call(calls: list[Call]) -> Call:
    """The request of the empty `ping` callback, with the headers the browser sent."""
    headers = next((c.headers for c in calls), {"content-type": "application/json", "accept": "application/json"})
    return Call("floor", FLOOR_BODY["output"], "ping.children (empty)", dict(FLOOR_BODY), dict(headers), FLOOR_USER)


# --- replay ---------------------------------------------------------------------------------------------


@dataclass
class SignedInOverHttp:
    """A bench user signed in over HTTP: the headers each of their replayed requests carries, and the
    round trip (ms) of each request of the sign-in."""

    username: str
    headers: dict[str, str]
    round_trips_ms: dict[str, float]


def _http(url: str, method: str, path: str, headers: dict[str, str], body: bytes | None = None):
    """One request on a new connection: (status, Set-Cookie headers, Location, body, round trip in ms)."""
    parts = urlsplit(url)
    con = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    try:
        started = time.perf_counter()
        con.request(method, path, body, {"User-Agent": USER_AGENT, **headers})
        response = con.getresponse()
        data = response.read()
        wall = 1000 * (time.perf_counter() - started)
        return response.status, response.headers.get_all("Set-Cookie") or [], response.getheader("Location"), data, wall
    finally:
        con.close()


def sign_in(url: str, account: Account) -> SignedInOverHttp:
    """Sign in as a browser does, with the fixed USER_AGENT: GET the sign-in page (its form's CSRF token),
    POST the form, then GET the page it leads to; the `_csrf_token` cookie (whose secret the session
    cookie holds) comes with one of the two responses. The cookies as they are then are sent unchanged
    with every replayed request (they stay valid for the session's working day)."""
    from http.cookies import SimpleCookie
    from urllib.parse import urlencode

    cookies: dict[str, str] = {}
    times: dict[str, float] = {}

    def send(method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None):
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        status, set_cookies, location, data, wall = _http(
            url,
            method,
            path,
            {"Accept": "text/html", **({"Cookie": cookie} if cookie else {}), **(headers or {})},
            body,
        )
        times[f"{method} {urlsplit(path).path}"] = _r(wall)
        for header in set_cookies:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                cookies[name] = morsel.value
        return status, location, data

    def failed(what: str, status: int, data: bytes) -> RuntimeError:
        return RuntimeError(f"could not sign in as {account.username} over HTTP: {what} answered {status}: "
                            f"{data[:300].decode(errors='replace')!r}")  # fmt: skip

    status, _, form = send("GET", LOGIN)
    token = re.search(rb'name="csrf_token" value="([^"]+)"', form)
    if status != 200 or token is None:
        raise failed("GET /login", status, form)
    fields = {"username": account.username, "password": account.password, "csrf_token": token[1].decode()}
    status, location, data = send(
        "POST", LOGIN, {"Content-Type": "application/x-www-form-urlencoded"}, urlencode(fields).encode()
    )
    if status != 302 or not location or urlsplit(location).path == LOGIN:
        raise failed("POST /login", status, data)
    target = urlsplit(location)
    status, _, data = send("GET", target.path + (f"?{target.query}" if target.query else ""))
    if status != 200 or not {SESSION_COOKIE, CSRF_COOKIE} <= set(cookies):
        raise failed(f"GET {target.path} (the page the sign-in led to)", status, data)
    headers = {
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        "X-CSRFToken": cookies[CSRF_COOKIE],
        "User-Agent": USER_AGENT,
    }
    return SignedInOverHttp(account.username, headers, times)


@dataclass
class Response:
    wall_ms: float
    status: int
    size: int
    timing: dict[str, float]
    cpu_ms: float = float("nan")  # the app's CPU time over the request (clock ticks: a mean is meaningful)
    error: str | None = None  # the start of the body of a response with status >= 400


@dataclass
class Connection:
    """One HTTP connection, kept alive when the server allows it, else opened anew for each request as a
    browser must (Dash's development server closes every connection: werkzeug disables keep-alive); the
    opening is inside the timed round trip. `cpu`: the app's CPU time in ms, read around each request."""

    url: str
    signed_in: dict[str, SignedInOverHttp]  # by user (Call.user): whose cookies a request carries
    cpu: Callable[[], float] | None = None
    connects: int = 0
    _con: http.client.HTTPConnection | None = field(default=None, repr=False)

    def post(self, call: Call) -> Response:
        payload = json.dumps(call.body).encode()
        for attempt in range(2):
            cpu = self.cpu() if self.cpu else float("nan")
            started = time.perf_counter()
            try:
                if self._con is None:
                    parts = urlsplit(self.url)
                    self._con = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
                    self._con.connect()
                    self.connects += 1
                self._con.request("POST", UPDATE, payload, call.headers | self.signed_in[call.user].headers)
                response = self._con.getresponse()
                data = response.read()
                wall = time.perf_counter() - started
            except (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionError):
                self.close()  # the server closed a kept-alive connection: once more on a new one
                if attempt:
                    raise
                continue
            if self.cpu:
                cpu = self.cpu() - cpu
            if response.will_close:
                self.close()
            timing = parse_server_timing(response.getheader("Server-Timing"))
            error = data[:1000].decode(errors="replace") if response.status >= 400 else None
            return Response(1000 * wall, response.status, len(data), timing, cpu, error)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def _kinds(calls: list[Call]) -> dict[tuple[str, str], list[Call]]:
    """(page, callback) -> its captured requests, in the order captured, identical bodies once."""
    kinds: dict[tuple[str, str], list[Call]] = {}
    for call in calls:
        variants = kinds.setdefault((call.page, call.key), [])
        if all(v.body != call.body for v in variants):
            variants.append(call)
    return kinds


def _first_analytics_call(kinds: dict[tuple[str, str], list[Call]]) -> Call:
    """The caseload's data callback (it reads the analytics, timed as `query`), else any page callback."""
    for (page, key), variants in kinds.items():
        if page == "caseload" and "caseload-grid.rowData" in key:
            return variants[0]
    return next(v[0] for (page, _), v in kinds.items() if page in PAGES)


def _warm_every_worker(url: str, call: Call, workers: int, signed_in: dict[str, SignedInOverHttp]) -> None:
    """Gunicorn: each worker builds its own analytics on its first request. Fresh connections in parallel,
    several per worker, so that (most likely) every worker has built before the timed rounds."""

    def hit() -> None:
        connection = Connection(url, signed_in)
        try:
            connection.post(call)
        finally:
            connection.close()

    for _ in range(2):
        threads = [threading.Thread(target=hit) for _ in range(3 * workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def replay(
    server: Server, calls: list[Call], accounts: dict[str, Account], rounds: int, workers: int = 0, progress=None
) -> dict:
    """On a fresh app: the sign-ins, its first callback requests, a warm-up round, then `rounds` timed
    rounds; every response kept."""
    kinds = _kinds(calls)
    floor = floor_call(calls)
    signed_in = {role: sign_in(server.url, account) for role, account in accounts.items()}
    connection = Connection(server.url, signed_in, server.cpu_ms)
    errors: list[dict] = []

    def post(call: Call, phase: str) -> Response:
        response = connection.post(call)
        if response.error is not None and len(errors) < 20:
            errors.append({"phase": phase, "page": call.page, "callback": call.label, "status": response.status,
                           "body": response.error})  # fmt: skip
        return response

    try:
        first = {"floor": post(floor, "first"), "analytics": post(_first_analytics_call(kinds), "first")}
        if workers > 1:
            _warm_every_worker(server.url, _first_analytics_call(kinds), workers, signed_in)
        order = [p for p in (*PAGES, SHELL) if any(page == p for page, _ in kinds)]
        samples: dict[tuple[str, str], list[Response]] = {("floor", floor.key): []}
        for r in range(-1, rounds):  # -1: the warm-up round
            for page in order:
                phase = "warm-up" if r < 0 else f"round {r + 1}"
                response = post(floor, phase)
                if r >= 0:
                    samples[("floor", floor.key)].append(response)
                for (p, key), variants in kinds.items():
                    if p != page:
                        continue
                    response = post(variants[max(r, 0) % len(variants)], phase)
                    if r >= 0:
                        samples.setdefault((p, key), []).append(response)
            if progress and r >= 0:
                progress(r + 1, rounds)
        connects = connection.connects
    finally:
        connection.close()
    labels = {(c.page, c.key): c.label for c in calls} | {("floor", floor.key): floor.label}
    return {
        "sign_in": {s.username: s.round_trips_ms for s in signed_in.values()},
        "first": first,
        "samples": samples,
        "labels": labels,
        "variants": {k: len(v) for k, v in kinds.items()},
        "connects": connects,
        "errors": errors,
        "server_log": server.log_tail() if errors else None,
    }


# --- the report -----------------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if values else float("nan")


def _r(x: float) -> float:
    return round(x, 2)


def summarise(responses: list[Response]) -> dict:
    """p50 / p95 of the round trip and of the server's total, the median of each named part and of the
    rest (Dash + JSON), the median response size and the statuses."""
    wall = [r.wall_ms for r in responses]
    total = [r.timing.get("total", float("nan")) for r in responses]
    names = sorted({n for r in responses for n in r.timing if n != "total"}, key=_part_order)
    parts = {n: _r(_percentile([r.timing.get(n, 0.0) for r in responses], 50)) for n in names}
    rest = [r.timing.get("total", 0.0) - sum(v for n, v in r.timing.items() if n != "total") for r in responses]
    return {
        "n": len(responses),
        "wall_p50_ms": _r(_percentile(wall, 50)),
        "wall_p95_ms": _r(_percentile(wall, 95)),
        "wall_max_ms": _r(max(wall)),
        "total_p50_ms": _r(_percentile(total, 50)),
        "total_p95_ms": _r(_percentile(total, 95)),
        "parts_median_ms": parts,
        "dash_json_median_ms": _r(_percentile(rest, 50)),
        "cpu_mean_ms": _r(sum(r.cpu_ms for r in responses) / len(responses)),
        "transport_median_ms": _r(_percentile([w - t for w, t in zip(wall, total, strict=True)], 50)),
        "bytes_median": int(_percentile([r.size for r in responses], 50)),
        "statuses": dict(Counter(str(r.status) for r in responses)),
        "untimed": not set(names) - {"session"},  # the callback wraps nothing of its own in timed()
    }


def _part_order(name: str) -> tuple[int, str]:
    return (NAMED_PARTS.index(name) if name in NAMED_PARTS else len(NAMED_PARTS), name)


def _first(response: Response) -> dict:
    return {
        "wall_ms": _r(response.wall_ms),
        "status": response.status,
        "server_timing_ms": {k: _r(v) for k, v in response.timing.items()},
    }


def report(
    replayed: dict,
    sample: Sample,
    db: Path,
    workers: int,
    rounds: int,
    load_before: tuple = (),
    accounts: dict[str, Account] | None = None,
) -> dict:
    samples, labels = replayed["samples"], replayed["labels"]
    floor_key = next(k for k in samples if k[0] == "floor")
    floor = summarise(samples[floor_key])
    session = [r.timing.get("session", float("nan")) for responses in samples.values() for r in responses]
    pages: dict[str, dict] = {}
    for page in (*PAGES, SHELL):
        keys = [k for k in samples if k[0] == page]
        if not keys:
            continue
        callbacks = {
            labels[k]: summarise(samples[k]) | {"variants": replayed["variants"][k], "output": k[1]} for k in keys
        }
        for stats in callbacks.values():
            stats["times_floor_p95"] = _r(stats["wall_p95_ms"] / floor["wall_p95_ms"])
            stats["meets_targets"] = _meets(stats["wall_p95_ms"], floor["wall_p95_ms"])
        slowest_name = max(callbacks, key=lambda n: callbacks[n]["wall_p95_ms"])
        slowest = callbacks[slowest_name]["wall_p95_ms"]
        routing = next((s["wall_p95_ms"] for n, s in callbacks.items() if s["output"].startswith(f"..{ROUTING}")), 0)
        after_layout = max((s["wall_p95_ms"] for s in callbacks.values() if not s["output"].startswith(f"..{ROUTING}")),
                           default=0.0)  # fmt: skip
        pages[page] = {
            "callbacks": callbacks,
            "slowest_callback": slowest_name,
            "slowest_p95_ms": slowest,
            "sum_p95_ms": _r(sum(s["wall_p95_ms"] for s in callbacks.values())),
            "layout_then_slowest_p95_ms": _r(routing + after_layout),
            "slowest_server_p95_ms": max(s["total_p95_ms"] for s in callbacks.values()),
            "times_floor_p95": _r(slowest / floor["wall_p95_ms"]),
            "server_times_floor_p95": _r(max(s["total_p95_ms"] for s in callbacks.values()) / floor["total_p95_ms"]),
            "meets_targets": _meets(slowest, floor["wall_p95_ms"]),
            "missing": sorted(n for n, s in callbacks.items() if not s["meets_targets"]),
        }
    return {
        "measured_at": datetime.now().isoformat(timespec="seconds"),
        "db": str(db),
        "warehouse_clients": _warehouse_clients(db),
        "server": f"gunicorn, {workers} workers" if workers else "Dash's development server (werkzeug, threaded)",
        "rounds": rounds,
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "today": sample.today,
        "clinician": sample.clinician,
        "signed_in_as": {
            page: accounts[role].username if accounts else role
            for page, role in {"floor": FLOOR_USER, **PAGE_USERS}.items()
        },
        "sign_in_round_trips_ms": replayed["sign_in"],
        "session_check_ms": {
            "n": len(session),
            "median": _r(_percentile(session, 50)),
            "p95": _r(_percentile(session, 95)),
            "max": _r(max(session)),
        },
        "caseload_active_clients": sample.caseload,
        "clients_opened": sample.clients,
        "cohorts_opened": sample.cohorts,
        "connections_opened": replayed["connects"],
        "errors": replayed["errors"],
        "server_log_tail": replayed["server_log"],
        "targets": {"times_floor_p95": TIMES_FLOOR, "ceiling_ms": CEILING_MS, "on": "round-trip p95"},
        "first_request": {name: _first(r) for name, r in replayed["first"].items()},
        "floor": floor,
        "pages": pages,
    }


def _meets(p95_ms: float, floor_p95_ms: float) -> bool:
    return p95_ms <= TIMES_FLOOR * floor_p95_ms and p95_ms <= CEILING_MS


def tables(result: dict) -> list:
    """The rich tables: every callback, then the pages against the targets."""
    from rich.table import Table

    def ms(x: float) -> str:
        return f"{x:,.1f}"

    callbacks = Table(
        title="Callbacks (ms): round trip (RTT) and server total (Server-Timing), p50 / p95; medians of the named "
        "parts, of the rest (Dash + JSON) and of RTT − total (HTTP); CPU: the app's mean CPU time a request",
        title_justify="left",
    )
    for name, justify in (
        ("page", "left"), ("callback", "left"), ("n", "right"), ("RTT p50", "right"), ("RTT p95", "right"),
        ("server p50", "right"), ("server p95", "right"), ("session", "right"), ("query", "right"),
        ("figures", "right"), ("layout", "right"), ("Dash + JSON", "right"), ("HTTP", "right"), ("CPU", "right"),
        ("KB", "right"), ("×floor", "right"),
    ):  # fmt: skip
        callbacks.add_column(name, justify=justify)

    def row(page: str, name: str, s: dict, style: str | None = None) -> None:
        parts = s["parts_median_ms"]
        rest = ms(s["dash_json_median_ms"]) + (" (untimed)" if s["untimed"] and page not in ("floor", SHELL) else "")
        callbacks.add_row(
            page, name, str(s["n"]), ms(s["wall_p50_ms"]), ms(s["wall_p95_ms"]), ms(s["total_p50_ms"]),
            ms(s["total_p95_ms"]), *(ms(parts[p]) if p in parts else "–" for p in NAMED_PARTS), rest,
            ms(s["transport_median_ms"]), ms(s["cpu_mean_ms"]), f"{s['bytes_median'] / 1024:,.1f}",
            f"{s.get('times_floor_p95', 1.0):.1f}",
            style=style,
        )  # fmt: skip

    row("floor", "ping.children (empty)", result["floor"], style="bold")
    for page, p in result["pages"].items():
        callbacks.add_section()
        for name, s in p["callbacks"].items():
            row(page, name, s, style=None if s["meets_targets"] or page == SHELL else "red")

    pages = Table(title=f"Pages against the targets: p95 ≤ {TIMES_FLOOR}× the floor's p95 and ≤ {CEILING_MS} ms "
                  f"(round trip; floor p95 {result['floor']['wall_p95_ms']:.1f} ms)", title_justify="left")  # fmt: skip
    for name in ("page", "slowest callback", "p95", "×floor", "server p95", "×floor (server)", "sum of p95",
                 "layout + slowest", "verdict"):  # fmt: skip
        pages.add_column(name, justify="left" if name in ("page", "slowest callback", "verdict") else "right")
    for page, p in result["pages"].items():
        if page == SHELL:
            continue
        pages.add_row(
            page, p["slowest_callback"], ms(p["slowest_p95_ms"]), f"{p['times_floor_p95']:.1f}",
            ms(p["slowest_server_p95_ms"]), f"{p['server_times_floor_p95']:.1f}", ms(p["sum_p95_ms"]),
            ms(p["layout_then_slowest_p95_ms"]),
            "[green]meets[/]" if p["meets_targets"] else f"[red]misses[/] ({', '.join(p['missing'])})",
        )  # fmt: skip
    return [callbacks, pages]


def first_request_line(result: dict) -> str:
    """The fresh app's sign-ins, then its first two callback requests: one of them builds the day's
    analytics."""
    lines = [
        f"signing in as {username}: " + ", ".join(f"{what} {ms:,.1f} ms" for what, ms in trips.items())
        for username, trips in result["sign_in_round_trips_ms"].items()
    ]
    for name, what in (("floor", "1st request (ping)"), ("analytics", "2nd request (the caseload's data)")):
        first = result["first_request"][name]
        timing = ", ".join(f"{k} {v:,.1f}" for k, v in first["server_timing_ms"].items())
        lines.append(
            f"{what}: {first['wall_ms']:,.1f} ms round trip, status {first['status']} (Server-Timing: {timing})"
        )
    return "first requests of the fresh app (one of the callbacks builds the day's analytics):\n  " + "\n  ".join(lines)


def session_line(result: dict) -> str:
    """What the sign-in check costs a callback request, and who was signed in for what."""
    check = result["session_check_ms"]
    who = ", ".join(f"{page}: {username}" for page, username in result["signed_in_as"].items())
    return (
        f"session check (Server-Timing 'session', every callback request of the timed rounds, n={check['n']}): "
        f"median {check['median']:.2f} ms, p95 {check['p95']:.2f} ms, max {check['max']:.2f} ms; signed in as {who}"
    )


def write(result: dict, out: Path) -> None:
    """Keep one entry per warehouse size and server in `out`, this one replacing its predecessor."""
    saved = json.loads(out.read_text()) if out.exists() else {}
    sizes = saved.get("sizes", {})
    sizes.setdefault(str(result["warehouse_clients"]), {})[result["server"]] = result
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"sizes": sizes}, indent=2))


# --- the driver -----------------------------------------------------------------------------------------


def quick_warehouse() -> Path:
    """A 120-client demo warehouse in the temporary directory, made once."""
    clients, seed = QUICK_DEMO
    folder = Path(tempfile.gettempdir()) / "hipline-bench-pages"
    db = folder / f"demo-{clients}-{seed}.duckdb"
    if not db.exists():
        from etl.load import load
        from hipline.demo_data import generate_demo

        generate_demo(folder / "demo", clients, seed)
        loading = db.with_name("loading.duckdb")
        loading.unlink(missing_ok=True)
        report = load(loading, [folder / "demo"])
        if not report.all_readable:
            raise SystemExit(f"the demo data did not load: {[f.error for f in report.files if f.error]}")
        loading.rename(db)
    return db


def run(
    db: Path,
    rounds: int = ROUNDS,
    clients: int = CLIENTS,
    cohorts: int = COHORTS,
    workers: int = 0,
    say=lambda text: None,
    browser=None,
) -> dict:
    """The whole benchmark on the warehouse at `db`: choose, capture, restart, replay, report.
    `browser`: a Playwright browser already open in this process (the tests'), else one is launched."""
    load_before = os.getloadavg()
    started = time.perf_counter()
    sample = choose(db, clients, cohorts)
    seconds = {"choose": time.perf_counter() - started}
    say(
        f"caseload of {sample.clinician} ({sample.caseload} active clients), {len(sample.clients)} of their "
        f"clients, {len(sample.cohorts)} cohorts, today {sample.today}"
    )
    accounts, added = ensure_users(db, sample)
    say(
        "signed in as "
        + ", ".join(f"{a.username} ({a.role}, {a.staff_id})" for a in accounts.values())
        + (f"; added {', '.join(added)}" if added else "")
    )
    started = time.perf_counter()
    with serve(db, workers) as server:
        calls = capture(server.url, sample.visits(), accounts, browser=browser)
    seconds["capture"] = time.perf_counter() - started
    found = Counter(c.page for c in calls)
    say(f"captured {len(calls)} callback requests in {seconds['capture']:.0f} s: {dict(found)}")
    missing = [p for p in PAGES if not found[p]]
    if missing:
        raise RuntimeError(f"no callback request captured on: {', '.join(missing)}")
    started = time.perf_counter()
    with serve(db, workers) as server:
        step = max(1, rounds // 5)
        replayed = replay(
            server, calls, accounts, rounds, workers, lambda r, n: say(f"round {r} of {n}") if r % step == 0 else None
        )
    seconds["replay"] = time.perf_counter() - started
    return report(replayed, sample, db, workers, rounds, load_before, accounts) | {
        "phase_seconds": {k: round(v, 1) for k, v in seconds.items()}
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="the warehouse (default: bench_metrics.py's of --clients clients)")
    parser.add_argument("--clients", type=int, default=10_000, help="which bench_metrics.py warehouse (default 10000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--rounds", type=int, help=f"timed rounds after the warm-up (default {ROUNDS}; quick {QUICK_ROUNDS})"
    )
    parser.add_argument("--workers", type=int, default=0, help="serve with gunicorn and this many workers")
    parser.add_argument("--quick", action="store_true", help="a 120-client demo warehouse, few rounds (a smoke run)")
    parser.add_argument("--out", type=Path, help=f"the JSON file (default {OUT}; quick {QUICK_OUT})")
    args = parser.parse_args()

    from rich.console import Console

    console = Console(width=None if sys.stdout.isatty() else 200)
    if args.quick:
        db = args.db or quick_warehouse()
        rounds, clients, cohorts = args.rounds or QUICK_ROUNDS, QUICK_CLIENTS, QUICK_COHORTS
    else:
        if args.db:
            db = args.db
        else:
            from bench_metrics import _warehouse  # the same cached warehouses

            db = _warehouse(args.clients, args.seed)
        rounds, clients, cohorts = args.rounds or ROUNDS, CLIENTS, COHORTS
    result = run(db, rounds, clients, cohorts, args.workers, say=console.print)
    out = args.out or (QUICK_OUT if args.quick else OUT)
    write(result, out)
    for table in tables(result):
        console.print(table)
    console.print(first_request_line(result))
    console.print(session_line(result))
    console.print(
        f"{result['server']}; {rounds} rounds, {result['connections_opened']} connection(s); "
        f"{result['cpus']} CPUs, load average {result['load_average_before']} before, "
        f"{result['load_average_after']} after; written to {out}"
    )
    for error in result["errors"]:
        console.print(f"[red]{error['status']}[/] in {error['phase']}: {error['page']} {error['callback']}: "
                      f"{error['body'][:200]!r}", markup=True)  # fmt: skip
    if result["errors"]:
        console.print("the app's log ends:\n" + result["server_log_tail"], markup=False, highlight=False)


def _warehouse_clients(db: Path) -> int:
    from etl.warehouse import connect_read_only, scalar

    con = connect_read_only(db)
    try:
        return int(scalar(con, "SELECT count(*) FROM clients"))
    finally:
        con.close()


if __name__ == "__main__":
    main()
