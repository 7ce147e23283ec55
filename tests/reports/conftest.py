from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import chromium_path, in_ci


@pytest.fixture(autouse=True, scope="session")
def _needs_chromium_and_poppler():
    if chromium_path() is None or shutil.which("pdftotext") is None:
        if in_ci():
            pytest.fail("CI=true but Chromium or poppler-utils is missing: the report tests must run in CI")
        pytest.skip("the charts need Chromium (kaleido) and the checks poppler-utils")


@pytest.fixture(scope="session")
def metrics(demo_warehouse, tmp_path_factory) -> Path:
    """`hipline metrics` of the demo warehouse: the numbers the reports must show."""
    from tests.reports.pdfs import hipline, on_demo

    out = tmp_path_factory.mktemp("metrics")
    assert hipline("metrics", *on_demo(demo_warehouse), "--out", str(out)).returncode == 0
    return out
