"""Benchmarks of intersim against a textbook SimPy model: ``python -m benchmarks``."""
