"""The roles of docs/security.md#roles-and-what-each-may-do and what each may do. A right is asked for by name
wherever something is read
or changed (`Viewer.may`); this table is the only place that says which role has it."""

from __future__ import annotations

from dataclasses import dataclass

from etl.rules import ROLES as ROSTER_ROLES

ROLES = tuple(ROSTER_ROLES)  # physio, instructor, admin: the roster's roles (docs/input-formats.md)

# What each right lets a user do, in words (refusals, the docs, the users page).
RIGHT_WORDS = {
    "caseload": "see the caseload of the clients in their scope",
    "client": "open a client's page",
    "cohorts": "open the cohort pages",
    "decide": "accept or override a recommendation",
    "review": "review a red flag",
    "export_client": "export clients' progress reports and numbers",
    "export_cohort": "export cohort reports and numbers",
    "import": "import files",
    "undo": "undo a load",
    "users": "manage users",
    "audit": "read the audit trail",
}
_EVERY_RIGHT = frozenset(RIGHT_WORDS)
RIGHTS: dict[str, frozenset[str]] = {
    # a physiotherapist: their caseload (the clients whose clinician they are)
    "physio": frozenset({"caseload", "client", "decide", "review", "export_client"}),
    # an instructor: the members of the cohorts they instruct
    "instructor": frozenset({"caseload", "client", "cohorts", "decide", "export_cohort"}),
    "admin": _EVERY_RIGHT,
}


@dataclass(frozen=True)
class Viewer:
    """A signed-in user as every read and write sees them. Their scope (which clients) comes from the
    roster: `Analytics.scope_of(viewer.role, viewer.staff_id)`."""

    username: str
    staff_id: str
    name: str
    role: str

    def may(self, right: str) -> bool:
        if right not in _EVERY_RIGHT:
            raise KeyError(f"no such right: {right!r}")
        return right in RIGHTS[self.role]
