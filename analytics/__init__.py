"""The analytics layer: every number of docs/metrics.md over the warehouse, read by the pages and the reports.

The names below are imported on first use: `hipline load` audits through `analytics.export` and
should not pay for the metrics' imports."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analytics.metrics import Analytics
    from analytics.scope import Scope
    from analytics.today import NEWEST, newest_session_date, resolve_today

_HOMES = {
    "Analytics": "analytics.metrics",
    "Scope": "analytics.scope",
    "NEWEST": "analytics.today",
    "newest_session_date": "analytics.today",
    "resolve_today": "analytics.today",
}
__all__ = ["NEWEST", "Analytics", "Scope", "newest_session_date", "resolve_today"]


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module 'analytics' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
