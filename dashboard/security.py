"""Sign-in, sessions and the rules every request passes before Dash sees it
(docs/security.md#roles-and-what-each-may-do).

Built from well-kept libraries, nothing hand-rolled:
- flask-login keeps who is signed in, in Flask's signed session cookie (HttpOnly, SameSite=Lax, Secure
  behind HTTPS), which ends after a working day and at sign-out. Each request reloads the user from
  the records: a disabled user, or a session older than the user's last password change, is signed out
  there and then; a new role is in force at once.
- argon2-cffi checks passwords (access.users); flask-limiter refuses a sixth failed sign-in within a
  minute, per account and per address (so the attempts are also slowed: five a minute at most),
  counted in a clinic network's Redis when there is one, so across every host and worker.
- Flask-WTF checks a CSRF token on every state-changing request: the sign-in and sign-out forms carry
  it as a field; Dash's callback requests send the `_csrf_token` cookie back as the `X-CSRFToken`
  header (Dash's renderer does this by itself once the cookie is set).
- flask-talisman sets the Content-Security-Policy (scripts only from the app, plus Dash's one inline
  script by its hash), X-Frame-Options DENY, nosniff and Referrer-Policy same-origin.

Only the sign-in page and static files are open; any other request without a valid session is sent
to the sign-in page (a page) or answered 401 with nothing in it (a callback). Anything that can hold
client data is sent with `Cache-Control: no-store`. Errors are answered in a sentence, never with a
stack trace, and no response names a server or framework version.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import flask
import flask_login
from dash import Dash
from flask import g, redirect, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from limits.errors import StorageError
from redis.backoff import NoBackoff
from redis.retry import Retry
from werkzeug.middleware.proxy_fix import ProxyFix

from access import audit, users
from access.audit import Actor
from access.roles import Viewer
from dashboard.timing import timed
from etl.settings import SESSION_HOURS, Settings
from etl.sniff import MAX_UPLOAD_MB

log = logging.getLogger(__name__)

LOGIN = "/login"
LOGOUT = "/logout"
# Open without signing in: the sign-in page and the files every page loads (no client data in them).
PUBLIC = (LOGIN, "/_dash-component-suites/", "/assets/", "/vendor/", "/_favicon.ico")
STATIC = PUBLIC[1:]
CSRF_COOKIE = "_csrf_token"  # the name Dash's renderer reads, and sends back as X-CSRFToken
SIGN_IN_LIMIT = "5 per minute;30 per hour"  # failed sign-ins, per account and per address
SIGN_IN_STORE_SECONDS = 2  # how long a sign-in waits for a clinic network's Redis before saying it is out of reach
TEMPLATE = Path(__file__).parent / "templates" / "login.html"
HOME = {"physio": "/", "instructor": "/cohorts", "admin": "/"}


@dataclass(frozen=True)
class SecurityOptions:
    """How the pages are protected; from the settings (etl.settings) through `create_app`."""

    secret_key: str | None = None  # None: one kept in the clinic's records, shared by every worker
    https: bool = False  # served over HTTPS by a proxy in front: Secure cookies, HSTS, the proxy's X-Forwarded-*
    session_hours: float = SESSION_HOURS
    max_upload_mb: int = MAX_UPLOAD_MB
    redis_url: str | None = None  # a clinic network's: the failed sign-ins counted there, for every host

    @classmethod
    def from_settings(cls, settings: Settings) -> SecurityOptions:
        return cls(settings.secret_key, settings.https, settings.session_hours, settings.max_upload_mb,
                   settings.redis_url)  # fmt: skip


class SignedIn(flask_login.UserMixin):
    """flask-login's view of a user. The id carries the session version: a session signed before the
    user's password was changed (or before they were disabled) no longer matches."""

    def __init__(self, user: users.User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.username}:{self.user.session_version}"


def install(app: Dash, db: Path, options: SecurityOptions) -> None:
    server = app.server
    if options.https:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=1, x_proto=1, x_host=1)
    server.config.update(
        SECRET_KEY=options.secret_key or users.session_secret(db),
        SESSION_COOKIE_NAME="hipline_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=options.https,
        PERMANENT_SESSION_LIFETIME=int(options.session_hours * 3600),
        # The cookie is set at sign-in and not again on every request: a working day from the sign-in,
        # not from the last click (and no re-signing of the cookie on every callback).
        SESSION_REFRESH_EACH_REQUEST=False,
        WTF_CSRF_TIME_LIMIT=int(options.session_hours * 3600),
        WTF_CSRF_SSL_STRICT=options.https,
        # A callback carrying an upload is its files in base64 (4/3 of their size) and a little JSON.
        MAX_CONTENT_LENGTH=int(options.max_upload_mb * 1024 * 1024 * 4 / 3) + 1024 * 1024,
        HIPLINE_DB=db,
        HIPLINE_SECURITY=options,
    )
    logins = flask_login.LoginManager(server)
    logins.session_protection = "strong"  # a session cookie carried to another address or browser is void

    @logins.user_loader
    def _load(user_id: str) -> SignedIn | None:
        username, _, version = user_id.rpartition(":")
        user = users.find(db, username)
        if user is None or not user.enabled or str(user.session_version) != version:
            return None
        return SignedIn(user)

    headers = None
    scripts_known = []

    @server.before_request
    def _scripts_known() -> None:
        """Dash adds its pages' inline script (it sets the tab's title) when it sets itself up, at the
        first request, just before this: only then are all the inline scripts' hashes known."""
        if not scripts_known:
            headers.content_security_policy = _content_security_policy(app)
            scripts_known.append(True)

    headers = Talisman(
        server,
        force_https=options.https,
        strict_transport_security=options.https,
        session_cookie_secure=options.https,
        frame_options="DENY",
        referrer_policy="same-origin",
        content_security_policy=_content_security_policy(app),
    )
    # In this order: a request without a session is sent to sign in before its CSRF token is looked at.
    server.before_request(_guard)
    CSRFProtect(server)
    limiter = _limiter(server, options.redis_url)
    _routes(server, db, limiter)
    server.after_request(_after)
    _errors(server, db)


def _limiter(server: flask.Flask, redis_url: str | None) -> Limiter:
    """Failed sign-ins counted in this process (one machine: every worker of `hipline serve` counts its
    own), or in a clinic network's Redis, so that a sixth failed sign-in is refused whichever host or
    worker it reaches. Redis unreachable: sign-ins are refused with a sentence saying so (`_errors`),
    within SIGN_IN_STORE_SECONDS, rather than counted nowhere."""
    if not redis_url:
        return Limiter(get_remote_address, app=server, storage_uri="memory://", default_limits=[])
    # One retry, no backoff: a connection kept from before a Redis restart fails once, then reconnects.
    waits = {"socket_connect_timeout": SIGN_IN_STORE_SECONDS, "socket_timeout": SIGN_IN_STORE_SECONDS,
             "retry": Retry(NoBackoff(), 1)}  # fmt: skip
    return Limiter(get_remote_address, app=server, storage_uri=redis_url, default_limits=[], key_prefix="hipline",
                   storage_options={**waits, "wrap_exceptions": True})  # fmt: skip


def _content_security_policy(app: Dash) -> dict:
    """What the pages may load: everything from the app itself, nothing from elsewhere. Dash renders
    one inline script (it starts the renderer), allowed by its hash; the grid and the charts set styles
    inline, hence 'unsafe-inline' for styles only. Bootstrap's icons are data: images."""
    return {
        "default-src": "'self'",
        "script-src": ["'self'", *app.csp_hashes()],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


# --- who is asking ----------------------------------------------------------------------------------


def address() -> str | None:
    """The browser's address (behind an HTTPS proxy: the one it forwarded for)."""
    return request.remote_addr if flask.has_request_context() else None


def viewer() -> Viewer | None:
    """The signed-in user of this request (None: nobody), worked out once by the guard."""
    return g.get("viewer")


def _options() -> SecurityOptions:
    return flask.current_app.config.get("HIPLINE_SECURITY") or SecurityOptions()


def _hours() -> float:
    return _options().session_hours


def max_upload_mb() -> int:
    """The most an upload may hold (HIPLINE_MAX_UPLOAD_MB)."""
    return _options().max_upload_mb


def _guard():
    """Every request but the public ones needs a signed-in user whose session has not ended."""
    if request.path.startswith(PUBLIC):
        return None
    with timed("session"):  # in the callbacks' Server-Timing: what the check costs a request
        user = flask_login.current_user
        signed_in = user.is_authenticated and time.time() - session.get("signed_in_at", 0) <= _hours() * 3600
    if signed_in:
        g.viewer = user.user.viewer
        return None
    if user.is_authenticated:  # a working day is over: the session ends
        flask_login.logout_user()
        session.clear()
    if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
        return redirect(f"{LOGIN}?next={request.full_path.rstrip('?')}")
    return flask.jsonify(error="sign in first", signIn=LOGIN), 401


def _after(response: flask.Response) -> flask.Response:
    if not request.path.startswith(STATIC):
        response.headers["Cache-Control"] = "no-store"
        # The token Dash's renderer sends back, given with the sign-in and each page the browser loads
        # (it is valid as long as the session): the callbacks in between need not carry a new one.
        if viewer() is not None and (request.method == "GET" or request.path == LOGIN):
            response.set_cookie(
                CSRF_COOKIE, generate_csrf(), secure=_options().https, samesite="Strict", httponly=False
            )
    return response


# --- the sign-in page -------------------------------------------------------------------------------


def _routes(server: flask.Flask, db: Path, limiter: Limiter) -> None:
    def account() -> str:
        return "account:" + request.form.get("username", "").strip().lower()

    def failed(response: flask.Response) -> bool:
        return response.status_code == 401

    limits = [
        limiter.limit(SIGN_IN_LIMIT, key_func=key, methods=["POST"], deduct_when=failed, scope="sign-in")
        for key in (get_remote_address, account)
    ]

    def login():
        if request.method == "GET":
            return _login_page(next_page=_safe_next(request.args.get("next")))
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        user = users.check_password(db, username, password) if username and password else None
        if user is None:
            audit.record(db, Actor(_tried(username), address()), "sign_in_failed", "wrong username or password",
                         outcome="failed")  # fmt: skip
            return _login_page("Wrong username or password.", username=username), 401
        session.clear()  # a fresh session: nothing from before the sign-in carries over
        flask_login.login_user(SignedIn(user))
        session.permanent = True
        session["signed_in_at"] = time.time()
        g.viewer = user.viewer  # signed in from this response on: it carries the CSRF cookie already
        audit.record(db, Actor.signed_in(user.viewer, address()), "sign_in", "signed in")
        return redirect(_safe_next(request.form.get("next")) or HOME[user.role])

    for limit in limits:
        login = limit(login)
    server.add_url_rule(LOGIN, "login", login, methods=["GET", "POST"])

    def logout():
        if viewer() is not None:
            users.end_sessions(db, viewer().username)  # on every device: a copied cookie is void too
            audit.record(db, Actor.signed_in(viewer(), address()), "sign_out", "signed out")
        flask_login.logout_user()
        session.clear()
        response = redirect(LOGIN)
        response.delete_cookie(CSRF_COOKIE)
        return response

    server.add_url_rule(LOGOUT, "logout", logout, methods=["POST"])


def _tried(username: str) -> str:
    """The name a failed sign-in tried, as the audit trail keeps it: whatever was typed, cut short."""
    return username[:80] or "(none)"


def _safe_next(target: str | None) -> str | None:
    """Only a path of this app (never another site: an open redirect would help phishing)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return None if parts.path.startswith((LOGIN, LOGOUT)) else target


def _login_page(message: str | None = None, *, username: str = "", next_page: str | None = None) -> str:
    return flask.render_template_string(
        TEMPLATE.read_text(encoding="utf-8"),
        message=message,
        username=username,
        next_page=next_page or request.form.get("next") or "",
        csrf_token=generate_csrf(),
    )


# --- refusals and errors, in a sentence ------------------------------------------------------------


class Refused(Exception):
    """A request the signed-in user has no right to make (already audited)."""


def _errors(server: flask.Flask, db: Path) -> None:
    def page_or_json(status: int, message: str):
        if request.path.startswith("/_dash") or request.is_json:
            return flask.jsonify(error=message), status
        return flask.render_template_string(ERROR_PAGE, status=status, message=message), status

    @server.errorhandler(Refused)
    def _refused(_error):
        return page_or_json(403, "You do not have the right to do this.")

    @server.errorhandler(CSRFError)
    def _csrf(error):
        who = viewer()
        if who is not None:  # a signed-in browser sending a request it did not make: another site's doing?
            audit.record(db, Actor.signed_in(who, address()), "request",
                         f"{request.method} {request.path} without a valid CSRF token ({error.description})",
                         outcome="refused")  # fmt: skip
        if request.path == LOGIN:
            return _login_page("The sign-in form had expired: please sign in again."), 400
        return page_or_json(400, "This request was refused: reload the page and try again.")

    @server.errorhandler(429)
    def _too_many(_error):
        username = request.form.get("username", "").strip()
        audit.record(db, Actor(_tried(username), address()), "sign_in_failed",
                     "refused: too many failed sign-ins", outcome="refused")  # fmt: skip
        return _login_page("Too many failed sign-ins: wait a minute before trying again.", username=username), 429

    @server.errorhandler(StorageError)
    def _limits_unreachable(error):
        log.error("the failed sign-ins cannot be counted: Redis is out of reach (%s)", error.storage_error)
        message = ("Signing in is not possible just now: the server that counts failed sign-ins cannot be reached. "
                   "Try again in a few minutes, or tell whoever looks after hipline's servers.")  # fmt: skip
        return _login_page(message), 503

    @server.errorhandler(413)
    def _too_large(_error):
        limit = _options().max_upload_mb
        return page_or_json(413, f"This is more than an upload may hold ({limit} MB): upload fewer files at once.")

    @server.errorhandler(404)
    def _not_found(_error):
        return page_or_json(404, "There is no such page.")

    @server.errorhandler(405)
    def _not_allowed(_error):
        return page_or_json(405, "This address does not take that kind of request.")

    @server.errorhandler(500)
    def _failed(error):
        cause = getattr(error, "original_exception", None) or error
        log.error("a request failed: %s %s", request.method, request.path, exc_info=cause)
        return page_or_json(500, "Something went wrong on the server; its log has the details.")


ERROR_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>hipline</title>
<link rel="stylesheet" href="/vendor/bootstrap.min.css"></head>
<body class="p-4"><h1 class="h4">{{ status }}</h1><p>{{ message }}</p><p><a href="/">hipline</a></p></body></html>"""
