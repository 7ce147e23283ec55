"""Plain pandas/Python re-implementations of SPEC §2 and §3, slow on purpose: test oracles for the
fast DuckDB path in `analytics`, and the "pandas peer" of `benchmarks/bench_metrics.py`. Never
imported by the production packages."""
