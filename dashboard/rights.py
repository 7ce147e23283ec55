"""What a page's callback asks before it reads or changes anything (docs/security.md#roles-and-what-each-may-do):
who is signed in, what
they may see (their scope: `reading`) and do (their rights: `@requires`), and the audit rows it writes.

Every callback of the pages either reads through `reading` (so a client outside the viewer's scope
reads exactly as one that does not exist) or needs no data at all; every one is marked
`@requires(<right>)`, and a viewer without the right is refused (403, audited) before Dash runs it
(`check_callbacks`: a background callback too, which Dash would otherwise start as a job first). A
callback not marked at all is refused to everyone: private by default.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from datetime import date

import flask
from dash import Dash

from access import audit as audit_trail
from access.audit import Actor
from access.roles import RIGHT_WORDS, Viewer
from analytics import Analytics
from dashboard import components as ui
from dashboard import security
from dashboard.clinic_data import clinic
from presentation.formats import parse_day

# The audit action a refusal of each right is filed under.
REFUSED_ACTION = {
    "caseload": "request", "client": "view_client", "cohorts": "view_cohort", "decide": "decision",
    "review": "review", "export_client": "export", "export_cohort": "export", "import": "import",
    "undo": "undo", "users": "user_change", "audit": "request",
}  # fmt: skip
NEEDS_NO_RIGHT = "signed in"  # a callback that shows nothing of the clinic's data (the day's note, a link)
UPDATE = "/_dash-update-component"  # where every callback request goes


def current() -> Viewer:
    """The signed-in user of this request. The guard (dashboard.security) let the request through only
    with one; a callback run without one is refused rather than read for everyone."""
    viewer = security.viewer()
    if viewer is None:
        raise security.Refused("no signed-in user")
    return viewer


@contextlib.contextmanager
def reading(today: str | date | None = None) -> Iterator[Analytics]:
    """The day's analytics as the signed-in user may see them: every read within their scope. A read of
    a client outside it answers as for a client that does not exist, and is audited as refused."""
    day = today if isinstance(today, date) or today is None else parse_day(today)
    with clinic().analytics(current(), day, _outside) as analytics:
        yield analytics


def _outside(client_id: str) -> None:
    refused("view_client", f"client {client_id}: not in their scope or not in the warehouse", client_id=client_id)


def actor() -> Actor:
    """The signed-in user and their address, as the audit trail names them."""
    return Actor.signed_in(current(), security.address())


def record(action: str, what: str, *, client_id: str | None = None, outcome: str = "done") -> None:
    """An audit row naming the signed-in user and their address."""
    audit_trail.record(clinic().db, actor(), action, what, client_id=client_id, outcome=outcome)


def refused(action: str, what: str, *, client_id: str | None = None) -> None:
    """Audit a request outside the viewer's rights or scope. The caller answers it as it would a request
    for something that does not exist: nothing in the answer says it does."""
    record(action, what, client_id=client_id, outcome="refused")


def refused_page(right: str, page: str, what: str | None = None, *, client_id: str | None = None):
    """A page that needs `right`, which the viewer's role does not include: audited as refused, under the
    action a refused callback of that right is filed under ('<page>: not part of their role'), and
    answered 'Not part of your role: <what>' (`what`: `page` unless told)."""
    refused(REFUSED_ACTION[right], f"{page}: not part of their role", client_id=client_id)
    return ui.not_for_role(what or page)


def requires(right: str) -> Callable:
    """Mark a callback with the right it needs; a viewer without it is refused (403) and audited, and
    the callback does not run."""
    if right != NEEDS_NO_RIGHT and right not in RIGHT_WORDS:
        raise KeyError(f"no such right: {right!r}")

    def mark(callback: Callable) -> Callable:
        @functools.wraps(callback)
        def checked(*args, **kwargs):
            _allow(right, callback.__name__)  # however the callback is reached, not only over HTTP
            return callback(*args, **kwargs)

        checked.hipline_right = right
        return checked

    return mark


def right_of(callback: Callable) -> str | None:
    """The right a registered callback needs: its mark; Dash's own (the pages' routing, which renders a
    page's layout: each layout checks the viewer's rights) need only a signed-in user; None: unmarked."""
    right = getattr(callback, "hipline_right", None)
    if right is None and callback.__module__.split(".")[0] == "dash":
        return NEEDS_NO_RIGHT
    return right


def check_callbacks(app: Dash) -> Callable[[], None]:
    """A before-request hook: the right a callback request's callback needs, checked before it runs."""

    def check() -> None:
        if flask.request.path != UPDATE or flask.request.method != "POST":
            return
        body = flask.request.get_json(silent=True) or {}
        entry = app.callback_map.get(body.get("output"))
        if entry is None or "callback" not in entry:  # none, or one that runs in the browser only
            flask.abort(404)
        _allow(right_of(entry["callback"]), body.get("output", "")[:120])

    return check


def _allow(right: str | None, what: str) -> None:
    """Refuse (audited, then 403) a viewer without `right`; None, a callback that names none: everyone."""
    if right == NEEDS_NO_RIGHT or (right is not None and current().may(right)):
        return
    words = RIGHT_WORDS.get(right, "run a callback that names no right")
    refused(REFUSED_ACTION.get(right, "request"), f"no right to {words} ({what})")
    raise security.Refused(right or "unmarked")
