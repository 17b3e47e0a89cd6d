"""The probabilistic pass: Splink 5 on DuckDB with fixed Fellegi–Sunter parameters.

Splink runs in its own in-memory DuckDB so its scratch tables never land in the store;
only the undecided records and their blocked neighbours are handed over (Arrow), and the
scored pairs come back the same way.
"""
from __future__ import annotations

import logging

import duckdb
import pyarrow as pa

from pipelines.identity.pinyin import load_config
from pipelines.store import sql_text

SPLINK_COLUMNS = ["name", "name_chars", "pinyin", "surname_pinyin", "birth_date", "birth_year", "sex", "house_code"]


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


def score_pairs(records: pa.Table, blocked_pairs: pa.Table, *, threads: int | None = None) -> pa.Table:
    """Scored pairs (record_key_l, record_key_r, match_weight, match_probability) at or above
    the candidate floor. ``records`` and ``blocked_pairs`` (match_key, join_key_l, join_key_r)
    come from sql/core/identity_candidates.sql."""
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
            threshold_match_probability=config["candidate_floor"], warning_mode="never"
        )
        return mem.sql(
            f"SELECT record_key_l, record_key_r, match_weight, match_probability FROM {predictions.physical_name}"
        ).to_arrow_table()
    finally:
        mem.close()
