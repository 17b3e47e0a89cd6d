"""onceonly: collect once, use many times (一次采集、多方使用).

The Dagster code location lives in :mod:`pipelines.definitions`; the command
line in :mod:`pipelines.cli`. Stages, in data order:

- ``ingest``   inbox files -> ``raw.*`` (batches, verbatim rows, row errors)
- ``staging``  ``raw.*`` -> ``staging.*`` (typed, normalised, flagged; SQL in ``sql/staging``)
- ``identity`` / ``address`` / ``status`` -> ``core.*`` (one person per human, houses, status)
- ``marts``    ``core.*`` -> ``marts.*`` and the extracts
"""
