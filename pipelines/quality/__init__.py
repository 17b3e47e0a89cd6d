"""Data quality: GX suites evaluated in DuckDB, the steward queue, corrections, the scorecard.

Public entry points (the CLI and the Dagster checks call these):
``validate``, ``build_queue``, ``list_issues``, ``progress``, ``masked_issue``, ``apply_corrections_sql``, ``export_workbook``,
``apply_workbook``, ``revert_correction``, ``scorecard``.
"""
from pipelines.quality.corrections import apply_corrections_sql
from pipelines.quality.queue import (build_queue, decision_line, last_rebuild, list_issues, masked_issue,
                                     progress)
from pipelines.quality.scorecard import scorecard
from pipelines.quality.validate import SuiteResult, build_data_docs, validate
from pipelines.quality.workbook import ApplyResult, apply_workbook, export_workbook, revert_correction

__all__ = ["ApplyResult", "SuiteResult", "apply_corrections_sql", "apply_workbook", "build_data_docs",
           "build_queue", "decision_line", "export_workbook", "last_rebuild", "list_issues", "masked_issue",
           "progress", "revert_correction", "scorecard", "validate"]
