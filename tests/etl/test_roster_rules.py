"""Staff, cohorts and clients: required columns, allowed values, references, and ids."""

from __future__ import annotations

from datetime import date

from tests.conftest import load_files, query, write


def test_roster_rows_with_problems_are_quarantined(db, tmp_path):
    staff = write(
        tmp_path,
        "staff.csv",
        "staff_id,name,role\nS-1,Ana,Physiotherapist\nS-2,Ben,surgeon\nS-3,,physio\nS-1,Ana again,physio\n",
    )
    cohorts = write(
        tmp_path,
        "cohorts.csv",
        "cohort_id,name,instructor_id,start_date,weeks\nG-1,Hips,S-1,2026-03-02,12\n"
        "G-2,Knees,S-9,2026-03-02,12\nG-3,Backs,S-1,2026-03-02,200\n",
    )
    clients = write(
        tmp_path,
        "clients.csv",
        "client_id,start_date,region,sessions_per_week,clinician_id,cohort_id,end_date,birth_year\n"
        "C-1,2026-03-02,Lower back,3,S-1,G-1,,1960\n"
        "C-2,2026-03-02,shoulder,3,S-1,,,1960\n"
        "C-3,2026-03-02,hip,9,S-1,,,1960\n"
        "C-4,2026-03-02,hip,3,S-7,G-9,,1960\n"
        "C-5,2026-03-02,hip,3,S-1,,2026-01-01,1960\n"
        "C-6,2026-03-02,hip,2.5,S-1,,,1960\n"
        "C-7,2026-08-03,knee,2,S-1,,,1860\n"
        "C-1,2026-04-01,hip,3,S-1,,,1960\n",
    )
    report = load_files(db, staff, cohorts, clients)
    assert [(f.kind, f.rows_read, f.rows_loaded, f.rows_quarantined) for f in report.files] == [
        ("staff", 4, 1, 3),
        ("cohorts", 3, 1, 2),
        ("clients", 8, 1, 7),
    ]
    assert query(db, "SELECT source_file, source_row, reason FROM quarantine ORDER BY source_file, source_row") == [
        ("clients.csv", 3, "region 'shoulder' is not one of hip, knee, low_back, other"),
        ("clients.csv", 4, "sessions_per_week=9 is outside 1–7"),
        (
            "clients.csv",
            5,
            "clinician_id 'S-7' is not in the staff list; cohort_id 'G-9' is not in the cohort list",
        ),
        ("clients.csv", 6, "end_date 2026-01-01 is before start_date 2026-03-02"),
        ("clients.csv", 7, "sessions_per_week=2.5 is not a whole number"),
        ("clients.csv", 8, "birth_year=1860 is outside 1900–2030"),
        ("clients.csv", 9, "client_id 'C-1' already appears in row 2 of this file"),
        ("cohorts.csv", 3, "instructor_id 'S-9' is not in the staff list"),
        ("cohorts.csv", 4, "weeks=200 is outside 1–104"),
        ("staff.csv", 3, "role 'surgeon' is not one of physio, instructor, admin"),
        ("staff.csv", 4, "name is missing"),
        ("staff.csv", 5, "staff_id 'S-1' already appears in row 2 of this file"),
    ]
    assert query(db, "SELECT staff_id, role FROM staff") == [("S-1", "physio")]
    assert query(db, "SELECT client_id, region FROM clients") == [("C-1", "low_back")]


def test_a_client_starting_next_month_is_on_the_roster(db, tmp_path):
    # Start dates are plans, not events: a client booked to start after today is kept.
    staff = write(tmp_path, "staff.csv", "staff_id,name,role\nS-1,Ana,physio\n")
    clients = write(tmp_path, "clients.csv", "client_id,start_date,region,sessions_per_week\nC-1,2026-07-20,hip,2\n")
    load_files(db, staff, clients)
    assert query(db, "SELECT client_id, start_date FROM clients") == [("C-1", date(2026, 7, 20))]


def test_the_newest_roster_file_wins_and_a_bad_update_keeps_the_last_good_version(db, tmp_path):
    staff = write(tmp_path, "staff.csv", "staff_id,name,role\nS-1,Ana,physio\n")
    first = write(tmp_path, "clients_june.csv", "client_id,start_date,region,sessions_per_week\nC-1,2026-03-02,hip,2\n")
    load_files(db, staff, first)
    update = write(
        tmp_path,
        "clients_july.csv",
        "client_id,start_date,region,sessions_per_week\nC-1,2026-03-02,hip,3\nC-2,2026-04-01,knee,9\n",
    )
    load_files(db, update)
    assert query(db, "SELECT client_id, sessions_per_week, source_file FROM clients") == [
        ("C-1", 3, "clients_july.csv")
    ]
    bad_update = write(
        tmp_path, "clients_aug.csv", "client_id,start_date,region,sessions_per_week\nC-1,2026-03-02,hip,12\n"
    )
    load_files(db, bad_update)
    assert query(db, "SELECT client_id, sessions_per_week, source_file FROM clients") == [
        ("C-1", 3, "clients_july.csv")
    ]


def test_friendly_headers_and_aliases(db, tmp_path):
    staff = write(tmp_path, "team.csv", "Staff ID;Full name;Job title;E-mail\nS-1;Ana;PT;ana@x\n")
    clients = write(
        tmp_path,
        "patients.csv",
        "Patient ID,Name,Start,Body region,Frequency,Physio\nC-1,Zoë,2026-03-02,knee,2,S-1\n",
    )
    report = load_files(db, staff, clients)
    assert [(f.kind, f.rows_loaded) for f in report.files] == [("staff", 1), ("clients", 1)]
    assert query(db, "SELECT staff_id, name, role, email FROM staff") == [("S-1", "Ana", "physio", "ana@x")]
    assert query(db, "SELECT client_id, display_name, clinician_id FROM clients") == [("C-1", "Zoë", "S-1")]
