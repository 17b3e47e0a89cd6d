"""An incremental build equals a full rebuild of the same store and inbox, table by table and file by file.

A small street is delivered in random batches (seeded orders of its files, housing and grids
among them, so later batches add houses, re-match addresses and move houses between grids; address matching and
core.person_records keep their rows of earlier batches where nothing they were decided against changed) and, last, the
second month's visits on the first month's persons (records that join existing persons), then a re-delivery of
houses and grids that changes their attributes and moves nobody (only the marts see it). After each batch is
read, the store is copied; one copy runs every stage the way a pipeline run does (evidence and status only for
the persons the batch can change: pipelines/status/delta.py), the other rebuilds every stage whole; every table
of raw, staging, core, marts and quality and every report and extract file must be the same.
"""
from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

import pytest

# Each case builds a street several times over (no Dagster, but every stage): `make test`, not test-fast.
pytestmark = pytest.mark.slow

from pipelines import demo
from pipelines.demo import followup
from pipelines.bench import Timer, run_stages
from pipelines.compare import file_differences, store_differences
from pipelines.store import Store

AS_OF = dt.date(2026, 10, 31)
DELTA = {"identity": "delta", "evidence": "delta", "status": "delta", "marts": "delta"}
FULL = {"identity": "full", "evidence": "full", "status": "full", "marts": "full"}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    inbox, truth = root / "inbox", root / "truth"
    demo.generate(inbox, truth, persons=600, seed=11, as_of=AS_OF)
    second = root / "second"
    followup.deliver(second, truth)
    return {"files": sorted(p for p in inbox.rglob("*") if p.is_file()), "inbox": inbox, "second": second}


def _batches(files: list[Path], inbox: Path, seed: int, root: Path, parts: int) -> list[Path]:
    """The inbox's files shuffled by ``seed`` into ``parts`` inbox folders (each keeps the template folders)."""
    order = list(files)
    random.Random(seed).shuffle(order)
    cuts = sorted(random.Random(seed + 1).sample(range(1, len(order)), parts - 1))
    folders = []
    for i, chunk in enumerate(zip([0, *cuts], [*cuts, len(order)])):
        folder = root / f"batch-{seed}-{i}"
        for path in order[chunk[0]:chunk[1]]:
            target = folder / path.relative_to(inbox)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
        folders.append(folder)
    return folders


def _build(home: Path, inboxes: list[Path], *, incremental: bool, start_at: str = "stage") -> dict:
    """Every stage from ``start_at``; returns how each step that may be incremental was built ('full' or 'delta')."""
    timer = Timer()
    with Store(home / "store.duckdb").connect() as conn:
        run_stages(conn, timer, inboxes, home, start_at=start_at, incremental=incremental)
    return {step: how for row in timer.rows if "built" in row for step, how in row["built"].items()
            if step not in ("closure", "address_texts")}


def _read(home: Path, inboxes: list[Path]) -> None:
    with Store(home / "store.duckdb").connect() as conn:
        run_stages(conn, Timer(), inboxes, home, stop_after="read")


def _record_ids(home: Path) -> set[int]:
    with Store(home / "store.duckdb").connect() as conn:
        return {r for (r,) in conn.execute("SELECT record_id FROM core.person_records").fetchall()}


def _differences(a: Path, b: Path) -> list[str]:
    found = store_differences(a / "store.duckdb", b / "store.duckdb")
    for folder in ("reports", "extracts"):
        found += [f"{folder}/{d}" for d in file_differences(a / folder, b / folder)]
    return found


def _places_changed(inbox: Path, folder: Path) -> Path:
    """A later delivery of the street's houses and grids that moves nobody and changes what the marts print of a
    place: every other house's 居住类型 swapped (自住 ↔ 出租, dated the day before D, so it is the newest row), every
    other micro-grid's 网格员 renamed and every grid's 网格名称 given a suffix."""
    import csv

    import openpyxl

    from pipelines.sources import load_catalog, normalize_header

    catalog = {t.name: t for t in load_catalog()}

    def column(template: str, store_column: str, head: list) -> int:
        """Where the file's own 表头 (any of the field's aliases) puts a field."""
        keys = next(f for f in catalog[template].fields if f.column == store_column).header_keys()
        return next(i for i, h in enumerate(head) if normalize_header(str(h)) in keys)

    for path in sorted((inbox / "housing").glob("*.csv")):
        raw = path.read_bytes()
        try:
            encoding, text = "utf-8", raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            encoding, text = "gb18030", raw.decode("gb18030")
        rows = list(csv.reader(text.splitlines()))
        head = rows[0]
        kind, date = column("housing", "occupancy", head), column("housing", "collected_on", head)
        for i, row in enumerate(rows[1:]):
            if i % 2 == 0:
                row[kind] = {"自住": "出租", "出租": "自住"}.get(row[kind], row[kind])
                row[date] = (AS_OF - dt.timedelta(days=1)).strftime("%Y%m%d")
        target = folder / "housing" / f"复核-{path.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding=encoding, newline="") as out:
            csv.writer(out).writerows(rows)
    for path in sorted((inbox / "grids").glob("*.xlsx")):
        book = openpyxl.load_workbook(path)
        sheet = book.worksheets[0]
        head = [c.value for c in sheet[1]]
        worker, name = column("grids", "grid_worker", head) + 1, column("grids", "grid_name", head) + 1
        for r in range(2, sheet.max_row + 1):
            if r % 2 == 0:
                sheet.cell(r, worker).value = "复核网格员"
            sheet.cell(r, name).value = f"{sheet.cell(r, name).value}（调整）"
        target = folder / "grids" / f"复核-{path.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        book.save(target)
    return folder


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_equals_full_rebuild(city, tmp_path, seed, closure_at_any_size):
    batches = _batches(city["files"], city["inbox"], seed, tmp_path, parts=3)
    batches.append(city["second"])
    batches.append(_places_changed(city["inbox"], tmp_path / "places"))
    home = tmp_path / "incremental"
    _build(home, batches[:1], incremental=True, start_at="read")
    for n in range(2, len(batches) + 1):
        _read(home, batches[:n])
        full = tmp_path / f"full-{n}"
        shutil.rmtree(full, ignore_errors=True)
        shutil.copytree(home, full)
        prior = _record_ids(home)
        built = _build(home, batches[:n], incremental=True)
        # address matching keeps the rows a batch's houses and grids cannot reach; whole when the grids' names
        # first arrive (every text's 'outside' turns) or a batch brings more than MAX_NEEDLES changes
        assert built == {**DELTA, "address": built["address"], "records": "delta", "validate": "delta"}
        assert set(_build(full, batches[:n], incremental=False).values()) == {"full"}
        found = _differences(home, full)
        assert not found, f"seed {seed}, after batch {n}: " + "; ".join(found)
        # the records handed on to later stages: exactly those of the new batches as new, none removed
        with Store(home / "store.duckdb").connect() as conn:
            handed = dict(conn.execute("SELECT change, list(record_id) FROM scratch.record_delta GROUP BY ALL").fetchall())
        assert set(handed.get("new", [])) == _record_ids(home) - prior and "removed" not in handed


def test_full_rebuild_twice_is_identical(city, tmp_path):
    """The comparison itself: two full rebuilds of one store agree (nothing in a build depends on the clock
    below a day, or on the order rows are written in)."""
    home = tmp_path / "home"
    _build(home, [city["inbox"]], incremental=False, start_at="read")
    other = tmp_path / "other"
    shutil.copytree(home, other)
    _build(home, [city["inbox"]], incremental=False)
    _build(other, [city["inbox"]], incremental=False)
    assert _differences(home, other) == []


def _built(instance, step: str, layer: str = "core") -> str:
    import dagster as dg

    event = instance.get_latest_materialization_event(dg.AssetKey([layer, step]))
    return event.asset_materialization.metadata["built"].value


def test_a_pipeline_run_with_a_new_batch_builds_incrementally_what_a_full_rebuild_builds(small_street, tmp_path):
    """Through the whole graph (store versions, Dagster steps): the second month's visits make the next run
    rebuild evidence, status and the person marts for their persons only; the same store forced to rebuild them
    whole (its fingerprints removed) ends with the same persons' tables and marts."""
    import dagster as dg

    from pipelines.runner import run_pipeline

    home, inbox = tmp_path / "home", tmp_path / "inbox"
    shutil.copytree(small_street / "home", home, symlinks=True)
    shutil.copytree(small_street / "inbox", inbox)
    followup.deliver(inbox, small_street / "truth")
    instance = dg.DagsterInstance.ephemeral()
    summary = run_pipeline(home=home, inbox=inbox, as_of=AS_OF, instance=instance)
    assert summary.success and summary.published, summary.error
    assert (_built(instance, "evidence"), _built(instance, "person_status"),
            _built(instance, "contract_extracts", "marts")) == ("delta", "delta", "delta")
    # visits bring no address and no house: the matches and records of earlier batches are kept
    assert (_built(instance, "address_matches"), _built(instance, "person_records")) == ("delta", "delta")

    again = tmp_path / "again"
    shutil.copytree(home, again, symlinks=True)
    with Store(again / "store.duckdb").connect() as conn:
        conn.execute("DELETE FROM core.build_state")
    instance = dg.DagsterInstance.ephemeral()
    summary = run_pipeline(home=again, inbox=inbox, as_of=AS_OF, instance=instance)
    assert summary.success and summary.published, summary.error
    assert (_built(instance, "evidence"), _built(instance, "person_status"),
            _built(instance, "contract_extracts", "marts")) == ("full", "full", "full")
    assert (_built(instance, "address_matches"), _built(instance, "person_records")) == ("full", "full")
    # one row per build: the forced rebuild is one build more; the run report's tables describe one run (what it
    # read, what changed since the version before it)
    histories = ("core.grid_history", "quality.queue_runs", "quality.queue_trend", "quality.validation_results",
                 "marts.run_changes", "marts.run_files", "marts.run_meta", "marts.run_sources", "marts.run_transitions")
    found = store_differences(home / "store.duckdb", again / "store.duckdb", ignore=histories)
    assert not found, "; ".join(found)


def test_two_linkage_runs_before_evidence_hand_on_both_closures(city, tmp_path, closure_at_any_size):
    """Identity runs twice (two batches) before evidence is built again, as when a run stops after linkage: evidence
    must see the links both runs replaced (scratch.link_delta accumulates until evidence reads it), or the first
    batch's persons keep no evidence while a full rebuild gives them theirs."""
    batches = _batches(city["files"], city["inbox"], 4, tmp_path, parts=3)
    home = tmp_path / "incremental"
    _build(home, batches[:1], incremental=True, start_at="read")
    for n in (2, 3):
        _read(home, batches[:n])
        with Store(home / "store.duckdb").connect() as conn:
            run_stages(conn, Timer(), batches[:n], home, start_at="stage", stop_after="link")
    full = tmp_path / "full"
    shutil.copytree(home, full)
    built = _build(home, batches, incremental=True, start_at="status")
    assert built["evidence"] == "delta"
    _build(full, batches, incremental=False)
    found = _differences(home, full)
    assert not found, "; ".join(found)


def test_a_person_moved_to_another_grid_changes_both_grids_kept_rows(city, tmp_path):
    """A later visit (dated D: it beats any presence, a residence permit's included) finds a person of an earlier
    batch 在住 at a house of another grid: the kept mart rows of the
    grid they left and of the grid they entered must both be counted again (marts.population_by_grid,
    marts.grid_population), their row of marts.persons and their lineage's 状态 replaced — as a full rebuild
    has them. A delta that kept either grid's row, or the person's, would leave it stale."""
    import csv

    home = tmp_path / "incremental"
    _build(home, [city["inbox"]], incremental=True, start_at="read")
    with Store(home / "store.duckdb").connect() as conn:
        person, name, id_number, grid = conn.execute(
            "SELECT person_key, name, id_number, grid_code FROM marts.persons WHERE status = '在住' "
            "AND id_number IS NOT NULL AND grid_code IS NOT NULL ORDER BY person_key LIMIT 1").fetchall()[0]
        house, other = conn.execute(
            "SELECT h.house_code, g.grid_code FROM marts.houses h JOIN marts.grids g USING (microgrid_code) "
            "WHERE g.grid_code <> ? ORDER BY h.house_code LIMIT 1", [grid]).fetchall()[0]
        before = dict(conn.execute("SELECT grid_code, resident FROM marts.population_by_grid "
                                   "WHERE grid_code IN (?, ?)", [grid, other]).fetchall())
    moved = tmp_path / "moved"
    (moved / "visits").mkdir(parents=True)
    with (moved / "visits" / "走访-迁居.csv").open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([["记录编号", "房屋编码", "姓名", "公民身份号码", "走访日期", "走访结果"],
                                   ["ZF-MOVED-1", house, name, id_number, AS_OF.isoformat(), "在住"]])
    inboxes = [city["inbox"], moved]
    _read(home, inboxes)
    full = tmp_path / "full"
    shutil.copytree(home, full)
    assert _build(home, inboxes, incremental=True)["marts"] == "delta"
    _build(full, inboxes, incremental=False)
    found = _differences(home, full)
    assert not found, "; ".join(found)
    with Store(home / "store.duckdb").connect() as conn:
        assert conn.execute("SELECT grid_code FROM marts.persons WHERE person_key = ?", [person]).fetchall() == [(other,)]
        after = dict(conn.execute("SELECT grid_code, resident FROM marts.population_by_grid "
                                  "WHERE grid_code IN (?, ?)", [grid, other]).fetchall())
        assert after[grid] == before[grid] - 1 and after[other] == before.get(other, 0) + 1
        assert conn.execute('SELECT DISTINCT "状态" FROM marts.person_sources WHERE "人员主键" = ?',
                            [person]).fetchall() == [("在住",)]
