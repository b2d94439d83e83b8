"""The engines of the operator tools, and the toolkit they share (scripts/README.md maps them).

The tools themselves are the thin modules ``scripts/<tool>.py`` (``python -m scripts.<tool>``):
each parses its arguments, calls an engine from here, prints a summary and exits.

* :mod:`.toolkit`: exit codes, the error class, atomic JSON reports, progress bars, sizes, times.
* :mod:`.database`: the legacy database (dump reading and import, verification, DMS pre-flight).
* :mod:`.documents`: the legacy share's files (paths, excludes, hashing, S3, DataSync runs,
  verification, catalog, reference rewrite).
* :mod:`.smoke`: the smoke test of a deployed environment.
"""
