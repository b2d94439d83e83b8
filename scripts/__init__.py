"""Operator tools and the local stack (importable as the ``scripts`` package by the tests)."""
