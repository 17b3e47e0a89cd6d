"""Publishing from the one store: department grants, masking, extract writers and the audit trail.

Public API:
    write_extract(conn, name, *, fmt, out, dept, scope, as_of, user, columns=None) -> ExtractResult
    load_registry() -> Registry        (reports/departments.yaml + reports/extracts.yaml)
    PublishError (GrantRefused, NotAvailable, TooLargeForXlsx)  (exceptions whose str() is the Chinese message to print)
"""
from pipelines.publish.extracts import FORMATS, ExtractResult, write_extract
from pipelines.publish.grants import NotAvailable, Scope, prepare, resolve_scope
from pipelines.publish.registry import GrantRefused, PublishError, load_registry
from pipelines.publish.writers import TooLargeForXlsx

__all__ = ["FORMATS", "ExtractResult", "write_extract", "NotAvailable", "Scope", "prepare", "resolve_scope",
           "GrantRefused", "PublishError", "load_registry", "TooLargeForXlsx"]
