"""`hipline serve --workers N` serves the same pages behind gunicorn, signed in."""

from __future__ import annotations

import pytest

from tests.browser.conftest import serve
from tests.http_client import Client, callback_body

pytestmark = pytest.mark.slow


def test_gunicorn_workers_serve_the_pages_and_their_callbacks_to_a_signed_in_user(demo_warehouse):
    with serve(demo_warehouse, "--workers", "2") as url:
        nobody = Client(url)
        assert nobody.get("/clients/C-00001").status == 302
        physio = Client(url)
        assert physio.sign_in("physio", "demo-physio-pass").status == 302
        page = physio.get("/clients/C-00001")
        assert page.status == 200 and "hipline" in page.body
        assert page.headers["Server"] == "hipline", "gunicorn names no version either"
        ping = callback_body([("ping", "children")], [("ping", "n_clicks", 1)])
        for _ in range(6):  # both workers, several times each: the session is valid in every worker
            answer = physio.callback(ping)
            assert answer.status == 200
            assert "total;dur=" in answer.headers["Server-Timing"] and "session;dur=" in answer.headers["Server-Timing"]
        assert nobody.callback(ping).status == 401
