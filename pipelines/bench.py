"""`make bench`: the pipeline from an empty store, stage by stage, at several sizes, against a
bare-DuckDB baseline doing only read + ID normalisation + dedup-by-ID + grid counts.

Each size runs in its own process so peak RSS is that run's own. Peak RSS per stage is read
from /proc/self/status (VmHWM) after resetting it through /proc/self/clear_refs.

At 1M (``--incremental-at``) the same store then gets a batch of 1 % new persons' rows (a new street
of persons / 100, generated once under ``.bench/demo-<N>-add1pct``) and every stage runs again; the
table shows those stages as "+1% ..." and the incremental run as a share of the full build. The same
batch is then built alone in a fresh store ("district ..."): what a district-partitioned deployment
(docs/scale-out.md, step 1) re-runs when the batch belongs to a district the store does not hold — the
bench's new street lies in 510104, the generated city in 510107. The city pass over those two stores
(pipelines/city.py) follows ("city pass"): the batch as a district plus the city pass is the partitioned
deployment's cost of a new batch with one status per person city-wide.

Last, a demo city by district with movers between its districts (``--city-persons``, default 3,000) is built
district by district plus the city pass and as one store, and compared: ``partitioned vs one store: identical``
or the tables that differ.

    python -m pipelines.bench                      # 100k, 1M (+1 %), 5M persons
    python -m pipelines.bench --sizes 100000       # one size
    BENCH_MEMORY_LIMIT=12GB python -m pipelines.bench --sizes 21000000 --incremental-at ""
    python -m pipelines.bench --sizes 21000000 --start-at status --stop-after status --no-baseline --statements
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

AS_OF = dt.date(2026, 10, 31)
BENCH_DIR = Path(os.environ.get("BENCH_DIR", ".bench"))


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_rss_gb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024 / 1024
    return float("nan")


# The bench's stages as a run's stages (pipelines/progress.py): what its live display shows.
RUN_STAGE = {"read": "reading", "stage": "staging", "core+address": "linking", "link": "linking",
             "status": "status", "validate": "quality", "report": "reports", "extract": "reports",
             "checkpoint": "reports", "baseline": "reading"}


class Timer:
    def __init__(self):
        self.rows: list[dict] = []
        self.progress = None      # pipelines.progress.TerminalProgress of the run being timed, on a terminal

    def say(self, line: str) -> None:
        if self.progress is not None:
            self.progress.say(line)
        else:
            print(line, file=sys.stderr, flush=True)

    def stage(self, name: str, fn, rows_fn=None):
        if self.progress is not None:
            self.progress.stage(RUN_STAGE[name.split(" ")[-1]])
        _reset_peak()
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
        rows = rows_fn() if rows_fn else None
        self.rows.append({"stage": name, "seconds": seconds, "rows": rows, "peak_rss_gb": _peak_rss_gb()})
        # Progress on stderr as each stage ends: a city-scale run takes long enough to be watched.
        self.say(f"[bench] {name}: {seconds:.1f} s, rows {rows}, peak RSS {self.rows[-1]['peak_rss_gb']:.2f} GB")
        if isinstance(result, dict) and "timings_s" in result:  # a stage that times its own steps (identity)
            self.say(f"[bench]   {name} steps: {result['timings_s']}")
        if isinstance(result, dict) and "built" in result:  # a stage that may build only what a batch changes
            self.rows[-1]["built"] = result["built"]
            self.say(f"[bench]   {name} built: {result['built']}")

    @contextlib.contextmanager
    def watched(self, title: str, times: Path):
        """On a terminal, a live display of the run's stages (the [bench] lines above it); elsewhere the
        [bench] lines alone, one per stage, as before."""
        from pipelines.progress import TerminalProgress

        if not sys.stderr.isatty():
            yield
            return
        with TerminalProgress(times, stream=sys.stderr, title=title) as progress:
            self.progress = progress
            try:
                yield
                progress.finish(True)
            finally:
                self.progress = None


def _inbox(persons: int) -> tuple[Path, Path]:
    from pipelines import demo

    root = BENCH_DIR / f"demo-{persons}"
    inbox, truth = root / "inbox", root / "truth"
    if not (root / ".complete").exists():
        print(f"[bench] generating the demo inbox of {persons:,} persons under {root} (once)", file=sys.stderr,
              flush=True)
        start = time.perf_counter()
        demo.generate(inbox, truth, persons=persons, seed=7, as_of=AS_OF)
        (root / ".complete").write_text(f"{time.perf_counter() - start:.1f}")
    return inbox, truth


def _addition(persons: int) -> Path:
    """The incremental batch: a new street of persons / 100 (street index 90), in its own inbox."""
    from pipelines import demo

    root = BENCH_DIR / f"demo-{persons}-add1pct"
    if not (root / ".complete").exists():
        import shutil

        shutil.rmtree(root, ignore_errors=True)
        # The new street's IDs must avoid the store's humans: they are read from the truth's persons.
        (root / "truth").mkdir(parents=True)
        shutil.copy(_inbox(persons)[1] / "persons.csv", root / "truth" / "persons.csv")
        demo.generate(root / "inbox", root / "truth", persons=max(1, persons // 100), seed=7, as_of=AS_OF,
                      street_index=90)
        (root / ".complete").write_text("")
    return root / "inbox"


STAGES = ("read", "stage", "core+address", "link", "status", "validate", "report", "extract", "checkpoint")


def run_stages(conn, t: Timer, inboxes: list[Path], home: Path, label: str = "",
            start_at: str = "read", stop_after: str = "checkpoint", incremental: bool = True) -> None:
    """Every stage from ``start_at`` to ``stop_after``, as the Dagster assets call them, each timed
    under ``label + name``. ``incremental``: the stages that can build only what new batches change do so, as in
    a pipeline run (pipelines/status/delta.py); False rebuilds them whole."""
    from pipelines.address import build_address_matches
    from pipelines.identity import link_persons
    from pipelines.ingest import load_inbox
    from pipelines.marts import build_marts
    from pipelines.publish import write_extract
    from pipelines.quality import build_queue, validate
    from pipelines.records import build_person_records
    from pipelines.reports import render_all
    from pipelines.staging import build_staging
    from pipelines.status import build_evidence, build_status
    from pipelines.store import Store

    def count(sql):
        return lambda: conn.execute(sql).fetchall()[0][0]

    wanted = STAGES[STAGES.index(start_at):STAGES.index(stop_after) + 1]

    def stage(name, fn, rows_fn=None):
        """t.stage, skipping stages outside start_at..stop_after (a city-scale store can be built once
        up to a stage and the later stages profiled on it again and again)."""
        if name in wanted:
            t.stage(label + name, fn, rows_fn)

    def read():
        for inbox in inboxes:
            load_inbox(conn, inbox, loaded_on=dt.date.today(), progress=t.progress)
    stage("read", read, count("SELECT sum(rows_read) FROM raw.batches"))
    stage("stage", lambda: build_staging(conn), count("SELECT sum(rows_loaded) FROM raw.batches"))

    def core():
        Store.run_sql(conn, "core/grids.sql")
        Store.run_sql(conn, "core/houses.sql")
        built = {"address": build_address_matches(conn, incremental=incremental)[0],
                 "address_texts": conn.execute("SELECT getvariable('address_texts_read')").fetchall()[0][0],
                 "records": build_person_records(conn, incremental=incremental)}
        return {"built": built}
    stage("core+address", core, count("SELECT count(*) FROM core.person_records"))

    def link():
        summary = link_persons(conn, run_date=dt.date.today(), incremental=incremental)
        return {**summary, "built": {"identity": summary["built"], "closure": summary["closure_records"]}}
    stage("link", link, count("SELECT count(*) FROM core.person_links"))

    def status():
        built = {"evidence": build_evidence(conn, incremental=incremental),
                 "status": build_status(conn, as_of=AS_OF, incremental=incremental)}
        built["marts"] = build_marts(conn, as_of=AS_OF, incremental=incremental)
        return {"built": built}
    stage("status", status, count("SELECT count(*) FROM core.person_status"))

    def quality():
        results = validate(conn, as_of=AS_OF, incremental=incremental)
        build_queue(conn)
        return {"built": {"validate": "delta" if any(r.built == "delta" for r in results) else "full"}}
    stage("validate", quality, count("SELECT count(*) FROM core.person_records"))
    stage("report", lambda: render_all(conn, out_dir=home / "reports", as_of=AS_OF, home=home),
          count("SELECT count(*) FROM core.person_status"))

    def extracts():
        for name in ("grid-population", "person-sources", "assistance-check"):
            write_extract(conn, name, fmt="parquet", out=home / "extracts" / f"{name}.parquet",
                          dept=None, scope=None, as_of=AS_OF, user="bench", home=home)
    stage("extract", extracts, count("SELECT count(*) FROM marts.person_sources"))
    # Data DuckDB has not yet written to the file is written at a checkpoint; a stage that
    # left it to the close would look cheaper than it is.
    stage("checkpoint", lambda: conn.execute("CHECKPOINT"))


def run_pipeline_stages(persons: int, memory_limit: str | None, incremental: bool = False,
                        start_at: str = "read", stop_after: str = "checkpoint") -> dict:
    """Run every stage directly (no Dagster overhead) on a fresh store; time each. With
    ``incremental``, then add a batch of 1 % new persons' rows and run every stage again.
    From a later ``start_at`` the store of an earlier run (stopped with ``stop_after``) is kept."""
    import shutil

    from pipelines.store import Store

    inbox, _ = _inbox(persons)
    addition = _addition(persons) if incremental else None
    home = BENCH_DIR / f"home-{persons}"
    if start_at == "read":
        shutil.rmtree(home, ignore_errors=True)
    elif not (home / "store.duckdb").exists():
        raise SystemExit(f"--start-at {start_at}: no store at {home} (run with --stop-after first)")
    store = Store(home / "store.duckdb", memory_limit=memory_limit)
    t = Timer()
    districts: dict[str, list[str]] = {}
    with store.connect() as conn:
        with t.watched(f"make bench · {persons:,} 人 · 全量", BENCH_DIR / f"stage_times-{persons}.json"):
            run_stages(conn, t, [inbox], home, start_at=start_at, stop_after=stop_after)
        districts["store"] = _districts(conn)
    if addition is not None:
        # The +1 % run on connections of its own, as a pipeline run is (a connection keeps per-connection state,
        # e.g. the reports' TEMP preparation, made once per connection and date). After the batch is read, the
        # store is copied for the full rebuild the incremental run must equal.
        with t.watched(f"make bench · {persons:,} 人 · 新增 1%", BENCH_DIR / f"stage_times-{persons}-add1pct.json"):
            with store.connect() as conn:
                run_stages(conn, t, [inbox, addition], home, label="+1% ", stop_after="read")
            rebuild = BENCH_DIR / f"home-{persons}-rebuild"
            shutil.rmtree(rebuild, ignore_errors=True)
            shutil.copytree(home, rebuild)
            with store.connect() as conn:
                run_stages(conn, t, [inbox, addition], home, label="+1% ", start_at="stage")
        with Store(rebuild / "store.duckdb", memory_limit=memory_limit).connect() as conn, \
                t.watched(f"make bench · {persons:,} 人 · 全量重建", BENCH_DIR / f"stage_times-{persons}-rebuild.json"):
            run_stages(conn, t, [inbox, addition], rebuild, label="rebuild ", start_at="stage", incremental=False)
        from pipelines.compare import file_differences, store_differences

        found = store_differences(home / "store.duckdb", rebuild / "store.duckdb")
        found += [f"reports/{d}" for d in file_differences(home / "reports", rebuild / "reports")]
        found += [f"extracts/{d}" for d in file_differences(home / "extracts", rebuild / "extracts")]
        same = "identical" if not found else f"{len(found)} differences: " + "; ".join(found[:10])
        t.say(f"[bench] +1 % incremental vs full rebuild of the same store: {same}")
        # The same batch as a district partition (docs/scale-out.md, step 1) builds its own store and leaves
        # the others alone: what re-running costs when the batch is a district the store does not hold.
        part = BENCH_DIR / f"home-{persons}-batch-district"
        shutil.rmtree(part, ignore_errors=True)
        with Store(part / "store.duckdb", memory_limit=memory_limit).connect() as conn, \
                t.watched(f"make bench · {persons:,} 人 · 区县分区", BENCH_DIR / f"stage_times-{persons}-district.json"):
            run_stages(conn, t, [addition], part, label="district ")
            districts["batch"] = _districts(conn)
        if len(districts["batch"]) == 1 and len(districts["store"]) == 1 and districts["batch"] != districts["store"]:
            # …and the city pass over the two districts' stores (pipelines/city.py) makes them one city again.
            from pipelines.city import city_pass

            city = BENCH_DIR / f"home-{persons}-city"
            shutil.rmtree(city, ignore_errors=True)
            for code, src in ((districts["store"][0], home), (districts["batch"][0], part)):
                (city / "districts" / code).mkdir(parents=True)
                (city / "districts" / code / "store.duckdb").symlink_to((src / "store.duckdb").resolve())
            laps = {}
            t.stage("city pass", lambda: laps.update(city_pass(home=city, as_of=AS_OF, memory_limit=memory_limit).laps),
                    lambda: _count(city / "city" / "store.duckdb", "SELECT count(*) FROM core.person_status"))
            t.say("[bench] city pass parts (s): " + ", ".join(f"{k} {v}" for k, v in laps.items()))
    return {"persons": persons, "stages": t.rows, "districts": districts,
            **({"incremental_vs_rebuild": same} if addition is not None else {})}


def _count(store: Path, sql: str) -> int:
    from pipelines.store import Store

    with Store(store).connect(read_only=True, macros=False) as conn:
        return conn.execute(sql).fetchall()[0][0]


def _districts(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT district_code FROM core.grids ORDER BY 1").fetchall()]


def _read_csv_any(path: Path):
    """Decode like the product does (UTF-8, else GB18030), but with nothing else on top."""
    import polars as pl

    data = path.read_bytes()
    try:
        data.decode("utf-8")
        encoding = "utf8"
    except UnicodeDecodeError:
        data = data.decode("gb18030").encode("utf-8")
        encoding = "utf8"
    return pl.read_csv(data, infer_schema=False, encoding=encoding)


BASELINE_SQL = """
CREATE OR REPLACE TEMP TABLE b_ids AS
SELECT regexp_replace(upper(translate(id, '０１２３４５６７８９ｘＸ', '0123456789XX')), '[\\s-]', '', 'g') AS id, house
FROM b_people;
CREATE OR REPLACE TEMP TABLE b_persons AS
SELECT id, max(house) AS house FROM b_ids WHERE length(id) = 18 GROUP BY id;
CREATE OR REPLACE TEMP TABLE b_grids AS
SELECT h.microgrid, count(*) AS n FROM b_persons p JOIN b_houses h ON h.house = p.house GROUP BY ALL;
"""


def run_baseline(persons: int) -> dict:
    """Bare DuckDB: read the person files, normalise IDs, dedup by ID, count per micro-grid."""
    import duckdb
    import polars as pl

    from pipelines.sources import load_catalog, normalize_header

    inbox, _ = _inbox(persons)
    catalog = load_catalog()

    def pick(frame, template, column):
        keys = catalog[template].field(column).header_keys()
        return next((c for c in frame.columns if normalize_header(c) in keys), None)

    t = Timer()
    conn = duckdb.connect()

    def work():
        people, houses = [], []
        for template in ("residents", "hukou", "floating"):
            for path in sorted((inbox / template).glob("*.csv")):
                f = _read_csv_any(path)
                id_col, house_col = pick(f, template, "id_number"), (pick(f, template, "house_code")
                                                                  if template != "hukou" else None)
                if id_col:
                    people.append(f.select(pl.col(id_col).alias("id"),
                                           (pl.col(house_col) if house_col else pl.lit(None, pl.String)).alias("house")))
        for path in sorted((inbox / "housing").glob("*.csv")):
            f = _read_csv_any(path)
            houses.append(f.select(pl.col(pick(f, "housing", "house_code")).alias("house"),
                                   pl.col(pick(f, "housing", "microgrid_code")).alias("microgrid")))
        conn.register("b_people", pl.concat(people).to_arrow())
        conn.register("b_houses", pl.concat(houses).to_arrow())
        conn.execute(BASELINE_SQL)

    t.stage("baseline", work, lambda: conn.execute("SELECT count(*) FROM b_ids").fetchall()[0][0])
    return {"persons": persons, "stages": t.rows}


def _without_comments(statement: str) -> str:
    """The statement's code without its ``--`` comment lines: DuckDB 2.0.1's parser keeps the
    comments before a statement in its text, and the label should start with the statement."""
    return "\n".join(line for line in statement.splitlines() if not line.lstrip().startswith("--"))


def _time_statements() -> None:
    """Make Store.run_sql run each SQL file statement by statement and print each one's seconds on
    stderr (``--statements``): which statement of a stage is slow, at the size where it is slow.
    DuckDB's own parser splits the file (a comment may end in a semicolon)."""
    from pipelines.store import Store, set_variables, sql_text

    def say(start: float, what: str) -> None:
        print(f"[bench]     {time.perf_counter() - start:8.1f} s  {what}", file=sys.stderr, flush=True)

    def run_sql(conn, relative: str, **variables) -> None:
        set_variables(conn, variables)
        for statement in conn.extract_statements(sql_text(relative)):
            code = statement.query
            start = time.perf_counter()
            conn.execute(code)
            say(start, f"{relative}: {' '.join(_without_comments(code).split())[:90]}")

    Store.run_sql = staticmethod(run_sql)

    # A report family or a suite also spends time outside SQL files (list queries, file writing, GX):
    # each one's whole seconds, so the part outside the statements above shows where it goes.
    import pipelines.marts as marts
    import pipelines.quality as quality
    import pipelines.reports as reports

    def timed(module, name: str, label) -> None:
        inner = getattr(module, name)

        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            result = inner(*args, **kwargs)
            say(start, label(args, result))
            return result
        setattr(module, name, wrapper)

    timed(reports, "render_report", lambda args, _: f"report {args[1]} (SQL, list queries, files)")
    # a person mart's rows are made when its view is stored (whole, or added to the rows kept)
    timed(marts, "_add", lambda args, _: f"marts.{args[1]} {'added' if args[2] else 'stored whole'}")
    timed(quality, "validate", lambda _, results: "validate: " + ", ".join(
        f"{r.suite} {r.seconds:.1f}" for r in sorted(results, key=lambda r: -r.seconds)[:6]))


def _child(args) -> None:
    if args.statements:
        _time_statements()
    result = (run_baseline(args.persons) if args.baseline
              else run_pipeline_stages(args.persons, args.memory_limit, args.incremental,
                                       args.start_at, args.stop_after))
    print("BENCH-JSON " + json.dumps(result, ensure_ascii=False))


def _spawn(persons: int, baseline: bool, memory_limit: str | None, incremental: bool = False,
           start_at: str = "read", stop_after: str = "checkpoint", statements: bool = False) -> dict:
    cmd = [sys.executable, "-m", "pipelines.bench", "--child", "--persons", str(persons),
           *(["--statements"] if statements else []),
           "--start-at", start_at, "--stop-after", stop_after]
    if baseline:
        cmd.append("--baseline")
    if incremental:
        cmd.append("--incremental")
    if memory_limit:
        cmd += ["--memory-limit", memory_limit]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout  # stderr: progress, passed on
    line = next(line for line in out.splitlines() if line.startswith("BENCH-JSON "))
    return json.loads(line[len("BENCH-JSON "):])


def _table(result: dict, baseline: dict | None) -> str:
    lines = [f"\n### {result['persons']:,} persons", "",
             "| stage | seconds | rows | rows/s | peak RSS GB |", "|---|---:|---:|---:|---:|"]
    totals: dict[str, float] = {}
    for s in result["stages"]:
        run = next((r for r in ("+1%", "rebuild", "district", "city") if s["stage"].startswith(r + " ")), "full")
        if run not in totals and totals:
            last = list(totals)[-1]
            lines.append(f"| **total{'' if last == 'full' else f' ({last} run)'}** | **{totals[last]:.1f}** | | | |")
        totals[run] = totals.get(run, 0.0) + s["seconds"]
        rate = f"{s['rows'] / s['seconds']:,.0f}" if s["rows"] and s["seconds"] else ""
        lines.append(f"| {s['stage']} | {s['seconds']:.1f} | {s['rows'] or '':,} | {rate} | {s['peak_rss_gb']:.2f} |"
                     if s["rows"] else f"| {s['stage']} | {s['seconds']:.1f} | | | {s['peak_rss_gb']:.2f} |")
    peak = max(s["peak_rss_gb"] for s in result["stages"])
    last = list(totals)[-1]
    lines.append(f"| **total{'' if last == 'full' else f' ({last} run)'}** | **{totals[last]:.1f}** | | | **{peak:.2f}** |")
    if baseline is not None:
        base = baseline["stages"][0]
        lines.append(f"\nbaseline (bare DuckDB: read + ID normalisation + dedup + grid counts): {base['seconds']:.1f} s, "
                     f"peak RSS {base['peak_rss_gb']:.2f} GB; ratio pipeline / baseline = "
                     f"{totals['full'] / base['seconds']:.1f}")
    if "+1%" in totals:
        lines.append(f"incremental: adding 1 % new persons' rows and re-running took {totals['+1%']:.1f} s = "
                     f"{100 * totals['+1%'] / totals['full']:.0f} % of the full build")
    if "rebuild" in totals:
        lines.append(f"the same +1 % as a full rebuild of the same store (every stage whole): {totals['rebuild']:.1f} s; "
                     f"incremental vs full rebuild: {result.get('incremental_vs_rebuild', 'not compared')}")
    if "district" in totals:
        store, batch = (result.get("districts", {}).get(k, []) for k in ("store", "batch"))
        own = bool(batch) and not set(batch) & set(store)
        lines.append(f"the same batch as a district partition (its own store, docs/scale-out.md step 1): "
                     f"{totals['district']:.1f} s = {100 * totals['district'] / totals['full']:.0f} % of the full build"
                     + (f" — applies here: the batch is district {'、'.join(batch)}, the store holds "
                        f"{'、'.join(store)}" if own else
                        " — does not apply here: the batch's district is one the store already holds"))
    if "city" in totals:
        both = totals["district"] + totals["city"]
        lines.append(f"+1 % as a district plus the city pass (pipelines/city.py, one city again): "
                     f"{totals['district']:.1f} + {totals['city']:.1f} s = {both:.1f} s = "
                     f"{100 * both / totals['full']:.0f} % of the full build")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipelines.bench")
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "100000,1000000,5000000"))
    parser.add_argument("--incremental-at", default=os.environ.get("BENCH_INCREMENTAL", "1000000"),
                        help="sizes at which a batch of 1 %% new persons is added and everything re-run")
    parser.add_argument("--memory-limit", default=os.environ.get("BENCH_MEMORY_LIMIT"))
    parser.add_argument("--start-at", choices=STAGES, default="read",
                        help="begin at this stage on the store a run with --stop-after left (.bench/home-<N>)")
    parser.add_argument("--stop-after", choices=STAGES, default="checkpoint",
                        help="end after this stage and keep the store")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bare-DuckDB baseline")
    parser.add_argument("--statements", action="store_true",
                        help="print the seconds of every SQL statement the stages run (stderr)")
    parser.add_argument("--city-persons", type=int, default=int(os.environ.get("BENCH_CITY_PERSONS", "3000")),
                        help="size of the demo city (by district, with movers) whose partitioned build plus city pass "
                             "is compared with one store; 0 skips it")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--incremental", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--persons", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return
    print(f"machine: {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 1024**3:.0f} GB RAM; as-of {AS_OF}")
    incremental_at = {int(s) for s in args.incremental_at.split(",") if s.strip()}
    partial = args.start_at != "read" or args.stop_after != "checkpoint"  # no +1 % run on part of the stages
    for persons in (int(s) for s in args.sizes.split(",") if s.strip()):
        _inbox(persons)
        result = _spawn(persons, False, args.memory_limit, persons in incremental_at and not partial,
                        args.start_at, args.stop_after, args.statements)
        baseline = None if args.no_baseline else _spawn(persons, True, None)
        print(_table(result, baseline), flush=True)
    if args.city_persons and not partial:
        print(city_check(args.city_persons), flush=True)


def city_check(persons: int, root: Path | None = None) -> str:
    """The exactness of a partitioned city (docs/scale-out.md): a demo city by district with movers between its
    districts, run district by district plus the city pass, against one store of the same files."""
    import shutil

    from pipelines import demo
    from pipelines.city import city_pass, differences
    from pipelines.demo.movers import add_movers, flatten
    from pipelines.districts import run_districts
    from pipelines.runner import run_pipeline

    root = root or BENCH_DIR / f"city-{persons}"
    shutil.rmtree(root, ignore_errors=True)
    inbox, flat = root / "inbox", root / "flat"
    demo.generate(inbox, root / "truth", persons=persons, seed=7, as_of=AS_OF, street_max=max(1, persons // 3),
                  by_district=True)
    movers = add_movers(inbox, per_district=max(7, persons // 100), as_of=AS_OF)
    flatten(inbox, flat)
    started = time.perf_counter()
    run_pipeline(home=root / "one", inbox=flat, as_of=AS_OF)
    one_s = time.perf_counter() - started
    started = time.perf_counter()
    failed = [r.code for r in run_districts(home=root / "home", inbox=inbox, as_of=AS_OF, parallel=1) if not r.success]
    districts_s = time.perf_counter() - started
    if failed:
        return f"partitioned vs one store: not compared, districts failed: {', '.join(failed)}"
    city = city_pass(home=root / "home", as_of=AS_OF)
    found = differences(city.home / "store.duckdb", root / "one" / "store.duckdb",
                        city_reports=city.reports_dir, one_reports=root / "one" / "reports" / AS_OF.isoformat())
    return (f"city of {persons:,} demo persons in {len(city.districts)} districts, {movers} movers between them "
            f"({city.shared} persons in several districts, {city.typo} through a mistyped ID, {city.model} through the model, "
            f"{city.touched} statuses decided again): one store {one_s:.1f} s; districts one after another "
            f"{districts_s:.1f} s + city pass {city.seconds:.1f} s ("
            + ", ".join(f"{k} {v}" for k, v in city.laps.items()) + ")\n"
            + ("partitioned vs one store: identical" if not found
               else "partitioned vs one store: differences: " + "; ".join(found)))


if __name__ == "__main__":
    main()
