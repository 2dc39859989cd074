"""Measurements run by hand (python benchmarks/NAME.py); a package so that tests can import one measure."""
