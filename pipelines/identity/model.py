"""The probabilistic model: fixed Fellegi–Sunter parameters from ``identity.yaml``.

The run scores pairs in the store with :func:`match_weight_macro`, a SQL macro generated
from the same comparison levels and m/u values Splink would use: with the parameters fixed
(no EM), Splink's predict is exactly prior + sum of log2(m/u) per comparison, and doing it
in SQL saves the round trip of ~1M pairs through Arrow and Splink's scratch tables (a
third of the linkage time at 1M persons). :func:`score_pairs` runs the same model through
Splink 5; tests hold the two to the same weights, so Splink remains the reference
definition (and the place to estimate new m/u with its EM tooling).
"""
from __future__ import annotations

import logging
import math

import duckdb
import pyarrow as pa

from pipelines.identity.pinyin import load_config
from pipelines.store import sql_text

SPLINK_COLUMNS = ["name", "name_chars", "pinyin", "surname_pinyin", "birth_date", "birth_year", "sex", "house_code"]


def match_weight_macro(config: dict) -> str:
    """``CREATE TEMP MACRO identity_match_weight(<col>_l, <col>_r, ...)`` for SPLINK_COLUMNS:
    the match weight (log2 Bayes factor, prior included) Splink computes for a pair."""
    params = ", ".join(f"{c}_l, {c}_r" for c in SPLINK_COLUMNS)
    prior = config["probability_two_random_records_match"]
    terms = [_case(comparison, lambda level: repr(_level_weight(level))) for comparison in config["comparisons"]]
    return (f"CREATE OR REPLACE TEMP MACRO identity_match_weight({params}) AS (\n    "
            f"{math.log2(prior / (1 - prior))!r}\n    + " + "\n    + ".join(terms) + "\n);")


def _level_weight(level: dict) -> float:
    return 0.0 if level.get("is_null") else math.log2(level["m"] / level["u"])


def _case(comparison: dict, value) -> str:
    """``CASE WHEN <level sql> THEN value(level) ... ELSE value(else level) END`` for one comparison."""
    whens, otherwise = [], None
    for level in comparison["levels"]:
        if level.get("else"):
            otherwise = value(level)
        else:
            whens.append(f"WHEN {level['sql']} THEN {value(level)}")
    if otherwise is None:
        raise ValueError(f"identity.yaml: comparison {comparison['name']} needs an else level")
    return f"(CASE {' '.join(whens)} ELSE {otherwise} END)"


def _sql_text(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def link_rule_macro(config: dict) -> str:
    """``CREATE TEMP MACRO identity_link_rule(<col>_l, <col>_r, ...)``: the person_links rule a link carries
    when this pair decided it, from the ``rule`` of the level the pair reaches in the comparison that
    declares rules (the name): ``name_match`` only while the names agree."""
    params = ", ".join(f"{c}_l, {c}_r" for c in SPLINK_COLUMNS)
    ruled = [c for c in config["comparisons"] if all("rule" in level for level in c["levels"])]
    if len(ruled) != 1:
        raise ValueError("identity.yaml: exactly one comparison gives every level a rule")
    return (f"CREATE OR REPLACE TEMP MACRO identity_link_rule({params}) AS "
            f"{_case(ruled[0], lambda level: _sql_text(level['rule']))};")


def match_levels_macro(config: dict) -> str:
    """``CREATE TEMP MACRO identity_match_levels(<col>_l, <col>_r, ...)``: the pair's match weight spelled
    out, a list of STRUCT(comparison, title, level, m, u, weight) — the prior first, then each comparison's
    level — whose weights sum to :func:`match_weight_macro`'s. What a link stores for ``onceonly explain``."""
    params = ", ".join(f"{c}_l, {c}_r" for c in SPLINK_COLUMNS)
    prior = config["probability_two_random_records_match"]

    def entry(name, title, label, m, u, weight) -> str:
        return (f"{{'comparison': {_sql_text(name)}, 'title': {_sql_text(title)}, 'level': {_sql_text(label)}, "
                f"'m': {'NULL' if m is None else repr(float(m))}::DOUBLE, "
                f"'u': {'NULL' if u is None else repr(float(u))}::DOUBLE, 'weight': {weight!r}::DOUBLE}}")

    items = [entry("prior", "先验", f"随机两条记录为同一人的概率 {prior}", prior, None,
                   math.log2(prior / (1 - prior)))]
    for comparison in config["comparisons"]:
        title = comparison.get("title", comparison["name"])
        items.append(_case(comparison, lambda level, c=comparison, t=title: entry(
            c["name"], t, level["label"], level.get("m"), level.get("u"), _level_weight(level))))
    return f"CREATE OR REPLACE TEMP MACRO identity_match_levels({params}) AS [\n    " + ",\n    ".join(items) + "\n];"


def splink_settings(config: dict) -> dict:
    comparisons = []
    for comparison in config["comparisons"]:
        levels = []
        for level in comparison["levels"]:
            out = {
                "sql_condition": "ELSE" if level.get("else") else level["sql"],
                "label_for_charts": str(level["label"]),
            }
            if level.get("is_null"):
                out["is_null_level"] = True
            else:
                out["m_probability"] = level["m"]
                out["u_probability"] = level["u"]
            levels.append(out)
        comparisons.append({"output_column_name": comparison["name"], "comparison_levels": levels})
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "record_key",
        "probability_two_random_records_match": config["probability_two_random_records_match"],
        # Pairs are blocked in the store (sql/core/identity_candidates.sql) and registered.
        "blocking_rules_to_generate_predictions": [],
        "comparisons": comparisons,
        "additional_columns_to_retain": ["resolved"],
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
    }


def score_pairs(records: pa.Table, blocked_pairs: pa.Table, *, threads: int | None = None,
                floor: float | None = None) -> pa.Table:
    """Splink's scores for ``blocked_pairs`` (match_key, join_key_l, join_key_r; the smaller
    record_key left) of ``records`` (record_key, resolved and SPLINK_COLUMNS): record_key_l,
    record_key_r, match_weight, match_probability, at or above ``floor`` (default: the candidate floor). The
    reference for :func:`match_weight_macro` (tests), not used by the run."""
    from splink import DuckDBAPI, Linker

    config = load_config()
    empty = pa.table({
        "record_key_l": pa.array([], pa.string()), "record_key_r": pa.array([], pa.string()),
        "match_weight": pa.array([], pa.float64()), "match_probability": pa.array([], pa.float64()),
    })
    if blocked_pairs.num_rows == 0:
        return empty
    mem = duckdb.connect(config={"threads": threads} if threads else {})
    try:
        mem.execute(sql_text("core/identity_macros.sql"))
        mem.register("_identity_records_arrow", records)
        mem.execute("CREATE TABLE identity_records AS SELECT * FROM _identity_records_arrow")
        mem.unregister("_identity_records_arrow")
        mem.register("_identity_pairs_arrow", blocked_pairs)
        mem.execute("CREATE TABLE identity_blocked_pairs AS SELECT * FROM _identity_pairs_arrow")
        mem.unregister("_identity_pairs_arrow")
        db_api = DuckDBAPI(connection=mem)
        frame = db_api.register("identity_records")
        linker = Linker(frame, splink_settings(config), log_level=logging.WARNING)
        linker.table_management.register_blocked_pairs_for_predict(db_api.register("identity_blocked_pairs"))
        predictions = linker.inference.predict(
            threshold_match_probability=config["candidate_floor"] if floor is None else floor,
            warning_mode="never",
        )
        return mem.sql(
            f"SELECT record_key_l, record_key_r, match_weight, match_probability FROM {predictions.physical_name}"
        ).to_arrow_table()
    finally:
        mem.close()
