"""Plain pandas/Python re-implementations of the numbers (docs/metrics.md) and the recommendations
(docs/recommendations.md), slow on purpose: test oracles for the fast DuckDB path in `analytics`, and
the "pandas peer" of `benchmarks/bench_metrics.py`. Never imported by the production packages."""
