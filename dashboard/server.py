"""`hipline serve`: the pages on Dash's development server, or (`--workers N`) behind gunicorn, N worker
processes. Neither names itself or its version in a response (docs/security.md#roles-and-what-each-may-do).

Each worker builds its own app (and its own warm analytics, dashboard.clinic_data) after the fork:
a DuckDB connection must not cross a fork. Decisions are shared through the SQLite file beside the
warehouse, which every worker watches.
"""

from __future__ import annotations

from pathlib import Path

import gunicorn.http.wsgi
from dash import Dash
from gunicorn.app.base import BaseApplication
from werkzeug.serving import WSGIRequestHandler

from analytics.today import Today
from etl.settings import Settings

# gunicorn names itself in every response's Server header; docs/security.md#roles-and-what-each-may-do: no server
# is named.
gunicorn.http.wsgi.SERVER = "hipline"


class _Dashboard(BaseApplication):
    def __init__(self, db: Path, options: dict, today: Today, settings: Settings) -> None:
        self.db, self.options, self.today, self.settings = db, options, today, settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from dashboard.app import create_app

        return create_app(self.db, self.today, self.settings).server


def serve_with_werkzeug(app: Dash, host: str, port: int) -> None:
    """Dash's development server (Werkzeug's), saying "hipline" where it would say "Werkzeug/3.1 Python/3.11"."""
    WSGIRequestHandler.version_string = lambda _handler: "hipline"
    app.run(host=host, port=port, debug=False)


def _warm_up(worker) -> None:
    """Before a worker takes requests, let it answer one request and build the day's analytics: Dash's
    first-request setup and the build then happen here, not inside a clinician's first (possibly
    concurrent) requests. (A fresh worker once answered its first callback with an error.)"""
    from dashboard import clinic_data

    response = worker.wsgi.test_client().get("/login")
    clinic_data.clinic().has_data()
    worker.log.info("worker %s warmed up: GET /login %s", worker.pid, response.status_code)


def serve_with_gunicorn(
    db: Path,
    host: str,
    port: int,
    workers: int,
    today: Today = None,
    settings: Settings | None = None,
) -> None:
    """Serve with `workers` gunicorn processes; each builds its app from the same `settings` (read once
    by the command, before the fork)."""
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": 4,  # a page asks for several callbacks at once; each worker answers them in turn (one lock)
        "timeout": 120,  # a first build at 10 000 clients, or an import, takes seconds
        "control_socket_disable": True,  # no control socket in the home directory
        "accesslog": None,
        "post_worker_init": _warm_up,
    }
    _Dashboard(db, options, today, settings or Settings()).run()
