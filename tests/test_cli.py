"""The `hipline` command: machine-readable load reports and exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from etl.settings import Settings, documented_settings
from hipline.cli import main
from tests.conftest import SESSION_HEADER, write


def _hipline(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hipline.cli", *args], capture_output=True, text=True, env=env)


def test_load_json_reports_every_file_and_exits_0_when_all_could_be_read(roster, db):
    result = _hipline("load", "--db", str(db), "--json", *map(str, roster))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [f["file"] for f in report["files"]] == ["staff.csv", "cohorts.csv", "clients.csv"]
    for f in report["files"]:
        assert set(f) >= {"path", "kind", "rows_read", "rows_loaded", "rows_quarantined", "error"}
        assert f["error"] is None and f["rows_read"] == f["rows_loaded"] + f["rows_quarantined"]


def test_load_exits_1_when_a_file_cannot_be_read_but_loads_the_others(roster, db, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = _hipline("load", "--db", str(db), "--json", *map(str, roster), str(empty))
    assert result.returncode == 1
    files = {f["file"]: f for f in json.loads(result.stdout)["files"]}
    assert files["empty.csv"]["error"] == "empty.csv is empty (0 bytes)"
    assert files["clients.csv"]["rows_loaded"] == 3


def test_the_warehouse_path_comes_from_hipline_db(roster, tmp_path):
    import os

    db = tmp_path / "from_env.duckdb"
    result = _hipline("load", "--json", *map(str, roster), env={**os.environ, "HIPLINE_DB": str(db)})
    assert result.returncode == 0 and db.exists()


def test_quarantine_lists_rows_and_reasons(loaded_roster, tmp_path, capsys):
    path = write(tmp_path, "s.csv", SESSION_HEADER + "\nC-1,2026-06-01,yes,home,bridge,2,2,,10,,both,3,11,2,3,5,,,\n")
    assert main(["load", "--db", str(loaded_roster), "--today", "2026-06-30", str(path)]) == 0
    assert main(["quarantine", "--db", str(loaded_roster)]) == 0
    out = capsys.readouterr().out
    assert "pain_during=11 is outside 0–10" in out


def test_generate_writes_the_demo_files(tmp_path, capsys):
    assert main(["generate", "--clients", "15", "--seed", "2", "--out", str(tmp_path / "d")]) == 0
    assert (tmp_path / "d" / "clients.xlsx").exists()


def test_a_bad_date_argument_is_explained(capsys):
    with pytest.raises(SystemExit):
        main(["load", "--today", "31/12/2026", "x.csv"])
    assert "'31/12/2026' is not a date (use YYYY-MM-DD)" in capsys.readouterr().err


def test_every_setting_is_documented_in_the_readme():
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for variable, _default, _meaning in documented_settings():
        assert f"`{variable}`" in readme, f"{variable} is missing from the README's settings table"


def test_settings_come_from_the_environment():
    settings = Settings.from_env({"HIPLINE_DB": "/x/y.duckdb", "HIPLINE_DATE_ORDER": "mdy"})
    assert settings.db == Path("/x/y.duckdb") and settings.date_order == "mdy"
    with pytest.raises(ValueError, match="HIPLINE_DATE_ORDER must be dmy or mdy"):
        Settings.from_env({"HIPLINE_DATE_ORDER": "ymd"})


def test_demo_generates_once_loads_and_can_stop_before_serving(tmp_path):
    args = [
        "demo",
        "--clients",
        "20",
        "--seed",
        "5",
        "--data-dir",
        str(tmp_path / "demo"),
        "--db",
        str(tmp_path / "demo.duckdb"),
        "--no-serve",
    ]
    assert main(args) == 0
    files = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert (tmp_path / "demo.duckdb").exists()
    assert main(args) == 0, "a second run reuses the files and the warehouse"
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == files


def test_a_load_reports_its_progress(loaded_roster, tmp_path):
    from etl.load import load

    events = []

    class Recorder:
        def begin(self, total_bytes):
            events.append(("begin", total_bytes))

        def file_started(self, name, size):
            events.append(("started", name, size))

        def file_done(self):
            events.append(("done",))

    path = write(tmp_path, "s.csv", SESSION_HEADER + "\nC-1,2026-06-01,yes,home,,,,,,,,,,,,,,,\n")
    size = path.stat().st_size
    load(loaded_roster, [path], progress=Recorder())
    assert events == [("begin", size), ("started", "s.csv", size), ("done",)]


def test_metrics_writes_the_csv_files_of_the_analytics_layer(demo_warehouse, tmp_path):
    import pandas as pd

    from analytics import Analytics, Scope

    out = tmp_path / "metrics"
    result = _hipline("metrics", "--db", str(demo_warehouse), "--today", "2026-10-15", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Metrics as of 2026-10-15" in result.stderr
    headers = {
        "client_metrics.csv": "client_id,program_week,adherence_overall,adherence_last_4_weeks,pain_baseline,"
        "pain_current,pain_trend_per_week,pain_status,flags,flag_evidence",
        "client_weekly.csv": "client_id,program_week,attended,target,adherence,mean_pain",
        "function_change.csv": "client_id,instrument,first_score,latest_score,change,threshold,status",
        "cohort_weekly.csv": "cohort_id,program_week,n,mean_pain,ci_low,ci_high",
    }
    for name, header in headers.items():
        assert (out / name).read_text(encoding="utf-8").splitlines()[0] == header
    written = pd.read_csv(out / "client_metrics.csv", keep_default_na=False, na_values=[""])
    with Analytics.open(demo_warehouse, Scope.everyone(), date(2026, 10, 15)) as a:
        expected = a.client_metrics()
    assert list(written["client_id"]) == list(expected["client_id"])
    assert (written["adherence_overall"].between(0, 1)).all()
    assert written["adherence_last_4_weeks"].tolist() == pytest.approx(expected["adherence_last_4_weeks"].tolist())
    assert written["flags"].fillna("").tolist() == expected["flags"].tolist()
    # each flag with its evidence, a line each, in the flags' order
    evidence = written["flag_evidence"].fillna("").tolist()
    assert evidence == expected["flag_evidence"].tolist() and any(evidence)
    assert [[line.split(":")[0] for line in e.split("\n") if line] for e in evidence] == [
        [f for f in flags.split(";") if f] for flags in expected["flags"]
    ]
    assert set(written["pain_status"]) <= {"improved", "worse", "no important change", "not enough data"}


def test_metrics_on_a_missing_warehouse_says_what_to_do(tmp_path):
    result = _hipline("metrics", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "load some files first" in " ".join(result.stderr.split())  # rich wraps long lines


def test_metrics_reads_the_red_flag_words_from_hipline_red_flags(demo_warehouse, tmp_path):
    import os

    import pandas as pd

    def refers(env: dict | None) -> int:
        out = tmp_path / f"out-{len(env or {})}"
        result = _hipline("metrics", "--db", str(demo_warehouse), "--today", "newest", "--out", str(out), env=env)
        assert result.returncode == 0, result.stderr
        flags = pd.read_csv(out / "client_metrics.csv", keep_default_na=False)["flags"]
        return int(flags.str.startswith("refer").sum())

    words = tmp_path / "words.yaml"
    # Words of the demo's everyday notes ("Good session, moving well", "+1 set added today", ...)
    words.write_text("signs:\n  everyday: [session, today, light, band, level, progress, programme]\nnegations: []\n")
    assert refers({**os.environ, "HIPLINE_RED_FLAGS": str(words)}) > refers(None)


def test_recommend_writes_one_row_per_client_and_exercise_with_the_issue_columns(demo_warehouse, tmp_path):
    import pandas as pd

    from analytics import Analytics, Scope

    out = tmp_path / "recommendations.csv"
    result = _hipline("recommend", "--db", str(demo_warehouse), "--today", "2026-10-15", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Recommendations as of 2026-10-15" in result.stderr
    assert out.read_text(encoding="utf-8").splitlines()[0] == (
        "client_id,family,exercise,level,decision,why,next_exercise,next_dose,reasons"
    )
    written = pd.read_csv(out, keep_default_na=False, na_values=[""])
    with Analytics.open(demo_warehouse, Scope.everyone(), date(2026, 10, 15)) as a:
        expected = a.recommendations()
    assert len(written) == len(expected) > 0
    assert written["decision"].tolist() == expected["decision"].tolist()
    assert set(written["decision"]) == {"refer", "regress", "hold", "progress"}  # the demo has all four
    assert written["reasons"].str.contains("pain during last 3: ").all()
    # each led by its one line in words, which starts with the decision (a stretch dosed up: "dose up")
    assert written["why"].tolist() == expected["why"].tolist()
    firsts = {w.split(":")[0] for w in written["why"]}
    assert firsts <= {"refer", "on hold", "regress", "hold", "dose up", "ready"} and "ready" in firsts
    # stretches and the warm-up the library does not know have no level
    assert written.loc[written["family"] == "stretches", "level"].isna().all()
    assert written.loc[written["family"].isna(), "exercise"].str.lower().eq("foam roller release").all()


def test_recommend_neutralises_formula_like_exercise_names(loaded_roster, tmp_path):
    rows = [f"C-1,2026-06-0{d},yes,studio,=HYPERLINK(1),,2,10,,,,2,2,,2,5,good,," for d in (1, 3, 5)]
    write(tmp_path, "june.csv", SESSION_HEADER + "\n" + "\n".join(rows) + "\n")
    assert main(["load", "--db", str(loaded_roster), str(tmp_path / "june.csv"), "--today", "2026-06-30"]) == 0
    out = tmp_path / "rec.csv"
    assert main(["recommend", "--db", str(loaded_roster), "--today", "newest", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert ",'=HYPERLINK(1)," in text and ",=HYPERLINK" not in text


def test_recommend_on_a_missing_warehouse_says_what_to_do(tmp_path):
    result = _hipline("recommend", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "r.csv"))
    assert result.returncode == 1
    assert "load some files first" in " ".join(result.stderr.split())


@pytest.fixture
def june_sessions(loaded_roster, tmp_path) -> Path:
    """C-1 came on 2 and 5 June 2026: the newest session is 5 June."""
    rows = "".join(f"C-1,2026-06-0{d},yes,studio,bridge{',' * 14}\n" for d in (2, 5))
    assert (
        main(["load", "--db", str(loaded_roster), str(write(tmp_path, "june.csv", SESSION_HEADER + "\n" + rows))]) == 0
    )
    return loaded_roster


def _said(capsys) -> str:
    captured = capsys.readouterr()
    return " ".join((captured.out + captured.err).split())  # the console wraps long lines


def test_today_newest_is_the_newest_session_and_the_command_says_it_is_not_today(june_sessions, tmp_path, capsys):
    capsys.readouterr()
    assert main(["metrics", "--db", str(june_sessions), "--today", "newest", "--out", str(tmp_path / "m")]) == 0
    assert f"Metrics as of 2026-06-05 (not today: today is {date.today().isoformat()}):" in _said(capsys)


def test_without_today_the_numbers_are_for_the_current_date(june_sessions, tmp_path, capsys):
    capsys.readouterr()
    assert main(["metrics", "--db", str(june_sessions), "--out", str(tmp_path / "m")]) == 0
    said = _said(capsys)
    assert f"Metrics as of {date.today().isoformat()}:" in said and "not today" not in said


def test_hipline_today_pins_the_day_and_today_overrides_it(june_sessions, tmp_path):
    import os

    env = {**os.environ, "HIPLINE_TODAY": "2026-06-03"}
    pinned = _hipline("recommend", "--db", str(june_sessions), "--out", str(tmp_path / "a.csv"), env=env)
    assert "Recommendations as of 2026-06-03 (not today" in " ".join(pinned.stderr.split())
    asked = ["recommend", "--db", str(june_sessions), "--today", "newest", "--out", str(tmp_path / "b.csv")]
    assert "Recommendations as of 2026-06-05 (not today" in " ".join(_hipline(*asked, env=env).stderr.split())


def test_a_bad_today_is_explained(capsys):
    with pytest.raises(SystemExit):
        main(["metrics", "--today", "14/11/2026", "--out", "x"])
    assert (
        "--today='14/11/2026': expected newest (the newest session's date), a date as YYYY-MM-DD, "
        "or nothing (the current date)"
    ) in " ".join(capsys.readouterr().err.split())


def test_the_demo_pins_today_to_its_newest_session_and_serve_does_not():
    from hipline.cli import _parser

    settings = Settings.from_env({})
    assert _parser(settings).parse_args(["demo"]).today == "newest"
    assert _parser(settings).parse_args(["serve"]).today is None
    assert _parser(settings).parse_args(["demo", "--today", "2026-10-01"]).today == date(2026, 10, 1)


def test_history_lists_loads_newest_first_and_undo_puts_back_what_a_load_replaced(loaded_roster, tmp_path, capsys):
    import getpass

    from access import audit

    row = "C-1,2026-06-01,yes,home,bridge,2,2,,10,,both,3,{pain},2,3,5,,,"
    v1 = write(tmp_path / "v1", "june.csv", SESSION_HEADER + "\n" + row.format(pain=4) + "\n")
    v2 = write(tmp_path / "v2", "june.csv", SESSION_HEADER + "\n" + row.format(pain=5) + "\n")
    db = str(loaded_roster)
    assert main(["load", "--db", db, "--today", "2026-06-30", "--as", "S-3", str(v1)]) == 0
    assert main(["load", "--db", db, "--today", "2026-06-30", str(v2)]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert said.endswith("This is load 3 (hipline history lists it; hipline undo 3 undoes it).")

    assert main(["history", "--db", db]) == 0
    table = " ".join(capsys.readouterr().out.split())
    me = f"os:{getpass.getuser()}"
    for load, who in ((3, me), (2, "S-3")):  # number, when, who, what
        assert re.search(rf"\b{load} \d{{4}}-\d\d-\d\d \d\d:\d\d {re.escape(who)} load\b", table), table
    assert "june.csv (sha256 " in table
    assert "replaced, 1 read = 1 loaded + 0 quarantined; it replaced the version of load 2" in table

    assert main(["history", "--db", db, "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [(e["load"], e["action"], e["loaded_by"]) for e in entries] == [
        (3, "load", me),
        (2, "load", "S-3"),
        (1, "load", None),
    ]
    [file] = entries[0]["files"]
    assert (file["file"], file["status"], file["rows_read"], file["replaced"]["load"]) == ("june.csv", "replaced", 1, 2)

    assert main(["undo", "3", "--db", db, "--as", "S-3"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert said.startswith(
        "Load 3 is undone (this undo is load 4; hipline undo 4 redoes it): took out june.csv, the version of load 3"
    )
    assert "put back june.csv, the version of load 2 (1 read = 1 loaded + 0 quarantined)" in said
    from tests.conftest import query

    assert query(loaded_roster, "SELECT pain_during FROM session_log") == [(4.0,)]

    assert main(["undo", "3", "--db", db]) == 1
    refused = " ".join(capsys.readouterr().err.split())
    assert refused == "Nothing changed: load 3 was already undone by load 4 (undo load 4 to redo it)."
    undos = audit.read(loaded_roster, action="undo")
    assert list(undos["outcome"]) == ["failed", "done"]
    assert undos["what"].iloc[1].startswith("load 4 undid load 3: taken out june.csv as load 3 had loaded it")

    result = _hipline("undo", "4", "--db", db, "--json")  # an undo of the undo, as another process
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["load"], report["undid"], [f["loaded_in"] for f in report["put_back"]]) == (5, 4, [3])
    assert query(loaded_roster, "SELECT pain_during FROM session_log") == [(5.0,)]
