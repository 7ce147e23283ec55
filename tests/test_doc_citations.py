"""The code cites the repository's own documents (`docs/metrics.md#per-client`), never a SPEC the
repository does not hold: every cited document exists and holds the cited heading."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).parents[1]
SOURCES = ("access", "analytics", "benchmarks", "dashboard", "etl", "hipline", "presentation", "reports", "tests")
SUFFIXES = {".py", ".sql", ".js", ".css", ".html", ".yaml", ".toml"}
CITATION = re.compile(r"docs/([a-z0-9_-]+\.md)(?:#([a-z0-9_-]+))?")


def _sources() -> list[Path]:
    files = [ROOT / "Makefile", ROOT / "pyproject.toml"]
    for folder in SOURCES:
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in SUFFIXES and p.is_file()]
    return [p for p in files if p.exists() and p != Path(__file__)]


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def anchors(document: str) -> frozenset[str]:
    text = (ROOT / "docs" / document).read_text(encoding="utf-8")
    return frozenset(slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.MULTILINE))


def test_slugs_follow_github():
    assert slug("## `hipline metrics`".lstrip("# ")) == "hipline-metrics"
    assert slug("Current level, current dose, and the exposures that count") == (
        "current-level-current-dose-and-the-exposures-that-count"
    )
    assert (
        slug("Security: what hipline protects, from whom, and how")
        == "security-what-hipline-protects-from-whom-and-how"
    )


def test_no_source_cites_a_spec_outside_the_repository():
    citing = [
        str(p.relative_to(ROOT)) for p in _sources() if "SPEC §" in p.read_text(encoding="utf-8", errors="replace")
    ]
    assert citing == [], f"cite docs/… instead of the SPEC in {citing}"


def test_every_cited_document_and_heading_exists():
    cited = 0
    missing = []
    for path in _sources():
        for document, anchor in CITATION.findall(path.read_text(encoding="utf-8", errors="replace")):
            cited += 1
            where = path.relative_to(ROOT)
            if not (ROOT / "docs" / document).exists():
                missing.append(f"{where}: docs/{document}")
            elif anchor and anchor not in anchors(document):
                missing.append(f"{where}: docs/{document}#{anchor}")
    assert cited > 50, "the code should cite its documents"
    assert missing == []


def test_a_citation_of_a_missing_anchor_is_caught(tmp_path):
    # the check above is not vacuous: a heading that is not there is not among the anchors
    assert "adherence-per-week" not in anchors("metrics.md")
    assert slug("Per client") in anchors("metrics.md")


def test_links_between_the_documents_resolve():
    broken = []
    for page in sorted((ROOT / "docs").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for target, anchor in re.findall(r"\]\(([a-z0-9_-]+\.md)?(?:#([a-z0-9_-]+))?\)", text):
            document = target or page.name
            if not (ROOT / "docs" / document).exists():
                broken.append(f"{page.name}: {document}")
            elif anchor and anchor not in anchors(document):
                broken.append(f"{page.name}: {document}#{anchor}")
    assert broken == []
