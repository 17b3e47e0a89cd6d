"""Masking of ID numbers and phones in outputs: the one place that decides how a value is shown.

ID numbers use the ``id_mask`` macro of sql/macros/id_number.sql (前6后4: 510104********0019), phones the
``phone_mask`` macro of sql/macros/text.sql (138****1234); this module only chooses between them per grant.
"""
from __future__ import annotations

_HIDDEN = "CASE WHEN {x} IS NULL THEN NULL ELSE '（不提供）' END"


def id_sql(expr: str, mode: str) -> str:
    if mode == "全文":
        return expr
    if mode == "隐藏":
        return _HIDDEN.format(x=expr)
    return f"id_mask({expr})"


def phone_sql(expr: str, mode: str) -> str:
    if mode == "全文":
        return expr
    if mode == "隐藏":
        return _HIDDEN.format(x=expr)
    return f"phone_mask({expr})"


def value_sql(expr: str, kind: str, id_mode: str, phone_mode: str) -> str:
    """SQL expression showing ``expr`` masked per its kind (id / phone / anything else as is)."""
    if kind == "id":
        return id_sql(expr, id_mode)
    if kind == "phone":
        return phone_sql(expr, phone_mode)
    return expr
