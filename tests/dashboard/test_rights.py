"""Every callback of the pages says which right it needs (dashboard.rights): none is left unmarked."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from access.roles import RIGHTS
from dashboard.rights import NEEDS_NO_RIGHT

# A fresh interpreter: Dash hands the callbacks registered at import to the first app set up in a process.
LIST_RIGHTS = """
import json, sys
from pathlib import Path
from dashboard.app import create_app
from dashboard.rights import right_of
app = create_app(Path(sys.argv[1]))
app.server.test_client().get("/login")  # Dash sets itself up at its first request
print(json.dumps({o: right_of(e["callback"]) for o, e in app.callback_map.items() if "callback" in e}))
"""


@pytest.fixture(scope="module")
def rights_by_output(demo_warehouse) -> dict[str, str | None]:
    done = subprocess.run([sys.executable, "-c", LIST_RIGHTS, str(demo_warehouse)], capture_output=True, text=True,
                          check=True, timeout=120)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_callback_names_the_right_it_needs(rights_by_output):
    assert len(rights_by_output) > 30
    unmarked = [output for output, right in rights_by_output.items() if right is None]
    assert unmarked == []
    known = set().union(*RIGHTS.values()) | {NEEDS_NO_RIGHT}
    assert set(rights_by_output.values()) <= known


@pytest.mark.parametrize(
    ("output", "right"),
    [
        ("upload-report.children", "import"),
        ("decision-modal.is_open@", "decide"),
        ("decision-title.children", "decide"),
        ("users-grid.rowData", "users"),
        ("user-change-message.children", "users"),
        ("audit-grid.rowData", "audit"),
        ("audit-download.data", "audit"),
        ("client-report-download.data", "export_client"),
        ("client-numbers-download.data", "export_client"),
        ("caseload-zip-download.data", "export_client"),
        ("caseload-numbers-download.data", "export_client"),
        ("cohort-report-download.data", "export_cohort"),
        ("cohort-numbers-download.data", "export_cohort"),
        ("client-header.children", "client"),
        ("caseload-grid.rowData", "caseload"),
        ("cohort-stats.children", "cohorts"),
        ("_pages_content.children", NEEDS_NO_RIGHT),  # Dash's routing: each page's layout checks the rights
    ],
)
def test_what_changes_or_exports_anything_needs_its_own_right(rights_by_output, output, right):
    matching = {o: r for o, r in rights_by_output.items() if output in o}
    assert matching and set(matching.values()) == {right}, matching
