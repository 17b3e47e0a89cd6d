"""Dagster assets, one small module per stage, in data order:
ingest → staging → core (places, addresses, person records, identity, status) → marts → quality → reports.

Every asset opens the one DuckDB store through the ``store`` resource and runs in-process
(DuckDB allows one writer process; see ``pipelines/definitions.py``).
"""
