"""Every load is recorded (who, when, which files, their sha256, rows read = loaded + quarantined, what each
replaced), and `preview` says before a load which files would replace an earlier version."""

from __future__ import annotations

import hashlib
import os
import stat

from etl.history import history
from etl.load import preview
from tests.conftest import SESSION_HEADER, load_files, query, write

ROW = "C-1,2026-06-{day:02d},yes,studio,bridge,2,2,,10,none,both,3,{pain},2,3,5,good,,S-2"


def _june(folder, pains: list[tuple[int, int]], extra: str = ""):
    rows = [ROW.format(day=d, pain=p) for d, p in pains]
    return write(folder, "june.csv", "\n".join([SESSION_HEADER, *rows]) + "\n" + extra)


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_load_is_recorded_with_who_when_which_files_and_what_each_replaced(loaded_roster, tmp_path):
    v1 = _june(tmp_path / "v1", [(1, 3), (2, 11), (3, 4)])  # pain 11 is quarantined
    v2 = _june(tmp_path / "v2", [(1, 3), (2, 5)])
    first = load_files(loaded_roster, v1, loaded_by="os:ana")
    again = load_files(loaded_roster, v1, loaded_by="S-3")
    corrected = load_files(loaded_roster, v2, loaded_by="S-1")
    assert (first.run_id, again.run_id, corrected.run_id) == (2, 3, 4)  # the roster was load 1

    entries = history(loaded_roster)
    assert [(e.load, e.action, e.loaded_by) for e in entries] == [
        (4, "load", "S-1"),
        (3, "load", "S-3"),
        (2, "load", "os:ana"),
        (1, "load", None),  # the fixture's load says nobody
    ]
    assert all(e.started <= e.finished for e in entries)
    assert entries[0].started >= entries[1].finished >= entries[2].started

    [replaced] = entries[0].files
    assert (replaced.file, replaced.kind, replaced.status, replaced.now) == (
        "june.csv",
        "session_log",
        "replaced",
        "loaded",
    )
    assert replaced.sha256 == _sha256(v2)
    assert (replaced.rows_read, replaced.rows_loaded, replaced.rows_quarantined) == (2, 2, 0)
    earlier = replaced.replaced
    assert (earlier.load, earlier.rows_read, earlier.rows_loaded, earlier.rows_quarantined) == (2, 3, 2, 1)

    [unchanged] = entries[1].files
    assert (unchanged.status, unchanged.sha256, unchanged.rows_read, unchanged.replaced) == (
        "unchanged",
        _sha256(v1),
        3,
        None,
    )
    assert unchanged.note.startswith("already loaded on ")

    [original] = entries[2].files
    assert (original.status, original.now, original.sha256) == ("loaded", "superseded", _sha256(v1))
    assert [f.file for f in entries[3].files] == ["staff.csv", "cohorts.csv", "clients.csv"]
    assert history(loaded_roster, limit=2) == entries[:2]


def test_an_unreadable_file_is_recorded_in_its_load(loaded_roster, tmp_path):
    empty = write(tmp_path, "empty.csv", "")
    report = load_files(loaded_roster, empty, _june(tmp_path, [(1, 3)]), loaded_by="S-3")
    [entry] = history(loaded_roster, limit=1)
    assert entry.load == report.run_id
    assert [(f.file, f.status) for f in entry.files] == [("june.csv", "loaded"), ("empty.csv", "error")]
    assert entry.files[1].error == "empty.csv is empty (0 bytes)"


def test_preview_says_which_files_would_replace_an_earlier_version_with_rows_before_and_after(loaded_roster, tmp_path):
    load_files(loaded_roster, _june(tmp_path / "v1", [(1, 3), (2, 11), (3, 4)]))  # 3 read = 2 + 1
    # The corrected file: 4 rows, a blank line (not a row) and a line with too many values (a row, quarantined).
    _june(
        tmp_path / "v2",
        [(1, 3), (2, 5), (3, 4), (4, 2)],
        extra="\n" + ROW.format(day=5, pain=2) + ",1,2,3\n",
    )
    write(tmp_path / "v2", "july.csv", SESSION_HEADER + "\n" + ROW.format(day=7, pain=1).replace("-06-", "-07-"))
    write(tmp_path / "v2", "staff.csv", (tmp_path / "roster" / "staff.csv").read_text())  # the same bytes
    before = query(loaded_roster, "SELECT count(*) FROM loads")

    previews = {p.file: p for p in preview(loaded_roster, [tmp_path / "v2"])}

    assert query(loaded_roster, "SELECT count(*) FROM loads") == before, "a preview writes nothing"
    june = previews["june.csv"]
    assert (june.status, june.kind, june.earlier_load, june.rows_before, june.rows_after) == (
        "replaces",
        "session_log",
        2,
        (3, 2, 1),
        5,
    )
    assert (previews["july.csv"].status, previews["july.csv"].rows_after) == ("new", None)
    assert previews["staff.csv"].status == "unchanged"
    assert list(previews) == ["staff.csv", "july.csv", "june.csv"]  # load order: the roster first

    loaded = {f.file: f for f in load_files(loaded_roster, tmp_path / "v2").files}
    assert (loaded["june.csv"].rows_read, loaded["june.csv"].rows_quarantined) == (5, 1)


def test_preview_counts_the_rows_of_a_utf16_file_and_of_a_workbook(loaded_roster, tmp_path):
    import pandas as pd

    def workbook(folder, ids: list[str]):
        path = folder / "more_clients.xlsx"
        folder.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(
            {"client_id": ids, "start_date": ["2026-05-04"] * len(ids), "region": ["hip"] * len(ids),
             "sessions_per_week": [2] * len(ids), "clinician_id": ["S-1"] * len(ids)}
        ).to_excel(path, index=False, engine="xlsxwriter")  # fmt: skip
        return path

    load_files(loaded_roster, workbook(tmp_path / "old", ["C-4", "C-5"]))
    text = "staff_id,name,role\nS-1,Ana Costa,physio\nS-2,Ben Okafor,instructor\nS-4,Dee Park,physio\n"
    staff = write(tmp_path / "new", "staff.csv", text, encoding="utf-16")
    previews = preview(loaded_roster, [staff, workbook(tmp_path / "new", ["C-4", "C-5", "C-6"])])
    assert [(p.file, p.status, p.rows_before, p.rows_after) for p in previews] == [
        ("staff.csv", "replaces", (3, 3, 0), 3),
        ("more_clients.xlsx", "replaces", (2, 2, 0), 3),
    ]
    assert not (loaded_roster.parent / "hipline.duckdb.load-work").exists()


def test_a_load_leaves_only_owner_only_files_even_under_a_loose_umask(db, roster, tmp_path):
    """The load's own files (the staging copy, the UTF-8 copy of a UTF-16 file in its work folder, the
    lock, the warehouse) are 0600 and its folders 0700 while it runs and after, whatever the umask."""
    staff = write(tmp_path / "utf16", "staff.csv", (tmp_path / "roster" / "staff.csv").read_text(), encoding="utf-16")
    seen: dict[str, int] = {}

    class Watch:
        def begin(self, total_bytes):
            pass

        def file_started(self, name, size):
            for path in db.parent.rglob("*"):
                mode = path.stat().st_mode
                seen[str(path.relative_to(db.parent)) + ("/" if stat.S_ISDIR(mode) else "")] = stat.S_IMODE(mode)

        def file_done(self):
            pass

    umask = os.umask(0o022)
    try:
        report = load_files(db, staff, *roster[1:], progress=Watch())
        assert os.umask(0o022) == 0o022, "the load gives the caller's umask back"
    finally:
        os.umask(umask)
    assert report.all_readable
    assert seen["hipline.duckdb.load-work/"] == 0o700 and seen["hipline.duckdb.new"] == 0o600
    copies = [name for name in seen if name.startswith("hipline.duckdb.load-work/") and name.endswith(".csv")]
    assert copies, seen  # the UTF-8 copy of the UTF-16 file
    assert all(mode == (0o700 if name.endswith("/") else 0o600) for name, mode in seen.items()), seen
    left = {path.name: stat.S_IMODE(path.stat().st_mode) for path in db.parent.iterdir()}
    assert left == {"hipline.duckdb": 0o600, "hipline.duckdb.lock": 0o600}
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700  # the load created the warehouse's folder


def test_a_load_that_fails_leaves_nothing_behind(loaded_roster, tmp_path, monkeypatch):
    import pytest

    import etl.load

    def broken(*args):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(etl.load, "refresh_session_summary", broken)
    before = query(loaded_roster, "SELECT count(*) FROM loads")
    with pytest.raises(RuntimeError, match="the disk is full"):
        load_files(loaded_roster, _june(tmp_path, [(1, 3)]))
    assert sorted(p.name for p in loaded_roster.parent.iterdir()) == ["hipline.duckdb", "hipline.duckdb.lock"]
    assert query(loaded_roster, "SELECT count(*) FROM loads") == before


def test_a_warehouse_loaded_before_loads_were_numbered_keeps_its_history_and_loads_on(loaded_roster, tmp_path):
    import duckdb

    from etl.warehouse import CONFIG

    load_files(loaded_roster, _june(tmp_path / "v1", [(1, 3), (2, 4)]))
    con = duckdb.connect(str(loaded_roster), config=CONFIG)  # as the loader wrote it before load_runs existed
    for statement in (
        "DROP VIEW load_history",
        "ALTER TABLE loads DROP COLUMN replaces",
        "ALTER TABLE loads DROP COLUMN run_id",
        "DROP TABLE load_runs",
        "DROP TABLE load_changes",
        *(f"DROP TABLE archived_{kind}_rows" for kind in ("staff", "cohorts", "clients", "session_log", "measures")),
        "DROP TABLE archived_malformed_rows",
    ):
        con.execute(statement)
    con.close()

    assert [(e.load, [f.file for f in e.files]) for e in history(loaded_roster)] == [
        (None, ["june.csv"]),
        (None, ["clients.csv"]),
        (None, ["cohorts.csv"]),
        (None, ["staff.csv"]),
    ]
    corrected = load_files(loaded_roster, _june(tmp_path / "v2", [(1, 3), (2, 5)]), loaded_by="S-3")
    assert (corrected.run_id, corrected.files[0].status) == (1, "replaced")
    entries = history(loaded_roster)
    assert [e.load for e in entries] == [1, None, None, None, None]
    assert entries[0].files[0].replaced.load is None  # the version it replaced was loaded before loads had numbers

    from etl.history import undo

    undo(loaded_roster, corrected.run_id)
    assert query(loaded_roster, "SELECT pain_during FROM session_log ORDER BY session_date") == [(3.0,), (4.0,)]


def test_a_preview_does_not_wait_for_a_running_load_and_leaves_nothing_behind(loaded_roster, tmp_path):
    import fcntl
    import threading

    load_files(loaded_roster, _june(tmp_path / "v1", [(1, 3)]))
    staff = write(tmp_path / "v2", "staff.csv", "staff_id,name,role\nS-1,Ana Costa,physio\n", encoding="utf-16")
    june = _june(tmp_path / "v2", [(1, 3), (2, 4)])
    stale = loaded_roster.with_name("hipline.duckdb.preview-work") / "999999999-gone"
    stale.mkdir(parents=True)  # left by a preview whose process was killed
    answers = []
    with open(loaded_roster.with_name("hipline.duckdb.lock")) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a load is running
        worker = threading.Thread(target=lambda: answers.append(preview(loaded_roster, [staff, june])))
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive(), "the preview waited for the load"
    assert [(p.file, p.status, p.rows_after) for p in answers[0]] == [
        ("staff.csv", "replaces", 1),
        ("june.csv", "replaces", 2),
    ]
    assert sorted(p.name for p in loaded_roster.parent.iterdir()) == ["hipline.duckdb", "hipline.duckdb.lock"]
