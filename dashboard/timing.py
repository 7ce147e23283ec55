"""Where a callback's time goes, in the standard `Server-Timing` response header.

Each page callback wraps its parts in `timed("query")`, `timed("figures")`, ...; the header then
reads e.g. `query;dur=4.1, figures;dur=12.0, total;dur=19.3` (milliseconds), visible in the browser's
developer tools and read by benchmarks/bench_pages.py. Whatever `total` has beyond the named parts is
Dash's own work: decoding the request, and serialising the outputs to JSON.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from flask import Flask, g, has_request_context, request


@contextlib.contextmanager
def timed(part: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        if has_request_context():
            parts = g.setdefault("server_timing", {})
            parts[part] = parts.get(part, 0.0) + time.perf_counter() - started


def install(server: Flask) -> None:
    @server.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()

    @server.after_request
    def _header(response):
        if request.path.endswith("_dash-update-component"):
            parts = dict(g.get("server_timing", {}))
            parts["total"] = time.perf_counter() - g.get("request_started", time.perf_counter())
            response.headers["Server-Timing"] = ", ".join(f"{name};dur={1000 * s:.2f}" for name, s in parts.items())
        return response
