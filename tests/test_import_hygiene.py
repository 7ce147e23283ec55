"""The packages below the pages work without them: importing every module of them, in a fresh Python,
loads neither Dash nor the dashboard (nor, for access, Flask). import-linter checks our own imports;
this catches Dash arriving any other way (a library that pulls it in, an import made at run time)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]

# Import each module named, and every module of a package named, then name what was loaded of the
# forbidden ones.
IMPORT_ALL = """
import importlib, json, pkgutil, sys
forbidden = set(sys.argv[1].split(","))
for name in sys.argv[2:]:
    imported = importlib.import_module(name)
    for module in pkgutil.walk_packages(getattr(imported, "__path__", []), name + "."):
        importlib.import_module(module.name)
print(json.dumps(sorted(m for m in sys.modules if m.partition(".")[0] in forbidden)))
"""

DASH = ("dash", "dash_ag_grid", "dash_bootstrap_components", "dashboard")


def loaded(packages: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    """The modules of `forbidden` that importing all of `packages` loads, in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, ",".join(forbidden), *packages],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("packages", "forbidden"),
    [
        (("etl", "analytics", "presentation", "reports"), DASH),
        (("access",), (*DASH, "flask")),
    ],
    ids=["etl-analytics-presentation-reports", "access"],
)
def test_the_packages_below_the_pages_load_neither_dash_nor_the_dashboard(packages, forbidden):
    assert loaded(packages, forbidden) == []


def test_the_modules_the_command_and_the_reports_start_from_load_no_dash():
    entry = ("analytics.metrics", "presentation.figures", "reports.client_report", "reports.cohort_report",
             "reports.caseload", "reports.tables")  # fmt: skip
    assert loaded(entry, DASH) == []
