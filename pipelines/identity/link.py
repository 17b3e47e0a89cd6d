"""One person per human: link core.person_records to stable person keys (architecture, core step 5).

Order of decisions, each only for records the previous ones left open:
1. ``id_exact``  — a valid ID (set-based SQL; two different valid IDs are never merged);
2. ``id_typo``   — an invalid ID one digit typo or adjacent swap from exactly one valid ID
                   whose person has the same name or its pinyin;
3. the fixed Fellegi–Sunter model of ``identity.yaml`` (scored in SQL, Splink as reference: see
   model.py) against identified persons and against each other. The rule names what decided:
   ``name_match`` (names equal or homophones), ``near_name_match`` (one character apart),
   ``score_match`` (name missing or disagreeing: birth date, sex and house decided); ``ambiguous``
   when two persons fit. A pair that looks like two members of one household (same house, birth
   dates equal or a digit apart, given names that differ: twins, a child recorded with the parent's
   birth year) never merges, whatever it scores (``household_guard``);
4. ``singleton`` — records matching no identified person found a person when they say enough
                   (name + house or name + birth date) and come from a template allowed to;
                   ``kept_apart`` when such a record founded its own person because the household
                   guard kept it from a household member (listed for stewards in core.link_candidates);
                   otherwise ``unlinkable`` / ``unmatched`` (person_key NULL, for stewards).

Every probabilistic link and candidate keeps at link time the level each comparison reached
(core.link_comparisons; with core.link_levels, the view core.link_comparison_levels spells out each
level's m, u and weight), for ``onceonly explain``.

Incremental (a build after a build, ``incremental=True``): only the records a new batch can change are decided
again — the dirty closure (sql/core/identity_closure*.sql, identity_context.sql; docs/architecture.md,
"Incremental builds") — and only their rows and their persons' rows are replaced; the result is the one a full
run of the same store gives (tests/status/test_incremental.py). Full instead when the last run was made from other
code or steward fixes (core.build_state, pipelines/status/delta.py) or the closure is most of the store.
"""
from __future__ import annotations

import datetime as dt
import time

import duckdb

from pipelines.identity.model import (blocking_macros, levels_table, link_rule_macro, match_levels_macro,
                                      match_weight_macro)
from pipelines.identity.pinyin import load_config, refresh_name_pinyin
from pipelines.status import delta
from pipelines.store import Store, table_exists

_MAX_COMPONENT_ROUNDS = 100
# The closure is widened until closed; one still growing after this many rounds, or holding more than this share
# of the records, is decided by a full run (cheaper than the closure's bookkeeping by then, and as exact).
_MAX_CLOSURE_ROUNDS = 50
_MAX_CLOSURE_SHARE = 0.5
# What core/identity_upgrade.sql reads and rewrites: present from a store's second linkage run on.
_UPGRADED = ("core.person_key_registry", "core.person_links", "core.merge_log", "core.person_records", "raw.batches")
# What an incremental run reads of the last one.
_DELTA_NEEDS = ("core.link_inputs", "core.person_links", "core.person_key_registry", "core.persons",
                "core.link_candidates", "core.link_comparisons", "core.merge_log")
# The records person_records handed on (scratch.record_delta) as rows of core.person_records.
_HANDED_RECORDS = ("(SELECT * FROM core.person_records WHERE record_id IN "
                   "(SELECT record_id FROM scratch.record_delta))")
# person_links as an earlier version wrote it: record_key spelled with the batch's SHA-256, or no record_id.
_EARLIER_LINKS = "SELECT length(record_key) > 64 OR record_id IS NULL FROM core.person_links LIMIT 1"


def link_persons(conn: duckdb.DuckDBPyConnection, *, run_date: dt.date, incremental: bool = False) -> dict:
    """Rebuild core.person_links, core.persons, core.link_candidates, core.link_comparisons (with
    core.link_levels, the model it is read with); append to
    core.person_key_registry and core.merge_log. ``incremental`` (a build): only for the dirty closure when the
    last run's tables were made from the same code and steward fixes. Returns summary counts and timings, and
    ``built``: 'full' or 'delta'."""
    config = load_config()
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    variables = model_variables(config, run_date)
    # what the last run's links were made from: the code (identity.yaml's model among it) and the steward fixes
    fingerprint = delta.evidence_fingerprint(conn)
    Store.run_sql(conn, "core/identity_macros.sql")
    _model_macros(conn, config)
    upgraded = _linked_by_earlier_version(conn)
    if upgraded:
        Store.run_sql(conn, "core/identity_upgrade.sql")
    incremental = incremental and not upgraded and delta.can_keep(conn, "identity", fingerprint, *_DELTA_NEEDS)
    # from the handed-on records, only their rows are read (identity_seeds_handed.sql); else every record's
    handed = incremental and _seeds_handed_on(conn)
    # every other record's name was cached by the run that last read person_records' change sets
    new_names = refresh_name_pinyin(conn, _HANDED_RECORDS if handed else "core.person_records")
    lap("pinyin")
    _house_streets(conn)
    if not handed:
        Store.run_sql(conn, "core/identity_records.sql")
    lap("records")
    closure, rounds = None, 0
    if incremental:
        closure, rounds = _dirty_closure(conn, handed=handed)
    lap("closure")
    variables["identity_delta"] = closure is not None
    compared, blocked, scored = decide(conn, config, variables, lap, records_ready=True, macros_ready=True)
    if not incremental:  # what the next run compares its records with (the seeds' files updated it in place)
        conn.execute("CREATE OR REPLACE TABLE core.link_inputs AS SELECT * FROM _link_inputs")
    if not handed:  # each house's street as this run read it (identity_seeds_handed.sql updated it by the moved)
        # the next run's seeds include the records at a house that moved
        conn.execute("CREATE OR REPLACE TABLE core.link_house_streets AS SELECT * FROM _house_street")
    Store.run_sql(conn, "core/identity_keys.sql", **variables)
    # the keys numbered afresh (a claimed key is the registry's): counted here, not over the whole registry
    new_keys = conn.execute("SELECT count(*) FROM scratch.link_keys "
                            "WHERE person_key NOT IN (SELECT person_key FROM scratch.link_claims)").fetchall()[0][0]
    conn.execute(levels_table(config))
    publish(conn, variables)
    # the edges the next incremental run's closure widens by: whole after a full run, else this run's added
    Store.run_sql(conn, "core/identity_edges_add.sql" if closure is not None else "core/identity_edges.sql")
    delta.remember(conn, "identity", fingerprint)
    delta.read_handed(conn, "person_records", "identity")
    lap("publish")

    rules = dict(conn.execute("SELECT rule, count(*) FROM core.person_links GROUP BY rule ORDER BY rule").fetchall())
    summary = {
        "records": sum(rules.values()),
        "persons": conn.execute("SELECT count(*) FROM core.persons").fetchall()[0][0],
        "linked": conn.execute("SELECT count(*) FROM core.person_links WHERE person_key IS NOT NULL").fetchall()[0][0],
        "new_keys": new_keys,
        "rules": rules,
        "compared_records": compared,
        "blocked_pairs": blocked,
        "pairs_above_floor": scored,
        "new_names_pinyin": new_names,
        "built": "delta" if closure is not None else "full",
        "closure_records": closure if closure is not None else sum(rules.values()),
        "closure_rounds": rounds,
        "timings_s": timings,
    }
    drop_working_tables(conn)
    return summary


def model_variables(config: dict, run_date: dt.date) -> dict:
    return {
        "run_date": run_date,
        "identity_delta": False,
        "link_threshold": float(config["link_threshold"]),
        "ambiguity_margin_bits": float(config["ambiguity_margin_bits"]),
        "max_candidates": int(config["max_candidates"]),
        "cannot_found_person": list(config["cannot_found_person"]),
    }


def decide(conn: duckdb.DuckDBPyConnection, config: dict, variables: dict, lap=lambda name: None,
           records_ready: bool = False, macros_ready: bool = False) -> tuple:
    """Steps 1–4 of the module docstring over every person record (scratch.link_records, made here unless
    ``records_ready``: an incremental run cut it down to its closure): _link holds the
    decision of each record a valid ID does not decide, _ambiguous the ambiguous ones, _pairs/_pair_sides/
    _block_side what the model weighed. Shared by one store's linkage and the city pass (pipelines/city.py),
    which decides the city's records without a valid ID exactly as one store of the same files would.
    Needs core/identity_macros.sql loaded, and the model's macros when ``macros_ready`` (link_persons made them).
    Returns (compared records, blocked pairs, pairs above the floor)."""
    if not macros_ready:
        _model_macros(conn, config)
    if not records_ready:
        _prepare_records(conn)
    Store.run_sql(conn, "core/identity_prepare.sql")
    Store.run_sql(conn, "core/identity_typo.sql")
    lap("deterministic")
    Store.run_sql(conn, "core/identity_candidates.sql", candidate_floor=float(config["candidate_floor"]))
    counts = conn.execute(
        "SELECT (SELECT count(*) FROM _block_side), (SELECT count(*) FROM _blocked_pairs), (SELECT count(*) FROM _pairs)"
    ).fetchall()[0]
    lap("probabilistic")
    Store.run_sql(conn, "core/identity_resolve.sql", **variables)
    for _ in range(_MAX_COMPONENT_ROUNDS):
        Store.run_sql(conn, "core/identity_components_step.sql")
        if conn.execute("SELECT n FROM _comp_changed").fetchall()[0][0] == 0:
            break
    else:  # pragma: no cover - a chain of 100 no-ID records is a data problem, not a person
        raise RuntimeError("identity: components did not converge")
    Store.run_sql(conn, "core/identity_found.sql", **variables)
    lap("resolve")
    return counts


def publish(conn: duckdb.DuckDBPyConnection, variables: dict) -> None:
    """Write the run's decisions (sql/core/identity_publish.sql): whole, or with variable identity_delta only the
    closure's rows and its persons'."""
    if variables["identity_delta"]:  # its context (identity_context.sql) was decided only to decide the closure
        conn.execute("CREATE OR REPLACE TABLE scratch.link_records AS "
                     "SELECT * FROM scratch.link_records SEMI JOIN _closure USING (record_key)")
    Store.run_sql(conn, "core/identity_publish.sql", **variables)
    if variables["identity_delta"]:
        Store.run_sql(conn, "core/identity_publish_delta.sql")
    else:
        Store.run_sql(conn, "core/identity_publish_full.sql")


def _model_macros(conn: duckdb.DuckDBPyConnection, config: dict) -> None:
    """The macros identity.yaml's model and blocking keys generate (pipelines/identity/model.py)."""
    for macro in (match_weight_macro, link_rule_macro, match_levels_macro, blocking_macros):
        conn.execute(macro(config))


def _prepare_records(conn: duckdb.DuckDBPyConnection) -> None:
    _house_streets(conn)
    Store.run_sql(conn, "core/identity_records.sql")


def _seeds_handed_on(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether the closure may start from what person_records handed on (sql/core/identity_seeds_handed.sql, which
    says why that is exact) instead of comparing every record with core.link_inputs: scratch.record_delta is the
    change set right after the build this step last read (a run that built person_records without identity
    leaves an older one unread) and not a whole rebuild's (delta.records_handed), and the last run kept the
    houses' streets."""
    return table_exists(conn, "core.link_house_streets") and delta.records_handed(conn, "identity")


def _dirty_closure(conn: duckdb.DuckDBPyConnection, *, handed: bool) -> tuple[int | None, int]:
    """Make scratch.link_records of the dirty closure and what its decisions read (sql/core/identity_closure.sql,
    identity_closure_step.sql, identity_context.sql) from its seeds (``handed``: from scratch.record_delta, else by
    comparing every record, scratch.link_records made whole); returns the closure's size, or None (every record
    in scratch.link_records: a full run)
    when it does not close within _MAX_CLOSURE_ROUNDS or holds more than _MAX_CLOSURE_SHARE of the records, and
    the widening rounds it took."""
    Store.run_sql(conn, "core/identity_seeds_handed.sql" if handed else "core/identity_seeds_compared.sql")
    if not table_exists(conn, "scratch.link_edges"):  # a store linked before the edges were kept
        Store.run_sql(conn, "core/identity_edges.sql")
    Store.run_sql(conn, "core/identity_closure.sql")
    rounds = 0
    for rounds in range(1, _MAX_CLOSURE_ROUNDS + 1):
        Store.run_sql(conn, "core/identity_closure_step.sql")
        grew = conn.execute("SELECT n FROM _closure_grew").fetchall()[0][0]
        if grew == 0:
            break
    Store.run_sql(conn, "core/identity_closure_done.sql")
    size, records = conn.execute(
        "SELECT (SELECT count(*) FROM _closure), (SELECT count(*) FROM _link_inputs)").fetchall()[0]
    if grew > 0 or size > _MAX_CLOSURE_SHARE * records:
        conn.execute("DROP TABLE _closure")
        if handed:  # every record is decided: its rows are made (they equal core.link_inputs' now)
            Store.run_sql(conn, "core/identity_records.sql")
        return None, rounds
    Store.run_sql(conn, "core/identity_context.sql")
    return size, rounds


def drop_working_tables(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("DROP VIEW IF EXISTS _link_all")
    for view in ("_link_inputs", "_person_input", "_persons_new", "_candidates_new", "_comparisons_new",
                 "_closure_edges"):
        conn.execute(f"DROP VIEW IF EXISTS {view}")
    for table in ("_link", "_unresolved", "_profiles", "_block_side", "_blocked_pairs", "_pairs",
                  "_pair_sides", "_person_cands", "_direct", "_ambiguous", "_nodes", "_uu_edges", "_comp",
                  "_comp_changed", "_comp_info", "_comp_conflict", "_best_edge", "_comp_open", "_house_street",
                  "_closure", "_closure_grew", "_frontier", "_closure_invalid", "_reach_outside", "_seed_rows",
                  "_invalid", "_persons_changed", "_registered", "_links_moved",
                  "scratch.link_records", "scratch.link_clusters", "scratch.link_claims", "scratch.link_keys",
                  "scratch.link_final"):
        conn.execute(f"DROP TABLE IF EXISTS {table}")


def _linked_by_earlier_version(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether core/identity_upgrade.sql has work: person_links is rewritten whole on every run, so one row
    tells (an empty one cannot, and the upgrade then runs: it is cheap on such a store). Checked on one row,
    not by the upgrade's own scans, which would read the whole merge log on every run."""
    if not all(table_exists(conn, t) for t in _UPGRADED):
        return False
    first = conn.execute(_EARLIER_LINKS).fetchall()
    return not first or bool(first[0][0])


def _house_streets(conn: duckdb.DuckDBPyConnection) -> None:
    """TEMP _house_street (house_code → street_code) for blocking; empty before houses and grids exist
    (linkage then blocks as for one street)."""
    if table_exists(conn, "core.houses") and table_exists(conn, "core.grids"):
        conn.execute("CREATE OR REPLACE TEMP TABLE _house_street AS SELECT h.house_code, any_value(g.street_code) "
                     "AS street_code FROM core.houses h JOIN core.grids g USING (microgrid_code) GROUP BY ALL")
    else:
        conn.execute("CREATE OR REPLACE TEMP TABLE _house_street (house_code VARCHAR, street_code VARCHAR)")
