"""The analytics layer: every number of SPEC §2 over the warehouse, read by the pages and the reports."""

from analytics.metrics import Analytics, newest_session_date
from analytics.scope import Scope

__all__ = ["Analytics", "Scope", "newest_session_date"]
