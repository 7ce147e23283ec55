"""`hipline serve --workers N` serves the same pages behind gunicorn."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.browser.conftest import serve

pytestmark = pytest.mark.slow


def test_gunicorn_workers_serve_the_pages_and_their_callbacks(demo_warehouse):
    with serve(demo_warehouse, "--workers", "2") as url:
        with urllib.request.urlopen(f"{url}/clients/C-00001", timeout=30) as response:
            assert response.status == 200
            assert "hipline" in response.read().decode()
        ping = {
            "output": "ping.children",
            "outputs": {"id": "ping", "property": "children"},
            "inputs": [{"id": "ping", "property": "n_clicks", "value": 1}],
            "changedPropIds": ["ping.n_clicks"],
            "state": [],
        }
        request = urllib.request.Request(
            f"{url}/_dash-update-component",
            data=json.dumps(ping).encode(),
            headers={"Content-Type": "application/json"},
        )
        for _ in range(6):  # both workers, several times each
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 200
                assert "total;dur=" in response.headers["Server-Timing"]
