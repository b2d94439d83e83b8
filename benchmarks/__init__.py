"""Reproducible side-by-side measurements (``make bench``)."""
