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
    """``CREATE TEMP MACRO identity_match_levels(<col>_l, <col>_r, ...)``: the level each comparison of the
    pair reaches, a UTINYINT[] in the order of identity.yaml (1 = its first level). What a link stores in
    core.link_comparisons; :func:`levels_table` says what each level is and weighs."""
    params = ", ".join(f"{c}_l, {c}_r" for c in SPLINK_COLUMNS)
    cases = [_case(c, lambda level, c=c: str(c["levels"].index(level) + 1)) for c in config["comparisons"]]
    return (f"CREATE OR REPLACE TEMP MACRO identity_match_levels({params}) AS "
            f"[{', '.join(cases)}]::UTINYINT[];")


def blocking_macros(config: dict) -> str:
    """``identity_block_hits(side)`` (the pairs the model scores, sql/core/identity_candidates.sql) and
    ``identity_blocked(records, probes)`` (the records an incremental run's closure grows by), both from
    identity.yaml's ``blocking`` keys (sql/core/identity_blocking.sql), so the two cannot disagree."""
    from pipelines.ingest.sqlgen import render_sql

    return render_sql("core/identity_blocking.sql", blocking=config["blocking"])


def levels_table(config: dict) -> str:
    """``CREATE OR REPLACE TABLE core.link_levels``: the model a run linked with, one row per level —
    position (0 = the prior, then each comparison in order), comparison, title, level (its number in the
    comparison, as stored in core.link_comparisons.levels), key, label, m, u, weight (log2 m/u; the prior's
    is its log odds). Rewritten with every run's links, so the two always speak of the same model."""
    prior = config["probability_two_random_records_match"]
    rows = [(0, "prior", "先验", 1, "prior", f"随机两条记录为同一人的概率 {prior}", prior, None,
             math.log2(prior / (1 - prior)))]
    for position, comparison in enumerate(config["comparisons"], 1):
        for number, level in enumerate(comparison["levels"], 1):
            rows.append((position, comparison["name"], comparison.get("title", comparison["name"]), number,
                         level.get("key", str(number)), level["label"], level.get("m"), level.get("u"),
                         _level_weight(level)))

    def value(v) -> str:
        if v is None:
            return "NULL"
        return _sql_text(v) if isinstance(v, str) else repr(v)

    values = ",\n    ".join("(" + ", ".join(value(v) for v in row) + ")" for row in rows)
    return ("CREATE OR REPLACE TABLE core.link_levels AS\n"
            "SELECT position::UTINYINT AS position, comparison, title, level::UTINYINT AS level, key, label,\n"
            "       m::DOUBLE AS m, u::DOUBLE AS u, weight::DOUBLE AS weight\n"
            f"FROM (VALUES\n    {values}\n) t(position, comparison, title, level, key, label, m, u, weight);")


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
