"""The reports' chart renderer: kaleido's tab is reused between images instead of reloaded after each
(reports/charts.py), so a chart must come out the same whatever was drawn before it."""

from __future__ import annotations

import asyncio
import os
import re
from xml.etree.ElementTree import canonicalize

import pandas as pd
import plotly.graph_objects as go
import pytest

from presentation import figures
from reports import charts
from reports.charts import Chart

pytestmark = pytest.mark.slow


def _canonical(svg: str) -> str:
    """The SVG with its attributes in one order and plotly's random ids (uid, clip and defs ids) made equal."""
    for token in set(re.findall(r"(?:defs-|trace|clip)([0-9a-f]{6})", svg)):
        svg = svg.replace(token, "ID")
    return canonicalize(svg)


def _adherence_chart() -> Chart:
    weekly = pd.DataFrame({"program_week": [1, 2, 3], "attended": [3, 2, 3], "target": [3, 3, 3],
                           "adherence": [1.0, 2 / 3, 1.0], "mean_pain": [6.0, 5.0, 3.5]})  # fmt: skip
    return Chart(figures.adherence_bars(weekly), height=280)


def test_a_chart_is_the_same_drawn_first_or_after_others():
    adherence = _adherence_chart()
    other = Chart(figures.empty_figure("No pain ratings yet"))
    first = charts.svgs([adherence])[0]
    for _ in range(3):  # the same tab and page, other images in between
        charts.svgs([other, other])
    again = charts.svgs([adherence])[0]
    assert "Sessions attended per week" in first and "Week 2" in first and "below target" in first
    assert _canonical(first) == _canonical(again)


def test_no_charts_need_no_browser():
    assert charts.render_later([]).result(timeout=1) == []


def test_a_fork_starts_its_own_renderer():
    charts.svgs([Chart(figures.empty_figure("x"))])  # the renderer runs in this process
    assert charts._renderer is not None
    child = os.fork()
    if child == 0:  # in the copy: the renderer's thread and browser are not there, and it knows it
        os._exit(0 if charts._renderer is None else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


class JavascriptError(Exception):
    """Named as kaleido's own error is (kaleido._kaleido_tab._errors.JavascriptError)."""


class _KaleidoWhosePageIsNotReady:
    """Fails each image `failures` times as kaleido does when a tab's page has not loaded its scripts."""

    def __init__(self, failures: int, message: str = "ReferenceError: kaleido_scopes is not defined") -> None:
        self.failures, self.message = failures, message
        self.calls = self.reloads = 0

    async def calc_fig(self, figure, opts):
        self.calls += 1
        if self.calls <= self.failures:
            raise JavascriptError({"description": self.message})
        return b"<svg/>"

    async def reload_idle_tabs(self):
        self.reloads += 1


def _renderer_with(kaleido) -> charts._Renderer:
    renderer = object.__new__(charts._Renderer)  # no Chromium: the retry is what is tested
    renderer.kaleido = kaleido
    return renderer


def test_an_image_drawn_in_a_tab_whose_page_was_not_ready_is_drawn_again_after_a_reload():
    kaleido = _KaleidoWhosePageIsNotReady(failures=charts.PAGE_RETRIES - 1)
    assert asyncio.run(_renderer_with(kaleido)._svg(Chart(go.Figure()))) == "<svg/>"
    assert (kaleido.calls, kaleido.reloads) == (charts.PAGE_RETRIES, charts.PAGE_RETRIES - 1)


def test_a_tab_that_stays_broken_or_another_error_ends_the_image_with_the_error():
    stuck = _KaleidoWhosePageIsNotReady(failures=charts.PAGE_RETRIES)
    with pytest.raises(JavascriptError):
        asyncio.run(_renderer_with(stuck)._svg(Chart(go.Figure())))
    assert stuck.calls == charts.PAGE_RETRIES
    other = _KaleidoWhosePageIsNotReady(failures=1, message="TypeError: the figure is broken")
    with pytest.raises(JavascriptError):
        asyncio.run(_renderer_with(other)._svg(Chart(go.Figure())))
    assert (other.calls, other.reloads) == (1, 0)
