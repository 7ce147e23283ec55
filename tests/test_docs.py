"""The documentation says what the code does."""

from __future__ import annotations

from pathlib import Path

from etl.columns import RECORD_KINDS

DOCS = Path(__file__).parents[1] / "docs"


def test_the_input_formats_document_lists_every_column_and_alias():
    text = (DOCS / "input-formats.md").read_text()
    for record in RECORD_KINDS.values():
        assert f"### {record.kind}: {record.description}" in text
        for column in record.columns:
            row = f"| `{column.name}` | {'yes' if column.required else ''} | {', '.join(column.aliases)} |"
            assert row in text, f"docs/input-formats.md is out of date for {record.kind}.{column.name}"


def test_the_warehouse_document_lists_every_public_view_with_its_columns():
    text = (DOCS / "warehouse.md").read_text()
    for record in RECORD_KINDS.values():
        columns = ", ".join(c.name for c in record.columns)
        assert f"| `{record.kind}` |" in text and columns in text, record.kind


def test_the_warehouse_document_lists_the_session_summary_columns():
    import re

    from etl.warehouse import SESSION_SUMMARY_TABLE

    text = (DOCS / "warehouse.md").read_text()
    for column in re.findall(r"^\s+([a-z_]+) [A-Z]", SESSION_SUMMARY_TABLE, flags=re.MULTILINE):
        assert f"{column}" in text.split("| `session_summary` |")[1].split("\n")[0], column


def test_the_metrics_document_holds_the_function_change_thresholds_of_the_code():
    from analytics.definitions import FUNCTION_THRESHOLDS

    text = (DOCS / "metrics.md").read_text()
    for t in FUNCTION_THRESHOLDS.values():
        assert f"| `{t.instrument}` |" in text, t.instrument
        row = text.split(f"| `{t.instrument}` |")[1].split("\n")[0]
        assert f"| {t.points:g} | {t.kind} |" in row and row.rstrip().endswith(f"| {t.source} |"), row


def test_the_security_document_holds_the_rights_of_each_role():
    from access.roles import RIGHT_WORDS, RIGHTS, ROLES

    text = (DOCS / "security.md").read_text()
    assert f"| right | {' | '.join(ROLES)} |" in text
    for right, words in RIGHT_WORDS.items():
        cells = " | ".join("yes" if right in RIGHTS[role] else "" for role in ROLES)
        assert f"| {words} | {cells} |" in text, right
