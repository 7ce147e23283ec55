"""Tables on their way out to a spreadsheet (CSV, XLSX): text that a spreadsheet would run as a formula
is neutralised. Imports nothing of the metrics, so that the audit trail's export stays light."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

# Text a spreadsheet would run as a formula (docs/input-formats.md): it is stored as written, and neutralised on
# the way out with a leading apostrophe (the OWASP advice for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every text cell that starts like a formula prefixed with an apostrophe."""
    import pandas as pd  # here: importing this module (the audit trail does, on every write) costs no pandas

    safe = table.copy()
    for column in safe.columns:
        if pd.api.types.is_string_dtype(safe[column]):
            text = safe[column]
            risky = text.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
            safe[column] = text.where(~risky, "'" + text)
    return safe
