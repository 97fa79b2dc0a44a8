"""Benchmarks of tierstock (see bench/README.md)."""
