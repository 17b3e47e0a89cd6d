"""The SQL scoring the run uses gives Splink's weights for the same identity.yaml model."""
from __future__ import annotations

import datetime as dt
import itertools
import math

import duckdb
import pyarrow as pa
import pytest

from pipelines.identity.model import (SPLINK_COLUMNS, levels_table, link_rule_macro, match_levels_macro,
                                      match_weight_macro, score_pairs)
from pipelines.identity.pinyin import load_config, name_pinyin
from pipelines.store import sql_text

NAMES = ["张伟", "张玮", "张伟明", "李娜", "欧阳修", "欧修", None]
BIRTHS = [dt.date(1990, 1, 1), dt.date(1990, 1, 2), dt.date(1990, 10, 1), dt.date(1975, 6, 6), None]
SEXES = ["男", "女", None]
HOUSES = ["H1", "H2", None]


def _records() -> pa.Table:
    rows = []
    # Enough combinations to reach every level of every comparison, in both orders.
    for n, (name, birth, sex, house) in enumerate(itertools.product(NAMES, BIRTHS, SEXES, HOUSES)):
        if n % 3:
            continue
        pinyin, surname = name_pinyin(name) if name else (None, None)
        rows.append({
            "record_key": f"r{n:04d}", "resolved": False, "name": name,
            "name_chars": list(name) if name else None, "pinyin": pinyin, "surname_pinyin": surname,
            "birth_date": birth, "birth_year": birth.year if birth else None, "sex": sex, "house_code": house,
        })
    return pa.Table.from_pylist(rows)


def test_sql_match_weight_equals_splink():
    pytest.importorskip("splink")
    records = _records()
    keys = sorted(records.column("record_key").to_pylist())
    pairs = pa.table({
        "match_key": ["0"] * (len(keys) * (len(keys) - 1) // 2),
        "join_key_l": [a for a, b in itertools.combinations(keys, 2)],
        "join_key_r": [b for a, b in itertools.combinations(keys, 2)],
    })
    splink = score_pairs(records, pairs, floor=0.0)
    assert splink.num_rows == pairs.num_rows

    conn = duckdb.connect()
    conn.execute(sql_text("core/identity_macros.sql"))
    conn.execute(match_weight_macro(load_config()))
    conn.register("recs", records)
    conn.register("splink", splink)
    args = ", ".join(f"l.{c}, r.{c}" for c in SPLINK_COLUMNS)
    worst, n, levels = conn.execute(f"""
        SELECT max(abs(s.match_weight - identity_match_weight({args}))),
               max(abs(s.match_probability - identity_match_probability(identity_match_weight({args})))),
               count(DISTINCT round(s.match_weight, 6))
        FROM splink s
        JOIN recs l ON l.record_key = s.record_key_l
        JOIN recs r ON r.record_key = s.record_key_r
    """).fetchall()[0]
    assert worst < 1e-9 and n < 1e-12
    assert levels > 50  # the pairs really span many level combinations


def test_stored_levels_sum_to_the_match_weight_and_name_the_rule():
    """identity_match_levels (what core.link_comparisons stores), read with core.link_levels, spells out
    identity_match_weight exactly, and identity_link_rule calls a link name_match only while the names agree."""
    records = _records()
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA core")
    conn.execute(sql_text("core/identity_macros.sql"))
    config = load_config()
    for macro in (match_weight_macro, match_levels_macro, link_rule_macro, levels_table):
        conn.execute(macro(config))
    conn.register("recs", records)
    args = ", ".join(f"l.{c}, r.{c}" for c in SPLINK_COLUMNS)
    rows = conn.execute(f"""
        WITH pairs AS (
            SELECT l.record_key AS a, r.record_key AS b, identity_match_weight({args}) AS w,
                   identity_match_levels({args}) AS levels, identity_link_rule({args}) AS rule
            FROM recs l JOIN recs r ON l.record_key < r.record_key)
        SELECT a, b, any_value(w), sum(v.weight), count(*),
               any_value(v.label) FILTER (WHERE v.comparison = 'name'), any_value(rule)
        FROM pairs p JOIN core.link_levels v ON v.position = 0 OR v.level = p.levels[v.position]
        GROUP BY a, b
    """).fetchall()
    assert len(rows) > 1000
    assert max(abs(float(w) - spelled) for _, _, w, spelled, *_ in rows) < 1e-9
    assert {n for *_, n, _, _ in rows} == {1 + len(config["comparisons"])}
    rules = {(level, rule) for *_, level, rule in rows}
    assert rules == {("姓名相同", "name_match"), ("拼音相同", "name_match"), ("差一个字", "near_name_match"),
                     ("其他", "score_match"), ("缺失", "score_match")}


def test_a_completely_different_name_is_strong_evidence_against():
    name = next(c for c in load_config()["comparisons"] if c["name"] == "name")
    other = next(level for level in name["levels"] if level.get("else"))
    assert math.log2(other["m"] / other["u"]) < -8
    assert sum(level.get("m", 0) for level in name["levels"]) == pytest.approx(1.0)
