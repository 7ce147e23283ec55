"""Reading reports back: the CLI, pdftotext, pdfinfo, and how much ink a band of a page has."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace


def on_demo(db: Path) -> list[str]:
    """`--db <db> --today newest`: the demo's data end on a fixed day, and it shows them as of its newest session."""
    return ["--db", str(db), "--today", "newest"]


def hipline_process(*args: str) -> subprocess.CompletedProcess:
    """`hipline ...` as a user runs it: a fresh process (Chromium starts anew: about 4 s more)."""
    return subprocess.run([sys.executable, "-m", "hipline.cli", *args], capture_output=True, text=True, timeout=600)


def hipline(*args: str) -> SimpleNamespace:
    """`hipline ...` in this process (the chart renderer stays warm between calls). Its output with
    every run of white space made one space: the console wraps long lines."""
    from hipline.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return SimpleNamespace(
        returncode=code, stdout=" ".join(out.getvalue().split()), stderr=" ".join(err.getvalue().split())
    )


def pdf_text(pdf: Path | bytes) -> str:
    source = ["-"] if isinstance(pdf, bytes) else [str(pdf)]
    run = subprocess.run(
        ["pdftotext", *source, "-"], input=pdf if isinstance(pdf, bytes) else None, capture_output=True, check=True
    )
    return run.stdout.decode()


def page_texts(pdf: Path | bytes) -> list[str]:
    """The text of each page (pdftotext ends every page with a form feed)."""
    return pdf_text(pdf).split("\f")[:-1]


def body_lines(page: str) -> list[str]:
    """A page's lines of text without the running footer ("hipline · Progress report · <name>",
    "Page x of y") and blank lines."""
    return [
        line
        for line in page.splitlines()
        if line.strip() and not line.startswith("hipline · ") and not re.fullmatch(r"Page \d+ of \d+", line.strip())
    ]


def words(pdf: Path | bytes) -> str:
    """The text with every run of white space made one space (table cells wrap)."""
    return " ".join(pdf_text(pdf).split())


def pdf_info(pdf: Path | bytes) -> dict[str, str]:
    """pdfinfo's fields: "Pages", "Page size" ("595.276 x 841.89 pts (A4)"), ..."""
    with tempfile.TemporaryDirectory() as folder:
        if isinstance(pdf, bytes):
            path = Path(folder) / "report.pdf"
            path.write_bytes(pdf)
            pdf = path
        out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


def dark_share(pdf: Path, page: int, top: float, bottom: float) -> float:
    """The share of non-white pixels in a band of a page (0 = top, 1 = bottom), from pdftoppm's PGM."""
    raw = subprocess.run(
        ["pdftoppm", "-gray", "-r", "40", "-f", str(page), "-l", str(page), str(pdf)], capture_output=True, check=True
    ).stdout
    header, pixels = raw.split(b"\n", 3)[:3], raw.split(b"\n", 3)[3]
    width, height = (int(v) for v in header[1].split())
    band = pixels[int(top * height) * width : int(bottom * height) * width]
    return sum(1 for value in band if value < 200) / max(len(band), 1)
