"""The flags a headless Chromium is started with to drive the pages: the browser tests (tests/browser) and the
page benchmark (benchmarks/bench_pages.py) start it the same way. Here, in a package, because the benchmark
may use a package but no package may use the tests."""

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
