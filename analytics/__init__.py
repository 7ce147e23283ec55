"""The analytics layer: every number of docs/metrics.md over the warehouse, read by the pages and the reports."""

from analytics.metrics import Analytics
from analytics.scope import Scope
from analytics.today import NEWEST, newest_session_date, resolve_today

__all__ = ["NEWEST", "Analytics", "Scope", "newest_session_date", "resolve_today"]
