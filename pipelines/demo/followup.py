"""The demo's second month: grid workers act on the first month's verification tasks.

`onceonly demo` (one street) prepares, beside the truth, what the street's grid workers record in the month
after the as-of date D1, up to the end of that month D2:

- for a share of the 待核实 persons with a house (each grid its own share, so progress differs by grid),
  a visit at that house with what the worker finds there: 在住 for someone who still lives there, 已搬离 or
  查无此人 for someone gone, 已死亡 for someone dead;
- the year's routine visits of the residents whose newest evidence would pass the freshness window by D2
  (grid workers visit every household once a year), so the month's change in 登记人口 − 实有人口 is the
  tasks' doing, not the calendar's.

It is written under ``TRUTH/followup/``: ``inbox/visits/<file>.csv`` (the month's visits file),
``grids.csv``, ``persons.csv``, ``assistance_check.csv``, ``records.csv`` (the truth on D2, computed by the
same rules from every row of both months), ``addresses.csv`` (the first month's: the visits carry no
address) and ``followup.json``. ``onceonly demo --followup`` copies the
visits file into the demo inbox; ``onceonly run --as-of D2`` then closes the tasks those visits resolve;
``onceonly demo --check --as-of D2`` scores the store against the D2 truth and prints the gap per grid
before and after (:func:`gap_report`).

The world's generator also leaves some stale residents unvisited in the first month (:func:`not_yet_visited`),
so that some tasks find the person still living there, as they do in real streets.
"""
from __future__ import annotations

import calendar
import datetime as dt
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl

FOLDER = "followup"
META = "followup.json"
# Stale residents the first month's visits have not reached yet (per mille).
NOT_YET_VISITED_PER_MILLE = 300


def not_yet_visited(bodies: np.ndarray) -> np.ndarray:
    """Which residents (by ID body) grid workers have not yet visited this year: a fixed share chosen by a
    hash of the ID, so the choice draws nothing from the world's random generator (the rest of the world
    stays as it was)."""
    h = (np.asarray(bodies, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)
    return (h % np.uint64(1000)) < NOT_YET_VISITED_PER_MILLE


def month_end_after(d: dt.date) -> dt.date:
    """The last day of the month after ``d``'s month."""
    y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def _share(n_grids: int) -> np.ndarray:
    """How much of its task list each grid gets through in the month: 25 % to 85 %, spread over the grids."""
    return 0.25 + 0.6 * ((np.arange(n_grids) * 7) % 11) / 10


def prepare(truth: Path, *, frames: dict[str, pl.DataFrame], gen, house_grid: pl.DataFrame,
            st: pl.DataFrame, inbox, as_of: dt.date) -> dict:
    """Write the second month's visits and truth under ``truth/followup`` (see the module docstring).

    ``frames``, ``st`` (the truth on ``as_of``), ``house_grid`` and ``inbox`` (its ``records``) are the first
    month's, as the generator built and wrote them."""
    from pipelines.demo.generate import _write_truth
    from pipelines.demo.truth import status_tables
    from pipelines.demo.world import DEAD, LEFT, RESIDENT
    from pipelines.demo.writer import Inbox

    d1, d2 = as_of, month_end_after(as_of)
    rng = gen.rng
    humans = gen.humans
    kind = humans["_kind"].to_numpy()
    real_house = humans["_house"].to_numpy()
    hg = house_grid.select("_house", "房屋编码", "网格编码")

    # the tasks of D1: 待核实 with a house; each grid works through its share of them
    tasks = st.filter((pl.col("状态") == "待核实") & pl.col("p_house").is_not_null())
    grids = sorted(hg["网格编码"].unique().drop_nulls().to_list())
    share = dict(zip(grids, _share(len(grids))))
    tasks = tasks.with_columns(_share=pl.col("网格编码").replace_strict(share, default=0.0))
    tasks = tasks.filter(pl.Series(rng.random(tasks.height)) < pl.col("_share"))
    hi = tasks["_hi"].to_numpy()
    k = kind[hi]
    gone = pl.Series(np.where(rng.random(len(hi)) < .6, "已搬离", "查无此人"))
    found = pl.select(pl.when(pl.Series(k == RESIDENT)).then(pl.lit("在住"))
                      .when(pl.Series(k == DEAD)).then(pl.lit("已死亡"))
                      .when(pl.Series(k == LEFT)).then(gone)
                      .otherwise(pl.lit("查无此人")).alias("r"))["r"]
    task_visits = pl.DataFrame({"_hi": hi, "_house": tasks["p_house"].to_numpy(), "走访结果": found,
                                "备注": "按走访核查任务上门"})

    # the routine visits: residents whose evidence goes stale between D1 and D2
    aged = status_tables(frames, humans, hg, d2).select("_hi", pl.col("状态").alias("d2"))
    due = (st.select("_hi", "状态").join(aged, on="_hi")
           .filter((pl.col("状态") == "在住") & (pl.col("d2") != "在住"))["_hi"].to_numpy())
    due = due[kind[due] == RESIDENT]
    routine = pl.DataFrame({"_hi": due, "_house": real_house[due], "走访结果": "在住", "备注": "例行走访"})

    visits = pl.concat([task_visits, routine]).sort("_house", "_hi")
    n = visits.height
    v_hi, v_house = visits["_hi"].to_numpy(), visits["_house"].to_numpy()
    with_id = rng.random(n) < .85
    visits = visits.with_columns(
        姓名=humans["姓名"].gather(v_hi),
        公民身份号码=pl.when(pl.Series(with_id)).then(humans["公民身份号码"].gather(v_hi)),
        房屋编码=gen.house_code.gather(v_house),
        走访日期=pl.Series((np.datetime64(d1) + rng.integers(1, (d2 - d1).days + 1, n)).astype("datetime64[D]")),
        网格员=gen.g["worker"].gather(gen.h["grid"][v_house]),
        记录编号=pl.lit(f"ZF{gen.st.record_infix}{d2:%Y%m}")
        + pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(5),
        _reject=pl.lit(False),
    ).with_columns(pl.col("走访日期").cast(pl.Date))

    home = Path(truth) / FOLDER
    if home.exists():
        shutil.rmtree(home)
    month = Inbox(home / "inbox", rng, d2)
    name = f"{gen.st.file_prefix}{d2.year}年{d2.month}月走访核查记录.csv"
    month.csv("visits", name, visits, humans=humans["human_id"], date_format="%Y-%m-%d")

    both = dict(frames)
    both["visits"] = pl.concat([frames["visits"], visits.select("_hi", "_reject", "_house", "走访日期", "走访结果")],
                               how="diagonal_relaxed")
    st2 = status_tables(both, humans, hg, d2)
    summary = _write_truth(home, SimpleNamespace(records=[*inbox.records, *month.records]), both, st2, gen, d2)
    if (Path(truth) / "addresses.csv").exists():   # the month adds no addresses: the first month's truth holds
        shutil.copyfile(Path(truth) / "addresses.csv", home / "addresses.csv")
    meta = {"previous_as_of": d1.isoformat(), "as_of": d2.isoformat(), "files": month.files,
            "visits": n, "task_visits": task_visits.height, "routine_visits": routine.height,
            "results": dict(sorted(task_visits.group_by("走访结果").len().iter_rows())),
            "实有人口": summary["实有人口"], "登记人口": summary["登记人口"]}
    (home / META).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return meta


def meta(truth: Path) -> dict | None:
    path = Path(truth) / FOLDER / META
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def deliver(inbox: Path, truth: Path) -> dict:
    """`onceonly demo --followup`: put the second month's files into the demo inbox (once)."""
    m = meta(truth)
    if m is None:
        raise FileNotFoundError(f"{Path(truth) / FOLDER} 中没有第二个月的走访记录：请先用 onceonly demo 生成一条街道的演示数据"
                                "（城市规模、按区县或 --street-index 生成的演示不带第二个月）。")
    for rel in m["files"]:
        target = Path(inbox) / rel
        if target.exists():
            raise FileExistsError(f"收件箱中已有第二个月的文件：{rel}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(truth) / FOLDER / "inbox" / rel, target)
    return m


def truth_for(truth: Path, as_of: dt.date) -> Path:
    """The truth folder that describes ``as_of``: the second month's when that is its date."""
    m = meta(truth)
    return Path(truth) / FOLDER if m and m["as_of"] == as_of.isoformat() else Path(truth)


def gap_report(conn, truth: Path, as_of: dt.date) -> str:
    """登记人口 − 实有人口 per grid on the previous build and on ``as_of`` (marts.grid_series), with the
    verification tasks closed in between, and the truth's gap on each date where the demo knows it."""
    from pipelines.store import table_exists

    if not table_exists(conn, "marts.grid_series"):
        return "（库中尚无网格历史：请先运行 onceonly run）"
    snaps: dict[dt.date, dict[str, int]] = {}
    for day, code, gap in conn.execute("""
            SELECT as_of, grid_code, registered - verified FROM marts.grid_series WHERE as_of <= ?""",
            [as_of]).fetchall():
        snaps.setdefault(day, {})[code] = gap
    if as_of not in snaps:
        return f"（库中没有统计截止日期 {as_of} 的网格快照：请先运行 onceonly run --as-of {as_of}）"
    before = max((d for d in snaps if d < as_of), default=None)
    closed = dict(conn.execute("""
        SELECT grid_code, count(*) FROM marts.tasks
        WHERE kind = 'verify' AND state = 'closed' AND closed_on > coalesce(?::DATE, DATE '0001-01-01')
        GROUP BY grid_code""", [before]).fetchall())
    names = dict(conn.execute("SELECT grid_code, min(grid_name) FROM marts.grids GROUP BY grid_code").fetchall())
    now, then = snaps[as_of], snaps.get(before, {})
    t_now, t_then = _truth_gaps(truth, as_of), _truth_gaps(truth, before)

    lines = [f"登记人口 − 实有人口（差额）按网格：上期 {before or '无'} → 本期 {as_of}",
             "网格\t上期\t本期\t变化\t其间办结的走访核查任务\t真值（上期→本期）"]
    for code in sorted(now):
        b, a = then.get(code), now[code]
        lines.append("\t".join([names.get(code) or code, "" if b is None else str(b), str(a),
                                "" if b is None else f"{a - b:+d}", str(closed.get(code, 0)),
                                f"{t_then.get(code, '-')}→{t_now.get(code, '-')}"]))
    b, a = sum(then.values()), sum(now.values())
    lines.append("\t".join(["合计", str(b) if before else "", str(a), f"{a - b:+d}" if before else "",
                            str(sum(closed.values())),
                            f"{sum(t_then.values()) if t_then else '-'}→{sum(t_now.values()) if t_now else '-'}"]))
    return "\n".join(lines)


def _truth_gaps(truth: Path, day: dt.date | None) -> dict[str, int]:
    """The demo truth's 登记人口 − 实有人口 per grid on ``day``, when the demo knows that date: the generation
    date (the main truth) or the second month's (followup/)."""
    m = meta(truth)
    if day is None or m is None or day.isoformat() not in (m["previous_as_of"], m["as_of"]):
        return {}
    g = pl.read_csv(truth_for(truth, day) / "grids.csv", schema_overrides={"网格编码": pl.String})
    return dict(zip(g["网格编码"].to_list(), (g["登记人口"] - g["实有人口"]).to_list()))
