"""One demo user per role, for trying hipline on the demo clinic: printed by `hipline demo`, listed in
the README. FOR THE DEMO ONLY: these passwords are public; a clinic adds its own users with
`hipline user add` (and never runs the demo's users on its data).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from access import users
from access.audit import Actor
from etl.warehouse import connect_read_only

# username -> (role, password)
DEMO_USERS = {
    "physio": ("physio", "demo-physio-pass"),
    "instructor": ("instructor", "demo-instructor-pass"),
    "admin": ("admin", "demo-admin-pass"),
}
# Whom each demo user is: the member of staff of that role with the most active clients (a physio's
# caseload, an instructor's class members), so that each sees a full demo.
WHO = {
    "physio": """SELECT s.staff_id, s.name FROM staff AS s LEFT JOIN clients AS c ON c.clinician_id = s.staff_id
                 WHERE s.role = 'physio' GROUP BY ALL ORDER BY count(c.client_id) DESC, s.staff_id LIMIT 1""",
    "instructor": """SELECT s.staff_id, s.name FROM staff AS s LEFT JOIN cohorts AS g ON g.instructor_id = s.staff_id
                     LEFT JOIN clients AS c ON c.cohort_id = g.cohort_id
                     WHERE s.role = 'instructor' GROUP BY ALL ORDER BY count(c.client_id) DESC, s.staff_id LIMIT 1""",
    "admin": "SELECT staff_id, name FROM staff WHERE role = 'admin' ORDER BY staff_id LIMIT 1",
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    staff_id: str
    name: str


def add_demo_users(db: Path) -> list[DemoUser]:
    """The demo users of the warehouse `db`, added when missing (one that exists keeps its password).
    Only for a warehouse loaded from the demo data."""
    con = connect_read_only(db)
    try:
        who = {username: con.execute(WHO[role]).fetchall() for username, (role, _) in DEMO_USERS.items()}
    finally:
        con.close()
    made = []
    by = Actor.command_line()
    for username, (role, password) in DEMO_USERS.items():
        if not who[username]:
            raise ValueError(f"the roster has no {role} to be the demo's {username}")
        staff_id, name = who[username][0]
        if users.find(db, username) is None:
            users.add_user(db, staff_id, name, role, password, by=by, username=username)
        made.append(DemoUser(username, password, role, staff_id, name))
    return made
