"""The city pass after the district runs (docs/scale-out.md, step 2): one person, one status, one house city-wide.

Each district's store (pipelines/districts.py) decided its persons on its own evidence only: a migrant who moved
from district A to B is 在住 in both, and a death registered in B for a person who lives in A makes a second
person in B, dead, while A still counts them. The city pass reads the district stores with DuckDB (ATTACH … READ_ONLY, nothing written to them) and
builds ``home/city/store.duckdb``, an ordinary store whose core layer is the union of the districts' core layers:

1. **Batches renumbered** city-wide (``city.batch_map``): ``record_id``/``record_key`` are built from a store's
   batch number, so every per-record table is respelled with the city's number (files in path order, as a one-store
   load numbers them); a batch's ``loaded_at`` becomes its day plus its city number in microseconds, so "the newer
   file" that breaks a same-day tie between two districts' evidence is the later path, as in one load.
2. **Persons linked across districts** (``_link_across``): persons whose valid ID is the same in several
   districts are one city person (``city.person_map``; a record with a valid ID always founds or joins a person in
   its district, so the districts' persons are all there is to link by ID). Every record without a valid ID is
   decided again on the whole city's records by the same decision pass as one store's linkage
   (``pipelines.identity.link.decide``: the mistyped-ID rule, the Fellegi–Sunter model's blocking and scoring, the
   household guard, the thresholds — the unchanged ``sql/core/identity_*.sql``), so a record gets the link one store
   of the same files gives it: a mover collected in the new district without a readable ID joins the old district's
   person when the model is sure, and stays apart where one store would keep it apart. The persons whose records
   changed (``city.touched``) are published again by ``sql/core/identity_publish.sql``; the rest are their
   district's persons. City keys are ``<区县代码>-<the district's 人员主键>`` of the person's first district (a
   person known only from records: of the district person its founding record belonged to), so no two districts'
   keys collide.
3. **Evidence exchanged**: ``core.evidence`` is rebuilt from the union (``sql/core/evidence.sql``, unchanged).
4. **Status re-decided for the persons the city changed** (``city.touched``: in several districts, or a record
   that joined or left them) with the contract's rules (``sql/core/status_rules.sql``, unchanged); every other
   person keeps its district's decision, which the same records and evidence already made.
5. **Marts, tasks and reports** for the city, by the same code as a one-store build (``build_marts``,
   ``render_all``).
"""
from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.errors import UserFacingError
from pipelines.paths import store_path
from pipelines.store import Store, attach_read_only

CITY = "city"
# Tables copied from every district, in this order (later ones are respelled through the maps built first).
# person_status is not copied whole: only the decisions of persons the city pass did not touch.
UNION_TABLES = ("raw.batches", "core.grids", "core.houses", "core.address_matches", "core.person_records",
                "core.person_links", "core.identity_name_pinyin")
RECORD_KEY_COLUMNS = ("record_key", "presence_key", "decision_key")


@dataclass
class CityResult:
    home: Path
    districts: list[str]
    persons: int = 0                 # city persons
    district_persons: int = 0        # the districts' persons added up (each mover counted once per district)
    shared: int = 0                  # city persons found in more than one district
    typo: int = 0                    # persons joined across districts through a record's mistyped ID
    model: int = 0                   # … through a record without a readable ID the model linked
    touched: int = 0                 # persons whose status was decided again on the city's evidence
    status_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    laps: dict[str, float] = field(default_factory=dict)   # seconds per part: copy, link, evidence, status, marts, reports
    reports_dir: Path | None = None

    def render(self) -> str:
        return (f"全市合并（{len(self.districts)} 个区县）：各区县人员合计 {self.district_persons}，"
                f"跨区县同一人 {self.shared} 人已合并（其中按录错的身份证号 {self.typo} 人，"
                f"按姓名、出生日期等比对 {self.model} 人），"
                f"按全市证据重新判定状态 {self.touched} 人；全市人员 {self.persons}，"
                + "，".join(f"{k} {v}" for k, v in self.status_counts.items())
                + f"；用时 {self.seconds:.1f} 秒\n全市数据库：{store_path(self.home)}"
                + (f"\n全市报表目录：{self.reports_dir}" if self.reports_dir else ""))


def city_home(home: Path) -> Path:
    return Path(home) / CITY


def _columns(conn: duckdb.DuckDBPyConnection, catalog: str, qualified: str) -> list[str]:
    schema, table = qualified.split(".")
    return [r[0] for r in conn.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? AND table_name = ? "
        "ORDER BY column_index", [catalog, schema, table]).fetchall()]


def _respelled(conn, catalog: str, code: str, qualified: str) -> str:
    """SELECT of one district's table with its keys in the city's spelling: person_key through city.person_map,
    record ids and keys through city.batch_map (a record key is template:batch number:row number)."""
    cols = _columns(conn, catalog, qualified)
    out, joins = [], []
    for c in cols:
        if c == "person_key":
            out.append("pm.city_key AS person_key")
            joins.append(f"LEFT JOIN city.person_map pm ON pm.district_code = '{code}' AND pm.person_key = t.person_key")
        elif c == "record_id":
            joins.append(f"LEFT JOIN city.batch_map bi ON bi.district_code = '{code}' "
                         "AND bi.district_batch_no = (t.record_id >> 32)")
            out.append("(bi.batch_no::BIGINT << 32) | (t.record_id & 4294967295) AS record_id")
        elif c in RECORD_KEY_COLUMNS:
            alias = "b_" + c
            joins.append(f"LEFT JOIN city.batch_map {alias} ON {alias}.district_code = '{code}' "
                         f"AND {alias}.district_batch_no = TRY_CAST(split_part(t.{c}, ':', 2) AS INTEGER)")
            out.append(f"CASE WHEN t.{c} IS NULL THEN NULL ELSE split_part(t.{c}, ':', 1) || ':' || {alias}.batch_no "
                       f"|| ':' || split_part(t.{c}, ':', 3) END AS {c}")
        elif c == "batch_no" and qualified == "raw.batches":
            joins.append(f"LEFT JOIN city.batch_map bn ON bn.district_code = '{code}' AND bn.district_batch_no = t.batch_no")
            out.append("bn.batch_no AS batch_no")
        elif c == "loaded_at" and qualified == "raw.batches":
            # "The newer file" breaks same-day ties between evidence (status_rules.sql). Each district's clock
            # says only when its own run happened; a one-store load of the same files orders them by path.
            # The city: the day loaded, then the path (the city's batch number): what one load of the same files does.
            out.append("t.loaded_on::TIMESTAMP + to_microseconds(bn.batch_no::BIGINT) AS loaded_at")
        else:
            out.append(f't."{c}"')
    return f"SELECT {', '.join(out)} FROM {catalog}.{qualified} t {' '.join(joins)}"


def _check_district(conn, alias: str, code: str, as_of: dt.date, freshness_days: int) -> None:
    rows = conn.execute(f"SELECT DISTINCT as_of, freshness_days FROM {alias}.core.person_status").fetchall()
    if rows and rows != [(as_of, freshness_days)]:
        found = "、".join(f"截止日期 {d} / 有效期 {w} 天" for d, w in rows)
        raise CityPassError(f"区县 {code} 的数据库按 {found} 判定，与全市合并要求的截止日期 {as_of}、有效期 "
                            f"{freshness_days} 天不同：请先用相同参数运行 onceonly run --by-district")


class CityPassError(UserFacingError):
    """The district stores cannot be merged as asked (none yet, or decided for another date): said in Chinese."""


def district_stores(home: Path) -> list[tuple[str, Path]]:
    from pipelines.districts import DISTRICT_CODE

    folder = Path(home) / "districts"
    return [(p.name, store_path(p)) for p in sorted(folder.iterdir()) if DISTRICT_CODE.fullmatch(p.name)
            and store_path(p).exists()] if folder.is_dir() else []


def city_pass(*, home: Path, as_of: dt.date, freshness_days: int = 365, reports: bool = True,
              memory_limit: str | None = None, codes: list[str] | None = None) -> CityResult:
    """Build ``home/city/store.duckdb`` from the district stores under ``home/districts`` (read-only): those of
    ``codes`` (the districts of the inbox), else every one found."""
    from pipelines.marts import build_marts
    from pipelines.status import build_evidence, build_status

    started = time.monotonic()
    districts = [(c, p) for c, p in district_stores(home) if codes is None or c in codes]
    missing = sorted(set(codes or ()) - {c for c, _ in districts})
    if missing:
        raise CityPassError(f"区县 {'、'.join(missing)} 还没有数据库：请先运行 onceonly run --by-district")
    if not districts:
        raise CityPassError(f"{Path(home) / 'districts'} 中没有区县数据库：请先运行 onceonly run --by-district")
    chome = city_home(home)
    target = store_path(chome)
    building = target.with_name(target.name + ".building")
    building.unlink(missing_ok=True)
    result = CityResult(chome, [c for c, _ in districts])
    mark = [time.monotonic()]

    def lap(name: str) -> None:
        now = time.monotonic()
        result.laps[name] = round(now - mark[0], 1)
        mark[0] = now

    with Store(building, memory_limit=memory_limit).connect() as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS city")
        aliases = {code: f"d{code}" for code, _ in districts}
        for code, path in districts:
            attach_read_only(conn, aliases[code], path)
            _check_district(conn, aliases[code], code, as_of, freshness_days)
        _maps(conn, aliases)
        for qualified in UNION_TABLES:
            _union(conn, aliases, qualified)
        for (template,) in conn.execute(
                "SELECT DISTINCT table_name FROM duckdb_tables() WHERE database_name IN ("
                + ", ".join(f"'{a}'" for a in aliases.values()) + ") AND schema_name = 'staging' ORDER BY 1").fetchall():
            _union(conn, aliases, f"staging.{template}")
        # the districts read the same names: one reading each (pipelines/identity/pinyin.py fills any gap)
        conn.execute("CREATE OR REPLACE TABLE core.identity_name_pinyin AS "
                     "SELECT DISTINCT ON (name) * FROM core.identity_name_pinyin ORDER BY name")
        lap("copy")
        result.typo, result.model = _link_across(conn, aliases, as_of=as_of)
        lap("link")
        build_evidence(conn)
        lap("evidence")
        result.touched = _decide(conn, aliases, as_of=as_of, freshness_days=freshness_days,
                                 build_status=build_status)
        lap("status")
        for alias in aliases.values():
            conn.execute(f"DETACH {alias}")
        build_marts(conn, as_of=as_of, record_tasks=True)
        lap("marts")
        result.persons, result.district_persons, result.shared = conn.execute("""
            SELECT (SELECT count(*) FROM core.persons), (SELECT count(*) FROM city.person_map),
                   (SELECT count(*) FROM (
                       SELECT l.person_key FROM core.person_links l
                       JOIN city.batch_map m ON m.batch_no = (l.record_id >> 32)
                       WHERE l.person_key IN (SELECT person_key FROM city.touched)
                       GROUP BY l.person_key HAVING count(DISTINCT m.district_code) > 1))""").fetchall()[0]
        result.status_counts = dict(conn.execute(
            "SELECT status, count(*) FROM core.person_status GROUP BY status ORDER BY status").fetchall())
        if reports:
            from pipelines.reports import render_all

            result.reports_dir = chome / "reports" / as_of.isoformat()
            render_all(conn, out_dir=result.reports_dir, as_of=as_of, home=chome)
        conn.execute("CHECKPOINT")
        lap("reports")
    os.replace(building, target)
    result.seconds = time.monotonic() - started
    return result


def _maps(conn, aliases: dict[str, str]) -> None:
    """city.batch_map (district batch number → city batch number) and city.person_map (district person → city
    person: the same valid ID is the same person, whatever district holds it)."""
    conn.execute("CREATE OR REPLACE TABLE city.batch_map AS SELECT district_code, district_batch_no, "
                 "row_number() OVER (ORDER BY file_name, batch_id, district_code)::INTEGER AS batch_no FROM ("
                 + " UNION ALL ".join(f"SELECT '{code}' AS district_code, batch_no AS district_batch_no, file_name, "
                                      f"batch_id FROM {alias}.raw.batches" for code, alias in aliases.items()) + ")")
    conn.execute("CREATE OR REPLACE TABLE city.person_map AS "
                 "WITH p AS (" + " UNION ALL ".join(
                     f"SELECT '{code}' AS district_code, person_key, id_number FROM {alias}.core.persons"
                     for code, alias in aliases.items()) + "), "
                 "a AS (SELECT *, coalesce(id_number, district_code || '-' || person_key) AS anchor FROM p) "
                 "SELECT district_code, person_key, id_number, "
                 "       min(district_code || '-' || person_key) OVER (PARTITION BY anchor) AS city_key, "
                 "       count(*) OVER (PARTITION BY anchor) > 1 AS shared "
                 "FROM a")


def _union(conn, aliases: dict[str, str], qualified: str) -> None:
    present = [(code, alias) for code, alias in aliases.items() if _columns(conn, alias, qualified)]
    if not present:
        return
    conn.execute(f"CREATE OR REPLACE TABLE {qualified} AS "
                 + " UNION ALL BY NAME ".join(_respelled(conn, alias, code, qualified) for code, alias in present))


def _link_across(conn, aliases: dict[str, str], *, as_of: dt.date) -> tuple[int, int]:
    """Decide every record without a valid ID on the whole city's records, as one store of the same files does:
    the same decision pass (``pipelines.identity.link.decide``: the mistyped-ID rule, the Fellegi–Sunter model's
    blocking and scoring, the household guard, the thresholds, the components of undecided records) over the
    union of the districts' records. A record with a valid ID needs nothing new: its ID decides it, city-wide
    as in its district (``city.person_map``). The city person of a decision is the person of its ID
    (``id:<ID>``), or, for a person known only from records, the district person its founding record belonged
    to (else ``<区县代码>-<its record key>``).

    The persons whose records changed (``city.touched``: the same ID in several districts, or a record that
    left or joined them) are published again by ``sql/core/identity_publish.sql`` over their records (golden
    name, birth date, sex; person_links; the stewards' candidates and the model's comparisons of every record
    without a valid ID); every other person is its district's person, unchanged. core.merge_log lists what the
    city changed of the districts' links. Returns (persons joined through a mistyped ID, through the model)."""
    from pipelines.identity.link import decide, drop_working_tables, model_variables, publish
    from pipelines.identity.model import levels_table
    from pipelines.identity.pinyin import load_config, refresh_name_pinyin

    config = load_config()
    variables = model_variables(config, as_of)
    refresh_name_pinyin(conn)
    Store.run_sql(conn, "core/identity_macros.sql")
    decide(conn, config, variables)
    conn.execute("CREATE OR REPLACE TABLE city.links_before AS SELECT * FROM core.person_links")
    # the city person of each decision: by its ID, else the district person of the founding record when no
    # other cluster claims it first (a district's person the city splits keeps its key for one part)
    conn.execute("""
        CREATE OR REPLACE TABLE scratch.link_keys AS
        SELECT 'id:' || id_number AS cluster_id, min(city_key) AS person_key
        FROM city.person_map WHERE id_number IS NOT NULL GROUP BY id_number""")
    conn.execute("""
        INSERT INTO scratch.link_keys
        WITH founded AS (
            SELECT DISTINCT cluster_id, substr(cluster_id, 5) AS founder FROM _link WHERE starts_with(cluster_id, 'rec:')
        ), claims AS (
            SELECT f.cluster_id, f.founder, r.record_id, b.person_key AS district_key
            FROM founded f
            JOIN scratch.link_records r ON r.record_key = f.founder
            LEFT JOIN city.links_before b ON b.record_key = f.founder
                 AND b.person_key NOT IN (SELECT person_key FROM scratch.link_keys)
        )
        SELECT c.cluster_id,
               CASE WHEN c.district_key IS NOT NULL
                     AND row_number() OVER (PARTITION BY c.district_key ORDER BY c.cluster_id) = 1
                    THEN c.district_key ELSE m.district_code || '-' || c.founder END
        FROM claims c LEFT JOIN city.batch_map m ON m.batch_no = (c.record_id >> 32)""")
    conn.execute("""
        CREATE OR REPLACE TABLE city.relinked AS
        SELECT i.record_key, b.person_key AS before_key, k.person_key AS after_key, l.rule
        FROM scratch.link_records i
        LEFT JOIN _link l USING (record_key)
        LEFT JOIN scratch.link_keys k ON k.cluster_id = l.cluster_id
        LEFT JOIN city.links_before b USING (record_key)
        WHERE NOT i.id_valid AND b.person_key IS DISTINCT FROM k.person_key""")
    conn.execute("""
        CREATE OR REPLACE TABLE city.touched AS
        SELECT city_key AS person_key FROM city.person_map GROUP BY city_key HAVING count(*) > 1
        UNION SELECT before_key FROM city.relinked WHERE before_key IS NOT NULL
        UNION SELECT after_key FROM city.relinked WHERE after_key IS NOT NULL""")
    # Published again: the touched persons' records, every record without a valid ID (its rule is the city's),
    # and the other side of every scored pair (a steward's candidate names that record's person).
    conn.execute("""
        CREATE OR REPLACE TABLE scratch.link_records AS
        SELECT i.* FROM scratch.link_records i
        WHERE NOT i.id_valid
           OR i.record_key IN (SELECT record_key FROM city.links_before
                               WHERE person_key IN (SELECT person_key FROM city.touched))
           OR i.record_key IN (SELECT record_key_l FROM _pairs UNION SELECT record_key_r FROM _pairs)""")
    conn.execute(levels_table(config))
    publish(conn, variables)
    conn.execute("INSERT INTO core.person_links BY NAME SELECT b.* FROM city.links_before b "
                 "ANTI JOIN scratch.link_records i USING (record_key)")
    conn.execute("DELETE FROM core.persons WHERE person_key NOT IN (SELECT person_key FROM city.touched)")
    for code, alias in aliases.items():
        conn.execute(f"INSERT INTO core.persons BY NAME SELECT * FROM ({_respelled(conn, alias, code, 'core.persons')}) p "
                     "WHERE p.person_key NOT IN (SELECT person_key FROM city.touched)")
    typo, model = conn.execute("""
        SELECT count(DISTINCT after_key) FILTER (WHERE rule = 'id_typo'),
               count(DISTINCT after_key) FILTER (WHERE rule IN ('name_match', 'near_name_match', 'score_match'))
        FROM city.relinked""").fetchall()[0]
    conn.execute("DROP TABLE city.links_before")
    drop_working_tables(conn)
    return typo, model


def _decide(conn, aliases: dict[str, str], *, as_of: dt.date, freshness_days: int, build_status) -> int:
    """core.person_status: the persons the city changed decided again on the city's evidence by the contract's
    rules (status_rules.sql reads core.evidence: it sees only theirs while it runs); the rest keep the decision
    their own district made on the same evidence."""
    conn.execute("ALTER TABLE core.evidence RENAME TO evidence_city")
    conn.execute("CREATE TABLE core.evidence AS SELECT * FROM core.evidence_city "
                 "WHERE person_key IN (SELECT person_key FROM city.touched)")
    build_status(conn, as_of=as_of, freshness_days=freshness_days)
    conn.execute("DROP TABLE core.evidence")
    conn.execute("ALTER TABLE core.evidence_city RENAME TO evidence")
    for code, alias in aliases.items():
        conn.execute(f"INSERT INTO core.person_status BY NAME "
                     f"SELECT * FROM ({_respelled(conn, alias, code, 'core.person_status')}) s "
                     f"WHERE s.person_key NOT IN (SELECT person_key FROM city.touched)")
    # a district's person whose every record the city gave to another is touched, and no longer a person
    return conn.execute("SELECT count(*) FROM city.touched SEMI JOIN core.persons USING (person_key)").fetchall()[0][0]


# --- the exactness check: the city store against one store of the same inbox -------------------------------
# 人员主键 is a store's own numbering, so persons are compared by a name both stores agree on: the smallest
# template:batch SHA-256:row of the source rows linked to them (the same file rows are the same human).
PERSON_TABLES = {
    # every record's rule and person, every person's golden name, ID, birth date and sex
    "人员关联": "SELECT r.template || ':' || r.batch_id || ':' || r.row_no, l.rule, p.canon FROM core.person_links l "
                "JOIN core.person_records r USING (record_id) LEFT JOIN canon p USING (person_key)",
    "人员": "SELECT p.canon, s.name, s.id_number, s.birth_date, s.sex, s.n_records FROM core.persons s "
            "JOIN canon p USING (person_key)",
    "人员状态": "SELECT p.canon, s.status, s.category, s.house_code, s.grid_code, s.registered, s.presence_date, "
                "s.basis FROM core.person_status s JOIN canon p USING (person_key)",
    "grid-population": "SELECT * FROM marts.grid_population",
    "person-sources": 'SELECT p.canon, s.* EXCLUDE ("人员主键") FROM marts.person_sources s '
                      'LEFT JOIN canon p ON p.person_key = s."人员主键"',
    "assistance-check": "SELECT * FROM marts.assistance_check",
    # 任务 names its task, whose id is a digest of the 人员主键 (sql/marts/tasks.sql): compared without it
    "verification-tasks": 'SELECT p.canon, s.* EXCLUDE ("人员主键") REPLACE '
                          '(regexp_replace(s."任务", \'任务 HS-?[A-Z]+\', \'任务 HS…\') AS "任务") '
                          'FROM marts.verification_tasks s LEFT JOIN canon p ON p.person_key = s."人员主键"',
    "deregistration-feedback": 'SELECT p.canon, s.* EXCLUDE ("人员主键") FROM marts.deregistration_feedback s '
                               'LEFT JOIN canon p ON p.person_key = s."人员主键"',
    "address-matches": "SELECT template, batch_id, row_no, address, match_status, house_code, candidates, rule "
                       "FROM core.address_matches",
}


def _snapshot(path: Path) -> dict[str, list]:
    with Store(path).connect(read_only=True, macros=False) as conn:
        conn.execute("""
            CREATE TEMP TABLE canon AS
            SELECT l.person_key, min(r.template || ':' || r.batch_id || ':' || r.row_no) AS canon
            FROM core.person_links l JOIN core.person_records r USING (record_id)
            WHERE l.person_key IS NOT NULL GROUP BY l.person_key""")
        return {name: sorted(conn.execute(sql).fetchall(), key=repr) for name, sql in PERSON_TABLES.items()}


def _report_cells(reports_dir: Path, name: str = "population-monthly") -> list:
    from openpyxl import load_workbook

    from pipelines.reports.run_report import unnamed

    # A run report is one run's: each district's run has one, the city pass (which reads no inbox) none, so a
    # one-store report's note names run-report.html where the city's does not. Every other cell must agree.
    book = load_workbook(reports_dir / f"{name}.xlsx", read_only=True)
    return [(ws.title, tuple(unnamed(v) for v in row)) for ws in book.worksheets for row in ws.iter_rows(values_only=True)]


def differences(city_store: Path, one_store: Path, *, city_reports: Path | None = None,
                one_reports: Path | None = None) -> list[str]:
    """What differs between the city store and one store built from the same files (empty: identical)."""
    found = []
    city, one = _snapshot(city_store), _snapshot(one_store)
    for name in PERSON_TABLES:
        a, b = city[name], one[name]
        if a != b:
            only_city = len(set(map(repr, a)) - set(map(repr, b)))
            only_one = len(set(map(repr, b)) - set(map(repr, a)))
            found.append(f"{name}：分区+全市 {len(a)} 行，单库 {len(b)} 行，仅分区 {only_city} 行，仅单库 {only_one} 行")
    if city_reports and one_reports:
        a, b = _report_cells(city_reports), _report_cells(one_reports)
        if a != b:
            found.append(f"实有人口统计月报：{sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))} 行不同")
    return found
