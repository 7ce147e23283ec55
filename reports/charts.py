"""Figures to SVG for the reports, through one warm kaleido (Chromium) server per process.

kaleido starts a browser for every image unless a server is started once: 2-3 s an image without it,
about 0.2 s with it. Most of that 0.2 s is kaleido reloading its tab after each image, so the server
keeps two tabs and a report's charts are rendered together (0.25 s for two instead of 0.35 s).

kaleido's page loads MathJax from a CDN unless told not to. With no network, the page's load event
then waited on that request: one image in fifteen took 5.3 s instead of 0.25 s. Our charts have no
LaTeX, so MathJax is off, and nothing leaves the machine.
"""

from __future__ import annotations

import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go

TABS = 2

_started = False
_lock = threading.Lock()


@dataclass(frozen=True)
class Chart:
    """A figure and the size it is printed at (CSS pixels; the page scales it to its width)."""

    figure: go.Figure
    width: int = 760
    height: int = 320


def _warm() -> None:
    global _started
    with _lock:
        if not _started:
            import kaleido

            kaleido.start_sync_server(n=TABS, mathjax=False, silence_warnings=True)
            _started = True


def svgs(charts: list[Chart]) -> list[str]:
    """The charts as SVG documents (text), in order, rendered side by side in kaleido's tabs."""
    if not charts:
        return []
    import kaleido

    _warm()
    with tempfile.TemporaryDirectory(prefix="hipline-charts-") as folder:
        paths = [Path(folder) / f"chart-{i}.svg" for i in range(len(charts))]
        specs = [
            {"fig": c.figure, "path": path, "opts": {"format": "svg", "width": c.width, "height": c.height}}
            for c, path in zip(charts, paths, strict=True)
        ]
        with _lock:  # one batch at a time: the server's queue is shared by every thread
            kaleido.write_fig_from_object_sync(specs, cancel_on_error=True)
        return [path.read_text(encoding="utf-8") for path in paths]


_renderer: ThreadPoolExecutor | None = None


def render_later(charts: list[Chart]) -> Future:
    """Start rendering the charts in the background; the future's result is `svgs(charts)`."""
    global _renderer
    with _lock:
        if _renderer is None:
            _renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hipline-charts")
    return _renderer.submit(svgs, charts)
