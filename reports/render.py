"""HTML templates to PDF with WeasyPrint: one Jinja environment, the stylesheets parsed once per process.

A report's charts are rendered by kaleido (in Chromium, another process) while WeasyPrint parses and
styles the HTML: the template names them `chart:<name>`, and WeasyPrint waits for each only when it
lays out its <img>. The two run at once (Chromium in its own processes), rather than one after the
other.
"""

from __future__ import annotations

import functools
from concurrent.futures import Future
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from reports.charts import Chart, render_later

TEMPLATES = Path(__file__).parent / "templates"
PAPER = {"a4": "A4", "letter": "letter"}

_environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))


def html(template: str, context: dict) -> str:
    """The report as HTML; its charts are `<img src="chart:<name>">`."""
    return _environment.get_template(template).render(**context)


@functools.cache
def _stylesheets(paper: str) -> tuple[list[CSS], FontConfiguration]:
    fonts = FontConfiguration()
    page = CSS(string=f"@page {{ size: {PAPER[paper]}; }}", font_config=fonts)
    return [CSS(filename=TEMPLATES / "report.css", font_config=fonts), page], fonts


class _Fetcher(URLFetcher):
    """Serves `chart:<name>` from the charts being rendered, and files of the templates folder.
    Nothing is fetched from a network: a clinic may have none, and a report must not leak."""

    def __init__(self, names: list[str], rendering: Future) -> None:
        super().__init__(allowed_protocols={"file", "data", "chart"}, fail_on_errors=True)
        self.names = names
        self.rendering = rendering

    def fetch(self, url, headers=None):
        if url.startswith("chart:"):
            chart = self.rendering.result(timeout=120)[self.names.index(url.removeprefix("chart:"))]
            return URLFetcherResponse(url, chart, {"Content-Type": "image/svg+xml"})
        return super().fetch(url, headers)


def pdf(template: str, context: dict, charts: dict[str, Chart], paper: str = "a4") -> bytes:
    """The report laid out on A4 or Letter pages, with its charts, as PDF bytes."""
    return _layout(html(template, context), list(charts), render_later(list(charts.values())), paper)


def pdf_of(document: str, chart_names: list[str], chart_svgs: list[str], paper: str = "a4") -> bytes:
    """A report's HTML and its charts already rendered, as PDF bytes: what the caseload export's
    worker processes run (they need no warehouse and no Chromium)."""
    rendered: Future = Future()
    rendered.set_result(chart_svgs)
    return _layout(document, chart_names, rendered, paper)


def _layout(document: str, chart_names: list[str], rendering: Future, paper: str) -> bytes:
    stylesheets, fonts = _stylesheets(paper)
    page = HTML(string=document, base_url=str(TEMPLATES), url_fetcher=_Fetcher(chart_names, rendering))
    return page.write_pdf(stylesheets=stylesheets, font_config=fonts)


def warm() -> None:
    """Load WeasyPrint's fonts and stylesheets, so a worker's first report is not the slow one."""
    pdf_of("<p>hipline</p>", [], [])
