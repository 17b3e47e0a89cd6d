"""Movers between districts, for a city inbox laid out by district (``onceonly demo --by-district --movers N``).

The streets of a demo city are generated apart, so no person lives in two of them; a city run by district is
only tested when some do (docs/scale-out.md). Each district's people may move to the next district (in code
order, the last to the first): N persons of the district's current census (valid ID) are collected again
at a house of the next district, later than their old row, in a file ``residents/<代码>迁入人员实有人口采集.csv``
of the new district. Every third is also visited at the old house (已搬离, a month before the new census row:
the old district alone calls them 已离开, the city 在住 at the new house). Every seventh dies soon after moving
instead of being collected: the new district's civil affairs register the death
(``deaths/<代码>迁入人员死亡登记.csv``) of somebody that district never saw, so only the city can link it.
Some of the census rows carry a mistyped ID (as the generator writes them): those movers are joined by the
city pass's typo rule, not by their ID. Every fourth mover (from the fourth on) is collected in the new district
without a readable ID, as grid workers' rows often are: the 公民身份号码 left blank (not shown), or cut short to
16 digits (loaded with a warning, the ID invalid); the row has the name, sex, birth date and phone all the same.
Only the probabilistic model (same birth date + surname pinyin, city-wide) can tell it is the person of the old
district, so these movers test the city pass's probabilistic linkage against one store's.

The truth (truth/persons.csv) is not rewritten for them: ``onceonly demo --check`` counts these persons as
the old street's. The comparison that matters here is the partitioned build against one store of the same
files (pipelines/bench.py, tests/test_city.py).
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _census(folder: Path) -> list[dict]:
    """Current-year census rows (UTF-8 CSV files named …实有人口采集.csv) with an 18-character ID and a house."""
    rows = []
    for path in sorted((folder / "residents").glob("*实有人口采集.csv")):
        try:
            rows += [r for r in _rows(path) if len(r.get("公民身份号码") or "") == 18 and r.get("房屋编码")]
        except UnicodeDecodeError:
            continue    # the generator also writes GBK files: those are left out, not guessed
    return rows


def _houses(folder: Path) -> list[str]:
    codes = []
    for path in sorted((folder / "housing").glob("*.csv")):
        try:
            rows = _rows(path)
        except UnicodeDecodeError:
            continue
        codes += [r.get("房屋编码") for r in rows if r.get("房屋编码")]
    return codes


def _birth(row: dict) -> str:
    """The birth date the census row's ID states (its 出生日期 column is spelled a different way in each file)."""
    try:
        return dt.datetime.strptime(row["公民身份号码"][6:14], "%Y%m%d").date().isoformat()
    except ValueError:
        return ""


def _phone(row: dict) -> str:
    return next((row[k] for k in ("联系电话", "联系方式", "电话", "手机号码", "手机号") if row.get(k)), "")


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def add_movers(out: Path, *, per_district: int, as_of: dt.date, seed: int = 7) -> int:
    """Write the movers' files into ``out/<代码>/``; returns how many persons moved."""
    out = Path(out)
    codes = sorted(p.name for p in out.iterdir() if p.is_dir() and p.name.isdigit())
    if len(codes) < 2 or per_district <= 0:
        return 0
    rng = np.random.default_rng([seed, 25])
    moved = 0
    for i, code in enumerate(codes):
        new = codes[(i + 1) % len(codes)]
        census, houses = _census(out / code), _houses(out / new)
        if not census or not houses:
            continue
        seen, picked = set(), []
        for j in rng.permutation(len(census)):
            if census[j]["公民身份号码"] not in seen:
                seen.add(census[j]["公民身份号码"])
                picked.append(census[j])
            if len(picked) == per_district:
                break
        residents, visits, deaths = [], [], []
        for k, r in enumerate(picked):
            arrived = as_of - dt.timedelta(days=int(rng.integers(5, 40)))
            house = houses[int(rng.integers(len(houses)))]
            if k % 7 == 6:
                # died soon after moving, before anyone collected them there: the new district knows only the death
                deaths.append([f"SW{new}{k:06d}", r["公民身份号码"], r["姓名"], arrived.isoformat()])
            else:
                id_number = r["公民身份号码"]
                if k % 4 == 3:
                    # no readable ID: left blank, or cut short (its last digits lost), every other one
                    id_number = "" if k % 8 == 3 else id_number[:16]
                residents.append([f"QR{new}{k:06d}", r["姓名"], id_number, r.get("性别", ""), _birth(r), _phone(r),
                                  house, r.get("人员类型") or "户籍人口",
                                  arrived.isoformat()])
            if k % 3 == 0:
                visits.append([f"QC{code}{k:06d}", r["房屋编码"], r["姓名"], r["公民身份号码"],
                               (arrived - dt.timedelta(days=30)).isoformat(), "已搬离"])
        _write(out / new / "residents" / f"{new}迁入人员实有人口采集.csv",
               ["记录编号", "姓名", "公民身份号码", "性别", "出生日期", "联系电话", "房屋编码", "人员类别", "采集日期"],
               residents)
        if visits:
            _write(out / code / "visits" / f"{code}迁出人员走访记录.csv",
                   ["记录编号", "房屋编码", "姓名", "公民身份号码", "走访日期", "走访结果"], visits)
        if deaths:
            _write(out / new / "deaths" / f"{new}迁入人员死亡登记.csv",
                   ["记录编号", "公民身份号码", "姓名", "死亡日期"], deaths)
        moved += len(picked)
    return moved


def flatten(out: Path, flat: Path) -> int:
    """The same files for one store: ``out/<代码>/<模板>/<文件>`` linked as ``flat/<模板>/<文件>`` (file names
    of a demo city never repeat across districts; a repeat is refused rather than overwritten)."""
    out, flat = Path(out), Path(flat)
    n = 0
    for path in sorted(out.glob("*/*/*")):
        if not path.is_file():
            continue
        target = flat / path.parent.name / path.name
        if target.exists():
            raise FileExistsError(f"{target} 已存在：两个区县有同名文件，不能并入一个收件箱")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.hardlink_to(path)
        n += 1
    return n
