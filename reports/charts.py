"""Figures to SVG for the reports, through one warm kaleido (Chromium) server per process.

kaleido starts a browser for every image unless a server is started once: 2-3 s an image without it,
about 0.2 s with it.
"""

from __future__ import annotations

import threading

import plotly.graph_objects as go

_started = False
_lock = threading.Lock()


def _warm() -> None:
    global _started
    with _lock:
        if not _started:
            import kaleido

            kaleido.start_sync_server(silence_warnings=True)
            _started = True


def svg(figure: go.Figure, width: int = 760, height: int = 320) -> str:
    """The figure as an SVG document (text), sized for an A4 or Letter page."""
    import kaleido

    _warm()
    image = kaleido.calc_fig_sync(figure, opts={"format": "svg", "width": width, "height": height})
    return image.decode()
