"""Extract, validate and load clinic files into the hipline warehouse (DuckDB).

This package is the bottom layer: it imports nothing else of hipline's.
"""
