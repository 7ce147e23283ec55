"""Figures to SVG for the reports, through one warm kaleido (Chromium) per process.

What makes it fast (measured on the demo, two cores, per client report of two charts):
- one Chromium for the process, started on first use (kaleido's one-shot calls start a browser for
  every image: 2-3 s each);
- kaleido reloads its page (plotly.js and all) after every image, so each starts from a clean page.
  That reload was about 80 % of the cost: 0.53 s and 0.62 s of Chromium CPU per report, against
  0.11 s and 0.13 s without it. Our figures are built fresh each time and share no state, and the
  SVGs were the same either way (compared element by element for 48 charts; a test keeps checking
  it), so a tab is reloaded only every `RELOAD_EVERY` images;
- two tabs, so a report's charts render side by side;
- kaleido's page loads MathJax from a CDN unless told not to. With no network, the page's load event
  waited on that request: one image in fifteen took 5.3 s instead of 0.25 s. Our charts have no
  LaTeX, so MathJax is off, and nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import threading
from concurrent.futures import Future
from dataclasses import dataclass

import plotly.graph_objects as go

TABS = 2  # four tabs were no faster on two cores
RELOAD_EVERY = 50  # images per tab between page reloads (kaleido's default is 1)
WAIT_SECONDS = 120  # for one batch of charts: a stuck Chromium ends the report with an error
PAGE_RETRIES = 3  # tries of an image whose tab's page was not ready, its idle tabs reloaded between them


@dataclass(frozen=True)
class Chart:
    """A figure and the size it is printed at (CSS pixels; the page scales it to its width)."""

    figure: go.Figure
    width: int = 760
    height: int = 320


def _kaleido_class():
    import kaleido

    class Kaleido(kaleido.Kaleido):
        """kaleido with its page reloaded every RELOAD_EVERY images instead of after each one."""

        _images_since_reload: dict[int, int]

        async def _return_kaleido_tab(self, tab) -> None:
            counts = self.__dict__.setdefault("_images_since_reload", {})
            counts[id(tab)] = counts.get(id(tab), 0) + 1
            if counts[id(tab)] >= RELOAD_EVERY:
                counts[id(tab)] = 0
                await super()._return_kaleido_tab(tab)  # reloads, then puts the tab back
            else:
                await self.tabs_ready.put(tab)

        async def reload_idle_tabs(self) -> None:
            """Reload the tabs that wait in the queue (the one an image just failed in is among them)."""
            idle = []
            while not self.tabs_ready.empty():
                idle.append(self.tabs_ready.get_nowait())
            for tab in idle:
                self.__dict__.setdefault("_images_since_reload", {})[id(tab)] = 0
                await super()._return_kaleido_tab(tab)

    return Kaleido


def _page_not_ready(error: BaseException) -> bool:
    """kaleido evaluated the figure in a tab whose page had not finished loading its scripts (a race in its
    reload, seen once in a few thousand images on a busy machine: "kaleido_scopes is not defined")."""
    return type(error).__name__ == "JavascriptError" and "is not defined" in str(error)


class _Renderer:
    """One Chromium driven by kaleido on an asyncio loop in a background thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="hipline-charts", daemon=True).start()
        self.kaleido = self._run(self._open()).result(timeout=WAIT_SECONDS)
        atexit.register(self.close)

    def _run(self, coroutine) -> Future:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    async def _open(self):
        browser = _kaleido_class()(n=TABS, mathjax=False)
        await browser.open()
        return browser

    async def _svg(self, chart: Chart) -> str:
        options = {"format": "svg", "width": chart.width, "height": chart.height}
        for _ in range(PAGE_RETRIES - 1):
            try:
                return (await self.kaleido.calc_fig(chart.figure, opts=options)).decode()
            except Exception as error:
                if not _page_not_ready(error):
                    raise
                await self.kaleido.reload_idle_tabs()
        return (await self.kaleido.calc_fig(chart.figure, opts=options)).decode()  # the last try: any error ends it

    async def _svgs(self, charts: list[Chart]) -> list[str]:
        return list(await asyncio.gather(*(self._svg(c) for c in charts)))

    def render(self, charts: list[Chart]) -> Future:
        return self._run(self._svgs(charts))

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the browser may be gone already at exit; nothing to keep
            self._run(self.kaleido.close()).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)


_renderer: _Renderer | None = None
_lock = threading.Lock()


def _forget_in_child() -> None:
    """A forked process (Dash's background jobs are forks) has the renderer object but not its thread
    or browser: it starts its own on first use."""
    global _renderer, _lock
    _renderer, _lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_in_child)


def _started() -> _Renderer:
    global _renderer
    with _lock:
        if _renderer is None:
            _renderer = _Renderer()
        return _renderer


def render_later(charts: list[Chart]) -> Future:
    """Start rendering the charts; the future's result is their SVG documents (text), in order."""
    if not charts:
        done: Future = Future()
        done.set_result([])
        return done
    return _started().render(charts)


def svgs(charts: list[Chart]) -> list[str]:
    """The charts as SVG documents (text), in order."""
    return render_later(charts).result(timeout=WAIT_SECONDS)
