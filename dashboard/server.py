"""`hipline serve --workers N`: the pages behind gunicorn, N worker processes.

Each worker builds its own app (and its own warm analytics, dashboard.clinic_data) after the fork:
a DuckDB connection must not cross a fork. Decisions are shared through the SQLite file beside the
warehouse, which every worker watches.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from gunicorn.app.base import BaseApplication


class _Dashboard(BaseApplication):
    def __init__(self, db: Path, options: dict, today: date | None, red_flags: Path | None) -> None:
        self.db, self.options, self.today, self.red_flags = db, options, today, red_flags
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from dashboard.app import create_app

        return create_app(self.db, self.today, self.red_flags).server


def _warm_up(worker) -> None:
    """Before a worker takes requests, let it render the page shell once: Dash's first-request setup and
    the day's analytics build then happen here, not inside a clinician's first (possibly concurrent)
    requests. (A fresh worker once answered its first callback with an error; see the closing note.)"""
    response = worker.wsgi.test_client().get("/")
    worker.log.info("worker %s warmed up: GET / %s", worker.pid, response.status_code)


def serve_with_gunicorn(
    db: Path, host: str, port: int, workers: int, today: date | None = None, red_flags: Path | None = None
) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": 4,  # a page asks for several callbacks at once; each worker answers them in turn (one lock)
        "timeout": 120,  # a first build at 10 000 clients, or an import, takes seconds
        "control_socket_disable": True,  # no control socket in the home directory
        "accesslog": None,
        "post_worker_init": _warm_up,
    }
    _Dashboard(db, options, today, red_flags).run()
